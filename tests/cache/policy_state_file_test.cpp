// The policy state file (cache/policy_state_file.hpp): written whole through a temporary,
// taken once, and a failed write leaves nothing behind.
#include "cache/policy_state_file.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "temp_dir.hpp"

using namespace cacheproxy::cache;
using cacheproxy::cache::testing::TempDir;

TEST_CASE("a policy state file is written whole and taken once") {
  TempDir dir;
  const std::string path = dir.path() + "/policy_state";
  std::string state(3 << 20, '\0');
  for (std::size_t i = 0; i < state.size(); ++i)
    state[i] = static_cast<char>(i * 2654435761u >> 13);

  REQUIRE(write_policy_state_file(path, "an older state"));
  REQUIRE(write_policy_state_file(path, state));  // replaces it
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  const std::optional<std::string> taken = take_policy_state_file(path);
  REQUIRE(taken);
  CHECK(*taken == state);
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(take_policy_state_file(path));
}

TEST_CASE("a policy state file that cannot be written is reported and leaves nothing") {
  TempDir dir;
  const std::string path = dir.path() + "/missing/policy_state";
  CHECK_FALSE(write_policy_state_file(path, "state"));
  CHECK(std::filesystem::is_empty(dir.path()));
  CHECK_FALSE(take_policy_state_file(path));
}
