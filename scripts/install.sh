#!/usr/bin/env bash
# Installs cacheproxy as a system service on Debian 12: the binary in /usr/local/bin, the
# config in /etc/cacheproxy/ (an existing one is kept), the systemd unit and the logrotate
# rules, and a system user "cacheproxy". Safe to run again, which is how to upgrade: the
# cache (/var/cache/cacheproxy) and the logs are never touched.
#
#   scripts/install.sh [--binary PATH] [--enable] [--start]
#
#   --binary PATH  install this executable (default: build/proxy/cacheproxy, built in
#                  Release first if it is missing)
#   --enable       start the service at boot
#   --start        start the service now, or restart it if it runs (to load a new binary)
#
# Nothing is started or enabled unless asked. With DESTDIR=/some/dir the files go under that
# folder instead, and no user is created and systemctl is not called (for packaging and tests).
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
enable=0
start=0
while (( $# )); do
  case "$1" in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --binary=*) binary=${1#--binary=}; shift ;;
    --enable) enable=1; shift ;;
    --start) start=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

DESTDIR=${DESTDIR:-}
staged=0
[[ -n "$DESTDIR" ]] && staged=1
if (( ! staged )) && [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: run as root (sudo scripts/install.sh), or set DESTDIR to stage the files" >&2
  exit 1
fi

if [[ -z "$binary" ]]; then
  binary=build/proxy/cacheproxy
  [[ -x "$binary" ]] || scripts/build.sh release build
fi
[[ -x "$binary" ]] || { echo "install.sh: no executable at $binary" >&2; exit 1; }

bin_dir=$DESTDIR/usr/local/bin
conf_dir=$DESTDIR/etc/cacheproxy
unit_dir=$DESTDIR/etc/systemd/system
logrotate_dir=$DESTDIR/etc/logrotate.d
doc_dir=$DESTDIR/usr/local/share/doc/cacheproxy

# The service's own user: no login, no home of its own.
if (( ! staged )) && ! id -u cacheproxy >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /var/lib/cacheproxy --no-create-home \
    --shell /usr/sbin/nologin --comment "cacheproxy caching proxy" cacheproxy
  echo "created system user cacheproxy"
fi

# install(1) writes a new file and renames it: a running proxy keeps its old binary.
install -D -m 0755 "$binary" "$bin_dir/cacheproxy"

# The shipped config, with the folders the unit provides (CacheDirectory=, LogsDirectory=).
install -d -m 0755 "$conf_dir"
defaults=$(mktemp)
trap 'rm -f "$defaults"' EXIT
sed -e 's|^cache_dir = .*|cache_dir = /var/cache/cacheproxy|' \
    -e 's|^access_log = .*|access_log = /var/log/cacheproxy/access.log|' \
    conf/cacheproxy.conf > "$defaults"
if [[ -e "$conf_dir/cacheproxy.conf" ]]; then
  # The admin's file stays; the new defaults sit next to it for comparison.
  install -m 0644 "$defaults" "$conf_dir/cacheproxy.conf.dist"
  echo "kept $conf_dir/cacheproxy.conf; this version's defaults: $conf_dir/cacheproxy.conf.dist"
else
  install -m 0644 "$defaults" "$conf_dir/cacheproxy.conf"
  echo "installed $conf_dir/cacheproxy.conf"
fi
install -D -m 0644 conf/cacheproxy.service "$unit_dir/cacheproxy.service"
install -D -m 0644 conf/cacheproxy.logrotate "$logrotate_dir/cacheproxy"
install -D -m 0644 docs/LAN-GATEWAY.md "$doc_dir/LAN-GATEWAY.md"
echo "installed $bin_dir/cacheproxy, $unit_dir/cacheproxy.service, $logrotate_dir/cacheproxy"

# An admin's config from an older version may name a setting this one rejects: say so now,
# not when the service fails to start.
if ! "$bin_dir/cacheproxy" --config "$conf_dir/cacheproxy.conf" --check-config >/dev/null; then
  echo "install.sh: $conf_dir/cacheproxy.conf does not pass --check-config (above);" \
       "fix it, then start the service" >&2
  exit 1
fi

if (( staged )); then exit 0; fi
if [[ ! -d /run/systemd/system ]]; then
  echo "systemd is not running here: start it by hand with" \
       "cacheproxy --config /etc/cacheproxy/cacheproxy.conf"
  exit 0
fi
systemctl daemon-reload
if (( enable )); then systemctl enable cacheproxy.service; fi
if (( start )); then
  # A restart loads the new binary; the cache stays in /var/cache/cacheproxy.
  systemctl restart cacheproxy.service
  systemctl --no-pager --lines=5 status cacheproxy.service || true
else
  echo "not started; to start now and at boot: systemctl enable --now cacheproxy"
fi
