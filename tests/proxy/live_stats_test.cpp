// The live page's figures: the traffic history and its windows, the heavy-hitters ranking of
// hosts (pure), and /stats carrying them after real traffic through the proxy.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

#include "proxy/request_target.hpp"
#include "proxy/top_hosts.hpp"
#include "proxy/traffic_history.hpp"
#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy;
using namespace cacheproxy::testing;
namespace json = boost::json;
using std::chrono::seconds;

namespace {

TrafficSample sample_at(int second, std::uint64_t requests, std::uint64_t hits,
                        std::uint64_t misses, std::uint64_t cached, std::uint64_t fetched) {
  TrafficSample s;
  s.time = std::chrono::system_clock::time_point(seconds(1'700'000'000 + second));
  s.requests = requests;
  s.disk_hits = hits;
  s.misses = misses;
  s.bytes_from_cache = cached;
  s.bytes_from_origin = fetched;
  return s;
}

}  // namespace

TEST_CASE("live: a window is the difference from the sample that far back", "[live]") {
  TrafficHistory history;
  CHECK(history.window(sample_at(0, 1, 1, 0, 1, 0), seconds(300)).requests == 0);
  // One sample every 10 s for 20 minutes; each step 10 requests, 4 hits, 6 misses.
  for (int i = 0; i <= 120; ++i)
    history.record(sample_at(i * 10, i * 10u, i * 4u, i * 6u, i * 400u, i * 600u));
  TrafficSample now = sample_at(1205, 1210, 484, 726, 48'400, 72'600);
  TrafficWindow five = history.window(now, seconds(300));
  CHECK(five.seconds == Approx(305));  // from the sample at 900 s, the newest 300 s old
  CHECK(five.requests == 1210 - 900);
  CHECK(five.request_hit_ratio() == Approx(0.4));
  CHECK(five.byte_hit_ratio() == Approx(0.4));
  CHECK(five.requests_per_second() == Approx(310.0 / 305));
  // A window longer than the history starts at its oldest sample.
  TrafficWindow hour = history.window(now, seconds(3600));
  CHECK(hour.seconds == Approx(1205));
  CHECK(hour.requests == 1210);
  // The ring keeps one hour of samples, then drops the oldest.
  for (int i = 121; i < 1000; ++i) history.record(sample_at(i * 10, i, 0, 0, 0, 0));
  auto samples = history.samples();
  REQUIRE(samples.size() == kTrafficSamples);
  CHECK(samples.front().time == sample_at((1000 - kTrafficSamples) * 10, 0, 0, 0, 0, 0).time);
}

TEST_CASE("live: counters that move backwards give zero, not a wrapped number", "[live]") {
  TrafficWindow w = traffic_between(sample_at(0, 10, 5, 5, 50, 50), sample_at(10, 9, 5, 5, 50, 50));
  CHECK(w.requests == 0);
  CHECK(w.request_hit_ratio() == 0.0);
  CHECK(w.requests_per_second() == 0.0);
}

TEST_CASE("live: space-saving keeps the heavy hitters in bounded memory", "[live]") {
  SpaceSaving counter(8);
  // Two heavy hosts among 1,000 that appear once each.
  for (int i = 0; i < 1000; ++i) {
    counter.add("heavy-a", 3);
    counter.add("heavy-b", 2);
    counter.add("rare-" + std::to_string(i), 1);
  }
  auto top = counter.top(8);
  CHECK(top.size() == 8);
  REQUIRE(top.size() >= 2);
  CHECK(top[0].key == "heavy-a");
  CHECK(top[1].key == "heavy-b");
  // Counts are upper bounds, exact here since neither was ever evicted.
  CHECK(top[0].count - top[0].error <= 3000);
  CHECK(top[0].count >= 3000);
  CHECK(counter.top(1).size() == 1);
}

TEST_CASE("live: top hosts count cache results and tunnels, bytes saved from hits", "[live]") {
  TopHosts hosts;
  hosts.record("a.example", ResultCode::tcp_mem_hit, 1000);
  hosts.record("a.example", ResultCode::tcp_miss, 5000);
  hosts.record("b.example", ResultCode::tcp_hit, 9000);
  hosts.record("c.example", ResultCode::tcp_tunnel, 100);
  hosts.record("c.example", ResultCode::tcp_tunnel, 100);
  hosts.record("c.example", ResultCode::tcp_tunnel, 100);
  hosts.record("d.example", ResultCode::tcp_denied, 100);
  hosts.record("", ResultCode::tcp_miss, 100);
  auto by_requests = hosts.by_requests(10);
  REQUIRE(by_requests.size() == 3);
  CHECK(by_requests[0].host == "c.example");
  CHECK(by_requests[0].requests == 3);
  CHECK(by_requests[1].host == "a.example");
  CHECK(by_requests[1].bytes_saved == 1000);
  auto by_saved = hosts.by_bytes_saved(10);
  REQUIRE(by_saved.size() == 2);
  CHECK(by_saved[0].host == "b.example");
  CHECK(by_saved[0].bytes_saved == 9000);
  CHECK(by_saved[0].requests == 1);
}

TEST_CASE("live: hosts are taken from absolute URLs and CONNECT authorities", "[live]") {
  CHECK(host_of_target("http://Example.COM:8080/x?y") == "example.com");
  CHECK(host_of_target("http://user@host.example/") == "host.example");
  CHECK(host_of_target("http://[::1]:80/") == "[::1]");
  CHECK(host_of_target("secure.example:443") == "secure.example");
  CHECK(host_of_target("/stats").empty());
  CHECK(host_of_target("error:invalid-request") == "error");  // not a URL; harmless
}

TEST_CASE("live: a parsed target's host gives the same name as its URL", "[live]") {
  // What the session passes for a request whose target it parsed (RequestTarget::host).
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://Example.COM:8080/x?y", "Example.COM"},
      {"http://[::1]:80/", "::1"},
      {"secure.example:443", "secure.example"},
  };
  for (const auto& [target, parsed_host] : cases) {
    INFO(target);
    CHECK(host_key(parsed_host) == host_of_target(target));
  }
  // And the classifier's own host, for real targets.
  for (const auto& [method, target] :
       std::vector<std::pair<boost::beast::http::verb, std::string>>{
           {boost::beast::http::verb::get, "http://MiXed.Example:81/p"},
           {boost::beast::http::verb::get, "http://[2001:DB8::1]/"},
           {boost::beast::http::verb::connect, "Tunnel.Example:443"}}) {
    INFO(target);
    cacheproxy::RequestTarget parsed = cacheproxy::classify_target(method, target, {}, "proxy");
    CHECK(host_key(parsed.host) == host_of_target(target));
  }
}

TEST_CASE("live: /stats carries windows, history and top hosts after traffic", "[live][admin]") {
  OriginServer origin([](const OriginRequest&) {
    return make_response(200, std::string(1000, 'x'), {{"Cache-Control", "max-age=60"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  for (int i = 0; i < 4; ++i) client.get(origin.url("/same"));  // 1 miss, 3 hits
  client.get(origin.url("/other"));                             // 1 miss
  proxy.access_log_lines(5);  // top hosts are counted with the log line
  Response res = client.get("/stats");
  REQUIRE(res.result_int() == 200);
  json::object doc = json::parse(res.body()).as_object();
  const json::object& five = doc.at("windows").at("5m").as_object();
  CHECK(five.at("lookups").to_number<std::uint64_t>() == 5);
  CHECK(five.at("hits").to_number<std::uint64_t>() == 3);
  CHECK(five.at("request_hit_ratio").to_number<double>() == Approx(0.6));
  CHECK(five.at("request_hit_ratio").to_number<double>() ==
        Approx(doc.at("request_hit_ratio").to_number<double>()));
  const json::object& history = doc.at("history").as_object();
  CHECK(history.at("period_seconds").to_number<int>() == 10);
  CHECK(history.at("samples").as_array().size() >= 1);
  CHECK(history.at("current").as_array().at(5).to_number<std::uint64_t>() == 2);  // misses
  const json::array& top = doc.at("top_hosts").at("by_requests").as_array();
  REQUIRE(top.size() == 1);
  CHECK(top[0].at("host").as_string() == "127.0.0.1");
  CHECK(top[0].at("requests").to_number<std::uint64_t>() == 5);
  CHECK(top[0].at("bytes_saved").to_number<std::uint64_t>() > 3000);
  CHECK(doc.at("tunnels_active").to_number<std::uint64_t>() == 0);
}
