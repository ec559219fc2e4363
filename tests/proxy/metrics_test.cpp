// /metrics: the counters in Prometheus' text format, fetched over a socket and read back by
// the official Python client's parser (Debian's python3-prometheus-client).
#include "proxy/metrics.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "proxy/stats.hpp"
#include "proxy/version.hpp"
#include "support/command.hpp"
#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace http = boost::beast::http;
namespace json = boost::json;
using cacheproxy::ResultCode;

namespace {

// Debian installs the parser for its own interpreter; a python3 earlier on PATH (pyenv, a
// virtualenv) may not have it.
std::string python() {
  return std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

// The families as the parser read them, by family name. Fails the test if the parser rejects
// the text.
std::map<std::string, json::object> parse_exposition(const std::filesystem::path& dir,
                                                     const std::string& text) {
  std::string input = (dir / "metrics.txt").string();
  std::ofstream(input) << text;
  CommandResult parsed = run_command(
      python() + " " + shell_quote(CACHEPROXY_SOURCE_DIR "/tests/proxy/prometheus_parse.py"),
      input);
  INFO(parsed.output);
  REQUIRE(parsed.exit_code == 0);
  std::map<std::string, json::object> families;
  json::value document = json::parse(parsed.output);  // outlives the loop over its array
  for (const json::value& family : document.as_array()) {
    families[json::value_to<std::string>(family.at("name"))] = family.as_object();
  }
  return families;
}

// The value of the sample named `name` whose labels include all of `labels`; -1 if none.
double sample(const json::object& family, const std::string& name,
              const std::map<std::string, std::string>& labels = {}) {
  for (const json::value& s : family.at("samples").as_array()) {
    if (s.at("name").as_string() != name) continue;
    const json::object& have = s.at("labels").as_object();
    bool match = true;
    for (const auto& [key, value] : labels) {
      const json::value* v = have.if_contains(key);
      match = match && v != nullptr && v->as_string() == value;
    }
    if (match) return s.at("value").to_number<double>();
  }
  return -1;
}

}  // namespace

TEST_CASE("metrics: per-method counts and duration buckets", "[metrics]") {
  using namespace std::chrono_literals;
  cacheproxy::Stats stats;
  stats.observe_request(ResultCode::tcp_miss, "GET", 5ms);  // on a bound: "le" includes it
  stats.observe_request(ResultCode::tcp_miss, "GET", 5001us);
  stats.observe_request(ResultCode::tcp_mem_hit, "HEAD", 0ms);
  stats.observe_request(ResultCode::none, "NONE", 2min);    // past the last bound
  stats.observe_request(ResultCode::tcp_miss, "get", 1ms);  // methods are case-sensitive
  cacheproxy::StatsSnapshot s = stats.snapshot();

  auto miss = static_cast<std::size_t>(ResultCode::tcp_miss);
  CHECK(s.requests_by_result[miss][cacheproxy::method_slot("GET")] == 2);
  CHECK(s.requests_by_result[miss][cacheproxy::method_slot("other")] == 1);
  CHECK(cacheproxy::method_name(cacheproxy::method_slot("NONE")) == "other");
  CHECK(cacheproxy::method_name(cacheproxy::method_slot("PATCH")) == "PATCH");
  const auto& counts = s.request_durations.counts;
  CHECK(counts[0] == 3);  // 0 ms, 1 ms, 5 ms
  CHECK(counts[1] == 1);  // 5.001 ms
  CHECK(counts.back() == 1);
  CHECK(s.request_durations.count() == 5);
  CHECK(s.request_durations.sum == 5ms + 5001us + 2min + 1ms);

  CHECK(cacheproxy::result_label(ResultCode::tcp_hit) == "hit");
  CHECK(cacheproxy::result_label(ResultCode::tcp_mem_hit) == "mem_hit");
  CHECK(cacheproxy::result_label(ResultCode::tcp_refresh_unmodified) == "refresh_unmodified");
  CHECK(cacheproxy::result_label(ResultCode::none) == "none");
}

TEST_CASE("metrics: /metrics over a socket parses with Prometheus' parser", "[metrics][admin]") {
  const std::string alpha = "alpha body";
  OriginServer origin([&](const OriginRequest& req) {
    std::string body = req.target == "/a" ? alpha : "other body";
    return make_response(200, body, {{"Cache-Control", "max-age=3600"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());

  client.get(origin.url("/a"));  // TCP_MISS
  client.get(origin.url("/a"));  // TCP_HIT (disk), promoted to memory
  client.get(origin.url("/a"));  // TCP_MEM_HIT
  client.request(http::verb::head, origin.url("/b"));
  client.request(http::verb::post, origin.url("/c"), {}, "posted");
  client.request(http::verb::propfind, origin.url("/d"));  // counted as method "other"
  client.get("/stats");                                    // answered by the proxy itself
  // A request's counters are updated just before its access-log line is written.
  REQUIRE(proxy.access_log_lines(7).size() == 7);

  Response res = client.get("/metrics");
  REQUIRE(res.result_int() == 200);
  CHECK(std::string(res[http::field::content_type]).starts_with("text/plain; version=0.0.4"));
  // No URL and no client address in any label.
  CHECK(res.body().find("127.0.0.1") == std::string::npos);
  CHECK(res.body().find("http://") == std::string::npos);

  auto families = parse_exposition(dir.path(), res.body());
  // The parser names a counter's family without "_total"; its samples keep it.
  REQUIRE(families.count("cacheproxy_requests"));
  const json::object& requests = families["cacheproxy_requests"];
  CHECK(requests.at("type") == "counter");
  std::string total = "cacheproxy_requests_total";
  CHECK(sample(requests, total, {{"result", "miss"}, {"method", "GET"}}) == 1);
  CHECK(sample(requests, total, {{"result", "hit"}, {"method", "GET"}}) == 1);
  CHECK(sample(requests, total, {{"result", "mem_hit"}, {"method", "GET"}}) == 1);
  CHECK(sample(requests, total, {{"result", "miss"}, {"method", "HEAD"}}) == 1);
  CHECK(sample(requests, total, {{"result", "miss"}, {"method", "POST"}}) == 1);
  CHECK(sample(requests, total, {{"result", "miss"}, {"method", "other"}}) == 1);
  CHECK(sample(requests, total, {{"result", "none"}, {"method", "GET"}}) == 1);
  CHECK(requests.at("samples").as_array().size() == 7);

  REQUIRE(families.count("cacheproxy_response_bytes"));
  const json::object& bytes = families["cacheproxy_response_bytes"];
  std::string bytes_total = "cacheproxy_response_bytes_total";
  CHECK(sample(bytes, bytes_total, {{"source", "cache"}}) == 2.0 * alpha.size());
  CHECK(sample(bytes, bytes_total, {{"source", "origin"}}) >= alpha.size());

  REQUIRE(families.count("cacheproxy_request_duration_seconds"));
  const json::object& durations = families["cacheproxy_request_duration_seconds"];
  CHECK(durations.at("type") == "histogram");
  std::string buckets = "cacheproxy_request_duration_seconds_bucket";
  CHECK(sample(durations, buckets, {{"le", "+Inf"}}) == 7);
  CHECK(sample(durations, "cacheproxy_request_duration_seconds_count") == 7);
  CHECK(sample(durations, "cacheproxy_request_duration_seconds_sum") >= 0);
  // Cumulative: never decreasing from one bound to the next.
  double previous = 0;
  std::size_t bucket_count = 0;
  for (const json::value& s : durations.at("samples").as_array()) {
    if (s.at("name").as_string() != buckets) continue;
    double value = s.at("value").to_number<double>();
    CHECK(value >= previous);
    previous = value;
    ++bucket_count;
  }
  CHECK(bucket_count == cacheproxy::kDurationBuckets.size() + 1);

  REQUIRE(families.count("cacheproxy_cache_objects"));
  CHECK(families["cacheproxy_cache_objects"].at("type") == "gauge");
  CHECK(sample(families["cacheproxy_cache_objects"], "cacheproxy_cache_objects",
               {{"tier", "disk"}}) >= 1);
  CHECK(sample(families["cacheproxy_cache_objects"], "cacheproxy_cache_objects",
               {{"tier", "memory"}}) >= 1);
  REQUIRE(families.count("cacheproxy_cache_bytes"));
  CHECK(sample(families["cacheproxy_cache_bytes"], "cacheproxy_cache_bytes", {{"tier", "disk"}}) >
        0);
  REQUIRE(families.count("cacheproxy_cache_evictions"));
  CHECK(sample(families["cacheproxy_cache_evictions"], "cacheproxy_cache_evictions_total") == 0);
  // Every origin request after the first went over the same kept-alive connection.
  REQUIRE(families.count("cacheproxy_origin_connections_reused"));
  CHECK(sample(families["cacheproxy_origin_connections_reused"],
               "cacheproxy_origin_connections_reused_total") >= 1);
  CHECK(origin.connection_count() == 1);
  REQUIRE(families.count("cacheproxy_tunnels_active"));
  CHECK(families["cacheproxy_tunnels_active"].at("type") == "gauge");
  CHECK(sample(families["cacheproxy_tunnels_active"], "cacheproxy_tunnels_active") == 0);
  REQUIRE(families.count("cacheproxy_build_info"));
  CHECK(sample(families["cacheproxy_build_info"], "cacheproxy_build_info",
               {{"version", cacheproxy::kVersion}}) == 1);
}

TEST_CASE("metrics: evictions and disk bytes follow the cache budget", "[metrics]") {
  // Evictions show in the counter once the disk budget is exceeded.
  OriginServer origin([](const OriginRequest& req) {
    return make_response(200, std::string(64 * 1024, 'x'),
                         {{"Cache-Control", "max-age=3600"}, {"X-Path", req.target}});
  });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) {
    c.cache_size = 256 * 1024;
    c.memory_cache_size = 0;
  });
  ProxyClient client(proxy.port());
  constexpr int kObjects = 12;
  for (int i = 0; i < kObjects; ++i) client.get(origin.url("/big" + std::to_string(i)));
  REQUIRE(proxy.access_log_lines(kObjects).size() == kObjects);
  Response res = client.get("/metrics");
  auto families = parse_exposition(dir.path(), res.body());
  CHECK(sample(families["cacheproxy_cache_evictions"], "cacheproxy_cache_evictions_total") > 0);
  CHECK(sample(families["cacheproxy_cache_bytes"], "cacheproxy_cache_bytes", {{"tier", "disk"}}) <=
        256 * 1024);
  CHECK(sample(families["cacheproxy_request_duration_seconds"],
               "cacheproxy_request_duration_seconds_count") == kObjects);
}
