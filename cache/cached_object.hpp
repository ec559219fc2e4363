// Builds the objects the memory tier holds: a stored entry plus its header fields serialized
// once for the wire (see CachedObject::wire_fields).
#pragma once

#include <string>

#include "cache/entry.hpp"

namespace cacheproxy::cache {

// The header fields of `meta` as CachedObject::wire_fields holds them.
std::string serialize_wire_fields(const EntryMeta& meta);

CachedObjectPtr make_cached_object(EntryMeta meta, std::string body);

}  // namespace cacheproxy::cache
