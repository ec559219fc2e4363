// libFuzzer target: raw client bytes through everything the proxy does with a request header
// before it forwards anything. Beast's request parser with the proxy's limits, then target
// classification, the smuggling and loop checks, Max-Forwards, Basic credentials, request
// Cache-Control and cache key normalization. Any crash, sanitizer report or broken invariant
// (checked with abort()) is a finding.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cache/cache_control.hpp"
#include "cache/cache_key.hpp"
#include "cache/header_fields.hpp"
#include "proxy/message_checks.hpp"
#include "proxy/proxy_auth.hpp"
#include "proxy/request_target.hpp"

namespace http = boost::beast::http;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void check_request(const http::request<http::buffer_body, cacheproxy::Fields>& req) {
  static const std::vector<cacheproxy::ListenAddress> self{{"127.0.0.1", 3128}, {"::1", 3128}};
  // The shortcut for URLs already in normal form gives the parser's answer.
  const std::string_view raw_target(req.target().data(), req.target().size());
  require(cacheproxy::cache::normalize_cache_key(raw_target) ==
          cacheproxy::cache::normalize_parsed(raw_target));
  cacheproxy::RequestTarget target =
      cacheproxy::classify_target(req.method(), req.target(), self, "cacheproxy");
  // The shortcuts (a table of recent targets, a normal URL split by hand) change nothing.
  const cacheproxy::RequestTarget parsed = cacheproxy::classify_target(
      req.method(), req.target(), self, "cacheproxy", cacheproxy::TargetParse::parser_only);
  require(target.kind == parsed.kind && target.host == parsed.host &&
          target.port == parsed.port && target.path == parsed.path && target.url == parsed.url &&
          target.reason == parsed.reason && target.normal_url == parsed.normal_url);
  switch (target.kind) {
    case cacheproxy::TargetKind::forward:
      require(!target.host.empty() && target.port != 0);
      require(!target.path.empty() && target.path.front() == '/');
      // A URL the proxy forwards always has a cache key; a normal one is its own.
      require(cacheproxy::cache::normalize_cache_key(target.url).has_value());
      require(!target.normal_url || cacheproxy::cache::normalize_parsed(target.url) == target.url);
      break;
    case cacheproxy::TargetKind::connect:
      require(!target.host.empty() && target.port != 0);
      break;
    case cacheproxy::TargetKind::local:
      require(!target.path.empty());
      break;
    case cacheproxy::TargetKind::invalid:
      require(!target.reason.empty());
      break;
    case cacheproxy::TargetKind::https_absolute:
      break;
  }
  cacheproxy::FramingCheck framing = cacheproxy::check_framing(req.base());
  require(framing.ok || !framing.reason.empty());
  (void)cacheproxy::via_names_self(req.base(), "cacheproxy");
  (void)cacheproxy::max_forwards(req.base());
  (void)cacheproxy::cache::parse_request_cache_control(req.base());
  for (const auto& field : req.base()) {
    if (field.name() != http::field::proxy_authorization) continue;
    if (auto credentials = cacheproxy::parse_basic_credentials(field.value()))
      require(credentials->user.find(':') == std::string::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The session's parser: header limit, body left on the socket (header only here).
  http::request_parser<http::buffer_body, cacheproxy::FieldsAllocator<char>> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(1024 * 1024);
  parser.eager(false);
  boost::system::error_code ec;
  // Fed in two pieces, as a socket would deliver them: the split point comes from the input.
  std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
  std::size_t used = parser.put(boost::asio::buffer(input.data(), split), ec);
  std::string rest(input.substr(used));
  if (ec == http::error::need_more) ec = {};
  // Beast's reads never put an empty buffer (asio::buffer of an empty string is a null
  // pointer, which Beast's field parser offsets: undefined behaviour in the harness only).
  if (!ec && !parser.is_header_done() && !rest.empty()) parser.put(boost::asio::buffer(rest), ec);
  if (!ec && parser.is_header_done()) check_request(parser.get());
  return 0;
}
