// The relayed header (proxy/relay_header.hpp) must be byte for byte what the path it replaced
// produced: the origin's fields copied into a Beast header, hop-by-hop ones erased, Date added
// if missing, Via appended, the range and framing set, then Beast's serializer.
#include "proxy/relay_header.hpp"

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "cache/header_fields.hpp"
#include "cache/hop_by_hop.hpp"
#include "cache/policy.hpp"
#include "proxy/request_target.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
using namespace cacheproxy;

namespace {

const cache::TimePoint kReceived{std::chrono::seconds(1'764'000'000)};

// The header of message as Beast's serializer writes it.
template <bool isRequest>
std::string serialized_header(
    http::message<isRequest, http::empty_body, cacheproxy::Fields>& message) {
  http::serializer<isRequest, http::empty_body, cacheproxy::Fields> sr{message};
  sr.split(true);
  std::string bytes;
  boost::system::error_code ec;
  while (!sr.is_header_done()) {
    sr.next(ec, [&](boost::system::error_code&, const auto& buffers) {
      for (auto b : beast::buffers_range_ref(buffers))
        bytes.append(static_cast<const char*>(b.data()), b.size());
      sr.consume(beast::buffer_bytes(buffers));
    });
    REQUIRE_FALSE(ec);
  }
  return bytes;
}

// The previous path, as origin_fetch.cpp wrote it.
std::string beast_header(const cacheproxy::Fields& origin, const RelayHeader& h) {
  http::response<http::empty_body, cacheproxy::Fields> out;
  out.result(h.status);
  out.reason(h.reason);
  out.version(h.version);
  for (const auto& field : origin) out.insert(field.name_string(), field.value());
  cache::remove_hop_by_hop(out.base());
  cache::add_date_if_missing(out.base(), h.response_time);
  append_via(out.base(), h.version, h.visible_hostname);
  if (!h.content_range.empty()) out.set(http::field::content_range, h.content_range);
  if (h.framing == RelayFraming::length) out.content_length(h.content_length);
  if (h.framing == RelayFraming::chunked) out.chunked(true);
  out.keep_alive(h.keep_alive);
  return serialized_header(out);
}

std::string relay_header(const cacheproxy::Fields& origin, const RelayHeader& h) {
  fmt::memory_buffer out;
  append_relay_header(out, origin, h);
  return fmt::to_string(out);
}

cacheproxy::Fields typical_origin() {
  cacheproxy::Fields f;
  f.insert("Server", "nginx/1.22.1");
  f.insert("Date", "Mon, 24 Nov 2025 16:00:00 GMT");
  f.insert("Content-Type", "text/html; charset=utf-8");
  f.insert("Content-Length", "16384");
  f.insert("Last-Modified", "Mon, 24 Nov 2025 15:00:00 GMT");
  f.insert("Connection", "keep-alive");
  f.insert("ETag", "\"6925-4000\"");
  f.insert("Cache-Control", "max-age=3600");
  f.insert("Accept-Ranges", "bytes");
  return f;
}

// A header to relay with the fields every case sets; the rest are set by the case.
RelayHeader relayed(unsigned version, unsigned status, std::string_view reason,
                    RelayFraming framing = RelayFraming::as_received,
                    std::uint64_t content_length = 0, bool keep_alive = true) {
  RelayHeader h;
  h.version = version;
  h.status = status;
  h.reason = reason;
  h.response_time = kReceived;
  h.visible_hostname = "cacheproxy";
  h.framing = framing;
  h.content_length = content_length;
  h.keep_alive = keep_alive;
  return h;
}

}  // namespace

TEST_CASE("relayed header: a typical origin response, as Beast serialized it", "[relay_header]") {
  const cacheproxy::Fields origin = typical_origin();
  for (unsigned version : {10u, 11u}) {
    for (bool keep : {false, true}) {
      RelayHeader h = relayed(version, 200, "OK", RelayFraming::length, 16384, keep);
      h.visible_hostname = "proxy.lan";
      INFO(version << " keep-alive " << keep);
      CHECK(relay_header(origin, h) == beast_header(origin, h));
    }
  }
}

TEST_CASE("relayed header: hop-by-hop and Connection-named fields go, Via after the last Via",
          "[relay_header]") {
  cacheproxy::Fields origin;
  origin.insert("Via", "1.1 upstream-a");
  origin.insert("Connection", "X-Private, Keep-Alive");
  origin.insert("Keep-Alive", "timeout=5");
  origin.insert("X-Private", "secret");
  origin.insert("Set-Cookie", "a=1");
  origin.insert("Transfer-Encoding", "chunked");
  origin.insert("Trailer", "X-Checksum");
  origin.insert("Via", "1.0 upstream-b");
  origin.insert("Proxy-Authenticate", "Basic realm=\"x\"");
  origin.insert("Upgrade", "h2c");
  origin.insert("connection", "x-other");
  origin.insert("X-Other", "named by the second Connection line");
  origin.insert("Set-Cookie", "b=2");
  const RelayHeader h = relayed(11, 200, "OK", RelayFraming::chunked);
  const std::string ours = relay_header(origin, h);
  CHECK(ours == beast_header(origin, h));
  CHECK(ours.find("secret") == std::string::npos);
  CHECK(ours.find("X-Other") == std::string::npos);
  CHECK(ours.find("1.0 upstream-b\r\nVia: 1.1 cacheproxy") != std::string::npos);
  CHECK(ours.find("Date: ") != std::string::npos);  // the origin sent none
}

TEST_CASE("relayed header: a range cut from a whole body, bodyless answers, odd statuses",
          "[relay_header]") {
  cacheproxy::Fields origin = typical_origin();
  RelayHeader range = relayed(11, 206, "Partial Content", RelayFraming::length, 100);
  range.content_range = "bytes 0-99/16384";
  CHECK(relay_header(origin, range) == beast_header(origin, range));

  // HEAD, 304: no framing of ours, the origin's Content-Length as received.
  const RelayHeader head = relayed(11, 304, "Not Modified");
  CHECK(relay_header(origin, head) == beast_header(origin, head));
  CHECK(relay_header(origin, head).find("Content-Length: 16384\r\n") != std::string::npos);

  // An HTTP/1.0 client and a body of unknown length: it ends with the connection.
  origin.erase(http::field::content_length);
  const RelayHeader close = relayed(10, 200, "OK", RelayFraming::close_delimited, 0, false);
  CHECK(relay_header(origin, close) == beast_header(origin, close));

  // A status Beast has no name for, and an empty reason phrase.
  const RelayHeader odd = relayed(11, 299, "Custom", RelayFraming::length);
  CHECK(relay_header(origin, odd) == beast_header(origin, odd));
  CHECK(relay_header(origin, odd).starts_with("HTTP/1.1 299 Custom\r\n"));
  const RelayHeader unnamed = relayed(11, 404, "", RelayFraming::length);
  CHECK(relay_header(origin, unnamed) == beast_header(origin, unnamed));
  CHECK(relay_header(origin, unnamed).starts_with("HTTP/1.1 404 Not Found\r\n"));
}

TEST_CASE("relayed chunk prefixes are the size in hex", "[relay_header]") {
  char storage[20];
  CHECK(relay_chunk_prefix(1, storage) == "1\r\n");
  CHECK(relay_chunk_prefix(16384, storage) == "4000\r\n");
  CHECK(relay_chunk_prefix(0xffffffffffffffffull, storage) == "ffffffffffffffff\r\n");
}

TEST_CASE("a bodyless request header is written as Beast's serializer writes it",
          "[relay_header]") {
  http::request<http::empty_body, cacheproxy::Fields> req;
  req.method(http::verb::get);
  req.target("/a/b?c=d%20e");
  req.version(11);
  req.set(http::field::host, "example.test:8080");
  req.insert("User-Agent", "curl/7.88.1");
  req.insert("Accept", "*/*");
  req.insert("X-Custom", "one");
  req.insert("x-custom", "two");
  req.insert("Via", "1.1 cacheproxy (cacheproxy/1)");
  req.keep_alive(true);

  const std::string beast_bytes = serialized_header(req);
  fmt::memory_buffer ours;
  append_request_header(ours, req.base());
  CHECK(fmt::to_string(ours) == beast_bytes);
  CHECK(beast_bytes.starts_with("GET /a/b?c=d%20e HTTP/1.1\r\nHost: example.test:8080\r\n"));

  req.method_string("PURGE");  // a method Beast has no name for
  fmt::memory_buffer purge;
  append_request_header(purge, req.base());
  CHECK(fmt::to_string(purge).starts_with("PURGE /a/b?c=d%20e HTTP/1.1\r\n"));
}
