// The eviction policy's saved state (EvictionPolicy::save_state) as a file beside the store.
//
// The state is mostly the frequency sketch: 4 MiB per GiB of cache_size. Put into LevelDB it
// was copied into a write batch and a memtable on top of the string (three copies at once,
// 24 MiB on the load benchmark's 2 GiB cache, the highest resident size of the whole run,
// reached while shutting down); a file takes one. It also makes "saved on a clean close
// only" hold: the file is removed when it is loaded, so a crash later leaves none to load.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cacheproxy::cache {

// Writes state to path through a temporary file, synced, then renamed over path, so a crash
// leaves the old file or the new one. Returns false (and leaves no temporary) on failure.
bool write_policy_state_file(const std::string& path, std::string_view state);

// Reads the file at path and removes it; nullopt if there is none or it cannot be read.
std::optional<std::string> take_policy_state_file(const std::string& path);

}  // namespace cacheproxy::cache
