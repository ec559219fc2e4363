// Proxy authentication end to end: an htpasswd file made in the test by independent tools
// (Apache's htpasswd for bcrypt when installed, else Python's crypt; OpenSSL for
// SHA-512-crypt), a real origin, and clients over loopback.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "support/command.hpp"
#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace http = boost::beast::http;

namespace {

std::string base64(std::string_view in) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? alphabet[n & 63] : '=';
  }
  return out;
}

std::string basic(std::string_view user, std::string_view password) {
  return "Basic " + base64(fmt::format("{}:{}", user, password));
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// alice has a bcrypt hash, bob a SHA-512-crypt one.
std::string write_htpasswd(const std::filesystem::path& dir) {
  std::string bcrypt_line;
  if (have_program("htpasswd")) {
    CommandResult r = run_command("htpasswd -nbB -C 5 alice 'alice secret'");
    REQUIRE(r.exit_code == 0);
    bcrypt_line = trimmed(r.output.substr(0, r.output.find('\n')));
  } else {
    CommandResult r = run_command(
        "python3 -W ignore -c \"import crypt; print('alice:' + crypt.crypt('alice secret', "
        "crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32)))\"");
    REQUIRE(r.exit_code == 0);
    bcrypt_line = trimmed(r.output);
  }
  CommandResult sha = run_command("openssl passwd -6 'bob:secret'");
  REQUIRE(sha.exit_code == 0);
  REQUIRE(bcrypt_line.starts_with("alice:$2"));
  std::string path = (dir / "htpasswd").string();
  std::ofstream(path) << "# test users\n" << bcrypt_line << "\nbob:" << trimmed(sha.output) << "\n";
  return path;
}

}  // namespace

TEST_CASE("proxy authentication: 407 without valid credentials and none reach the origin",
          "[proxy][auth]") {
  OriginServer origin([](const OriginRequest&) {
    return make_response(200, "members only", {{"Cache-Control", "max-age=60"}});
  });
  TempDir dir;
  std::string htpasswd = write_htpasswd(dir.path());
  TestProxy proxy(dir.path(), [&](cacheproxy::Config& c) {
    c.auth_htpasswd = htpasswd;
    c.auth_realm = "LAN \"gateway\"";
  });
  ProxyClient client(proxy.port());

  Response missing = client.get(origin.url("/a"));
  CHECK(missing.result_int() == 407);
  CHECK(missing[http::field::proxy_authenticate] ==
        "Basic realm=\"LAN \\\"gateway\\\"\", charset=\"UTF-8\"");
  Response wrong = client.request(http::verb::get, origin.url("/a"),
                                  {{"Proxy-Authorization", basic("alice", "alice secreT")}});
  CHECK(wrong.result_int() == 407);
  Response unknown = client.request(http::verb::get, origin.url("/a"),
                                    {{"Proxy-Authorization", basic("mallory", "alice secret")}});
  CHECK(unknown.result_int() == 407);
  Response other_scheme = client.request(http::verb::get, origin.url("/a"),
                                         {{"Proxy-Authorization", "Bearer abc"}});
  CHECK(other_scheme.result_int() == 407);
  CHECK(origin.request_count() == 0);

  // Both hash kinds, on the same keep-alive connection that got the 407s; a password holding
  // a colon (bob's is "bob:secret").
  Response alice = client.request(http::verb::get, origin.url("/a"),
                                  {{"Proxy-Authorization", basic("alice", "alice secret")}});
  CHECK(alice.result_int() == 200);
  CHECK(alice.body() == "members only");
  Response bob = client.request(http::verb::get, origin.url("/b"),
                                {{"Proxy-Authorization", basic("bob", "bob:secret")}});
  CHECK(bob.result_int() == 200);
  // Cached credentials: the same pair again, and a cache hit still needs credentials.
  Response again = client.request(http::verb::get, origin.url("/a"),
                                  {{"Proxy-Authorization", basic("alice", "alice secret")}});
  CHECK(again.result_int() == 200);
  Response hit_without = client.get(origin.url("/a"));
  CHECK(hit_without.result_int() == 407);

  REQUIRE(origin.request_count() == 2);
  for (const OriginRequest& seen : origin.requests()) {
    CHECK(seen.headers.count(http::field::proxy_authorization) == 0);
    CHECK(seen.headers.count(http::field::authorization) == 0);
  }
  // Requests to the proxy itself (PAC, stats) need no credentials.
  CHECK(client.get("/proxy.pac").result_int() == 200);

  // The log names the user, never the password nor the encoded credentials.
  auto lines = proxy.access_log_lines(10);
  bool alice_logged = false;
  for (const std::string& line : lines) {
    INFO(line);
    CHECK(line.find("secret") == std::string::npos);
    CHECK(line.find(base64("alice:alice secret")) == std::string::npos);
    if (line.find(" alice HIER_") != std::string::npos) alice_logged = true;
    if (line.find("/407 ") != std::string::npos) {
      CHECK(line.find("TCP_DENIED/407") != std::string::npos);
      CHECK(line.find(" - HIER_NONE") != std::string::npos);
    }
  }
  CHECK(alice_logged);
}

TEST_CASE("proxy authentication applies to CONNECT tunnels", "[proxy][auth][tunnel]") {
  OriginServer origin([](const OriginRequest&) { return make_response(200, "inside"); });
  TempDir dir;
  std::string htpasswd = write_htpasswd(dir.path());
  TestProxy proxy(dir.path(), [&](cacheproxy::Config& c) {
    c.auth_htpasswd = htpasswd;
    c.connect_ports = {origin.port()};
  });
  std::string authority = fmt::format("127.0.0.1:{}", origin.port());
  std::string inner =
      fmt::format("GET /t HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", authority);

  std::string refused = raw_exchange(
      proxy.port(), fmt::format("CONNECT {0} HTTP/1.1\r\nHost: {0}\r\n\r\n{1}", authority, inner));
  CHECK(refused.starts_with("HTTP/1.1 407 "));
  CHECK(refused.find("Proxy-Authenticate: Basic realm=\"cacheproxy\"") != std::string::npos);
  CHECK(refused.find("inside") == std::string::npos);
  CHECK(origin.connection_count() == 0);

  std::string wrong = raw_exchange(
      proxy.port(),
      fmt::format("CONNECT {0} HTTP/1.1\r\nHost: {0}\r\nProxy-Authorization: {1}\r\n\r\n",
                  authority, basic("bob", "bob:wrong")));
  CHECK(wrong.starts_with("HTTP/1.1 407 "));
  CHECK(origin.connection_count() == 0);

  std::string tunnelled = raw_exchange(
      proxy.port(),
      fmt::format("CONNECT {0} HTTP/1.1\r\nHost: {0}\r\nProxy-Authorization: {1}\r\n\r\n{2}",
                  authority, basic("bob", "bob:secret"), inner));
  INFO(tunnelled);
  CHECK(tunnelled.starts_with("HTTP/1.1 200 "));
  CHECK(tunnelled.find("inside") != std::string::npos);
  REQUIRE(origin.request_count() == 1);
  CHECK(origin.requests().at(0).headers.count(http::field::proxy_authorization) == 0);
}

TEST_CASE("an unreadable or unsupported htpasswd file is a config error", "[proxy][auth]") {
  TempDir dir;
  std::string path = (dir.path() / "htpasswd").string();
  std::ofstream(path) << "carol:$apr1$abcdefgh$0123456789abcdefghijkl\n";
  cacheproxy::Config config = test_config(dir.path());
  config.auth_htpasswd = path;
  cacheproxy::Server server(config);
  std::string error = server.start();
  CHECK(error.find("auth_htpasswd") != std::string::npos);
  CHECK(error.find("unsupported") != std::string::npos);
  server.stop();

  std::string conf = (dir.path() / "bad.conf").string();
  std::ofstream(conf) << "auth_htpasswd = " << (dir.path() / "missing").string() << "\n";
  CommandResult check =
      run_command(fmt::format("{} --config {} --check-config", CACHEPROXY_BINARY, conf));
  CHECK(check.exit_code == 1);
  CHECK(check.output.find("auth_htpasswd") != std::string::npos);
}
