#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in build-fuzz/ and runs
# each for a bounded time, starting from its seed corpus in tests/fuzz/<target>/.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET...]
# New inputs go to build-fuzz/corpus/<target>/ (the seeds in the repository are only read);
# a crashing input is saved to build-fuzz/artifacts/ and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
seconds=${1:-60}
shift || true
targets=("$@")
(( ${#targets[@]} )) || targets=(request entry)
dir=build-fuzz
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCACHEPROXY_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++)
if command -v ccache >/dev/null; then flags+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j2 --target "${targets[@]/%/_fuzz}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$dir/artifacts"
for target in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$target"
  echo "fuzz: $target for ${seconds}s"
  # -timeout: one input taking over 10 s is a finding (a hang); -rss_limit_mb bounds memory.
  log="$dir/${target}.log"
  status=0
  "$dir/tests/fuzz/${target}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$dir/artifacts/${target}-" \
    "$dir/corpus/$target" "tests/fuzz/$target" >"$log" 2>&1 || status=$?
  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || true
  if (( status != 0 )); then
    grep -E "ERROR|runtime error|SUMMARY|artifact|^ +#[0-9]+ " "$log" | head -40 >&2 || true
    echo "fuzz: $target FAILED (exit $status); full output in $log, input in $dir/artifacts/" >&2
    exit 1
  fi
done
echo "fuzz: all targets ran ${seconds}s without findings"
