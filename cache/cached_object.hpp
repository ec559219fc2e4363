// Builds the objects the memory tier holds: a stored entry plus its header fields serialized
// once for the wire (see CachedObject::wire_fields).
#pragma once

#include <string>

#include "cache/entry.hpp"
#include "cache/header_fields.hpp"
#include "cache/stored_facts.hpp"

namespace cacheproxy::cache {

// A whole entry in memory: what the memory tier holds. Built by make_cached_object(), which
// also fills wire_fields and facts.
struct CachedObject {
  EntryMeta meta;
  std::string body;
  // meta.headers as they go on the wire ("Name: value\r\n" each), minus the fields every
  // response sets for itself (Age, Content-Length, Transfer-Encoding, Connection), with any
  // stored Via lines last so the proxy's own Via can follow them. Serialized once, so a memory
  // hit writes it without rebuilding a header per request.
  std::string wire_fields;
  // A qualified no-cache names fields to leave out unless revalidated (RFC 9111 §5.2.2.4):
  // such a hit cannot use wire_fields as they are.
  bool withholds_fields = false;
  // What the policy reads from meta.headers, parsed once: stored_facts(meta).
  StoredFacts facts;
  // media_type(meta.headers), for the access log of every hit.
  std::string media_type;
};

// The media type of a message (its Content-Type without parameters), or "" if it has none.
std::string media_type(const Fields& fields);

// The header fields of `meta` as CachedObject::wire_fields holds them.
std::string serialize_wire_fields(const EntryMeta& meta);

CachedObjectPtr make_cached_object(EntryMeta meta, std::string body);

}  // namespace cacheproxy::cache
