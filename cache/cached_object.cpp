#include "cache/cached_object.hpp"

#include "cache/header_fields.hpp"
#include "cache/policy.hpp"

namespace cacheproxy::cache {

namespace {

// Fields a served response sets for itself: its age (RFC 9111 §5.1), its framing and its
// connection handling. The stored values must never reach the client next to the new ones.
bool set_per_response(const Fields::value_type& field) {
  switch (field.name()) {
    case http::field::age:
    case http::field::content_length:
    case http::field::transfer_encoding:
    case http::field::connection:
    case http::field::proxy_connection:
    case http::field::keep_alive:
      return true;
    default:
      return false;
  }
}

void append_line(std::string& out, const Fields::value_type& field) {
  out.append(field.name_string());
  out.append(": ");
  out.append(field.value());
  out.append("\r\n");
}

}  // namespace

std::string serialize_wire_fields(const EntryMeta& meta) {
  std::string out;
  std::size_t size = 0;
  for (const auto& field : meta.headers) size += field.name_string().size() + field.value().size() + 4;
  out.reserve(size);
  for (const auto& field : meta.headers) {
    if (set_per_response(field) || field.name() == http::field::via) continue;
    append_line(out, field);
  }
  // RFC 9110 §7.6.3: the proxy's own Via entry follows those of earlier recipients; keeping
  // the stored Via lines last puts them right before it, one list in order.
  for (const auto& field : meta.headers) {
    if (field.name() == http::field::via) append_line(out, field);
  }
  return out;
}

std::string media_type(const Fields& fields) {
  auto it = fields.find(boost::beast::http::field::content_type);
  if (it == fields.end()) return {};
  std::string_view value = it->value();
  return std::string(value.substr(0, value.find(';')));
}

CachedObjectPtr make_cached_object(EntryMeta meta, std::string body) {
  std::string wire = serialize_wire_fields(meta);
  const bool withholds = !fields_withheld_unvalidated(meta).empty();
  StoredFacts facts = stored_facts(meta);
  std::string type = media_type(meta.headers);
  return std::make_shared<const CachedObject>(CachedObject{std::move(meta), std::move(body),
                                                           std::move(wire), withholds,
                                                           std::move(facts), std::move(type)});
}

}  // namespace cacheproxy::cache
