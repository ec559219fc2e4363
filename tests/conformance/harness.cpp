#include <fmt/format.h>

#include <boost/beast/http/verb.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "cache/cache_control.hpp"
#include "cache/header_fields.hpp"
#include "conformance/conformance.hpp"
#include "proxy/config.hpp"
#include "support/test_proxy.hpp"

namespace cacheproxy::conformance {

namespace http = boost::beast::http;
using testing::ProxyClient;
using testing::Response;

namespace {

// What the origin knows about one running case.
struct CaseState {
  const Case* c = nullptr;
  std::string prefix;
  std::size_t requests = 0;
  std::optional<OriginRequest> last;
};

// A scripted origin and a proxy in front of it. One is shared by every table that needs no
// particular proxy configuration; a table with a ProxySetup gets its own.
class Fixture {
 public:
  explicit Fixture(const ProxySetup& setup = {})
      : origin_(std::make_unique<testing::OriginServer>(handler())),
        origin_port_(origin_->port()),
        proxy_(dir_.path(), setup) {}

  static Fixture& shared() {
    static Fixture fixture;
    return fixture;
  }

  std::uint16_t proxy_port() const { return proxy_.port(); }
  // Known while the origin is stopped too: it comes back on the same port.
  std::string origin_base() const { return fmt::format("http://127.0.0.1:{}", origin_port_); }

  void begin(const Case& c, const std::string& prefix) {
    std::lock_guard lock(mutex_);
    cases_[prefix] = CaseState{&c, prefix, 0, std::nullopt};
  }
  std::size_t requests(const std::string& prefix) {
    std::lock_guard lock(mutex_);
    return cases_[prefix].requests;
  }
  std::optional<OriginRequest> last(const std::string& prefix) {
    std::lock_guard lock(mutex_);
    return cases_[prefix].last;
  }

  // Stopping closes the listener and every connection, so the proxy's pooled connections
  // fail and a new connection is refused.
  void stop_origin() { origin_.reset(); }
  void start_origin() {
    if (!origin_) origin_ = std::make_unique<testing::OriginServer>(handler(), origin_port_);
  }

 private:
  testing::OriginServer::Handler handler() {
    return [this](const OriginRequest& r) { return answer_for(r); };
  }

  // "/table/N/rest" → "/table/N"
  static std::string prefix_of(const std::string& target) {
    std::size_t second = target.find('/', 1);
    if (second == std::string::npos) return target;
    std::size_t third = target.find('/', second + 1);
    return target.substr(0, third);
  }

  OriginResponse answer_for(const OriginRequest& r);

  std::mutex mutex_;
  std::map<std::string, CaseState> cases_;
  std::unique_ptr<testing::OriginServer> origin_;
  std::uint16_t origin_port_;
  testing::TempDir dir_;
  testing::TestProxy proxy_;
};

std::string expand(std::string value, const std::string& prefix, const Fixture& fixture) {
  auto replace_all = [&value](const std::string& from, const std::string& to) {
    for (std::size_t at = value.find(from); at != std::string::npos;
         at = value.find(from, at + to.size())) {
      value.replace(at, from.size(), to);
    }
  };
  replace_all("{origin}", fixture.origin_base());
  replace_all("{prefix}", prefix);
  for (std::size_t at = value.find("{date:"); at != std::string::npos;
       at = value.find("{date:")) {
    std::size_t end = value.find('}', at);
    long offset = std::stol(value.substr(at + 6, end - at - 6));
    auto when = std::chrono::system_clock::now() + std::chrono::seconds(offset);
    value.replace(at, end - at + 1, cache::format_http_date(when));
  }
  return value;
}

OriginResponse Fixture::answer_for(const OriginRequest& r) {
  std::string prefix = prefix_of(r.target);
  const Case* c = nullptr;
  std::size_t index = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = cases_.find(prefix);
    if (it == cases_.end()) return testing::make_response(404, "no such case");
    c = it->second.c;
    index = it->second.requests++;
    it->second.last = r;
  }
  OriginResponse res;
  if (c->handler) {
    res = c->handler(r, index);
  } else if (!c->origin.empty()) {
    res = c->origin[std::min(index, c->origin.size() - 1)];
  } else {
    res = testing::make_response(500, "case without origin answers");
  }
  for (auto& [name, value] : res.headers) value = expand(value, prefix, *this);
  return res;
}

bool check_field(const cacheproxy::Fields& fields, const FieldCheck& check, std::string& why) {
  auto [first, last] = fields.equal_range(check.name);
  std::size_t count = std::distance(first, last);
  switch (check.kind) {
    case FieldCheck::Kind::equals:
      if (count == 0) {
        why = fmt::format("{} absent, expected '{}'", check.name, check.value);
        return false;
      }
      if (first->value() != check.value) {
        why = fmt::format("{}: '{}', expected '{}'", check.name, std::string(first->value()),
                          check.value);
        return false;
      }
      return true;
    case FieldCheck::Kind::present:
      why = fmt::format("{} absent, expected present", check.name);
      return count > 0;
    case FieldCheck::Kind::absent:
      why = count ? fmt::format("{} present ('{}'), expected absent", check.name,
                                std::string(first->value()))
                  : std::string();
      return count == 0;
    case FieldCheck::Kind::contains:
      for (auto it = first; it != last; ++it) {
        if (it->value().find(check.value) != std::string_view::npos) return true;
      }
      why = fmt::format("no {} line contains '{}'", check.name, check.value);
      return false;
    case FieldCheck::Kind::at_least:
    case FieldCheck::Kind::below: {
      if (count == 0) {
        why = fmt::format("{} absent, expected a number", check.name);
        return false;
      }
      std::optional<cache::Seconds> n = cache::parse_delta_seconds(first->value());
      long limit = std::stol(check.value);
      why = fmt::format("{}: '{}', expected {} {}", check.name, std::string(first->value()),
                        check.kind == FieldCheck::Kind::at_least ? ">=" : "<", limit);
      if (!n) return false;
      return check.kind == FieldCheck::Kind::at_least ? n->count() >= limit : n->count() < limit;
    }
    case FieldCheck::Kind::lines:
      why = fmt::format("{} has {} lines, expected {}", check.name, count, check.value);
      return std::to_string(count) == check.value;
  }
  return false;
}

struct Outcome {
  bool cut = false;
  Response response;
};

Outcome send(std::optional<ProxyClient>& client, std::uint16_t proxy_port, const Step& step,
             const std::string& url, const Fields& headers) {
  Outcome out;
  if (!client) client.emplace(proxy_port);
  try {
    out.response = client->request(http::string_to_verb(step.method), url, headers, step.body);
    if (!out.response.keep_alive()) client.reset();
  } catch (const std::exception&) {
    out.cut = true;
    client.reset();
  }
  return out;
}

void check_step(const Step& step, const Outcome& out) {
  if (step.status == 0) {
    CHECK(out.cut);
  } else {
    REQUIRE_FALSE(out.cut);
    CHECK(out.response.result_int() == step.status);
  }
  if (step.body_is && !out.cut) CHECK(out.response.body() == *step.body_is);
  for (const FieldCheck& check : step.response) {
    std::string why;
    bool ok = !out.cut && check_field(out.response.base(), check, why);
    INFO("response: " << why);
    CHECK(ok);
  }
}

void run_case(Fixture& fixture, const Case& c, const std::string& prefix) {
  fixture.begin(c, prefix);
  std::optional<ProxyClient> client;
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const Step& step = c.steps[i];
    INFO(fmt::format("{} | {} | step {} ({} {}) | {}", c.rfc, c.name, i + 1, step.method,
                     step.path, prefix));
    if (step.sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step.sleep_ms));
    std::string path = expand(step.path, prefix, fixture);
    std::string url = path.rfind("http", 0) == 0 ? path : fixture.origin_base() + prefix + path;
    Fields headers = step.headers;
    for (auto& [name, value] : headers) value = expand(value, prefix, fixture);

    if (step.origin_unreachable) fixture.stop_origin();
    if (step.parallel > 1) {
      std::vector<Outcome> outcomes(step.parallel);
      std::vector<std::thread> threads;
      for (std::size_t k = 0; k < step.parallel; ++k) {
        threads.emplace_back([&, k] {
          std::optional<ProxyClient> own;
          outcomes[k] = send(own, fixture.proxy_port(), step, url, headers);
        });
      }
      for (auto& t : threads) t.join();
      for (const Outcome& out : outcomes) check_step(step, out);
    } else {
      Outcome out = send(client, fixture.proxy_port(), step, url, headers);
      check_step(step, out);
    }
    fixture.start_origin();

    if (step.origin_total) CHECK(fixture.requests(prefix) == *step.origin_total);
    if (!step.origin_saw.empty()) {
      std::optional<OriginRequest> last = fixture.last(prefix);
      REQUIRE(last);
      for (const FieldCheck& check : step.origin_saw) {
        std::string why;
        bool ok = check_field(last->headers, check, why);
        INFO("origin saw: " << why);
        CHECK(ok);
      }
    }
  }
}

}  // namespace

OriginResponse answer(unsigned status, Fields headers, std::string body) {
  return testing::make_response(status, std::move(body), std::move(headers));
}

Case stored_case(std::string rfc, std::string name, OriginResponse response, Fields request) {
  std::string body = response.body;
  Step first = get();
  first.headers = request;
  first.expect(response.status).origin(1);
  Step second = get();
  second.headers = request;
  second.expect(response.status).expect_body(body).expect(has("Age")).origin(1);
  return Case{std::move(rfc), std::move(name), {std::move(response)}, {first, second}};
}

Case not_stored_case(std::string rfc, std::string name, OriginResponse response, Fields request) {
  Step first = get();
  first.headers = request;
  first.expect(response.status).origin(1);
  Step second = get();
  second.headers = request;
  second.expect(response.status).origin(2);
  return Case{std::move(rfc), std::move(name), {std::move(response)}, {first, second}};
}

Case pending(Case c) {
  c.pending = true;
  return c;
}

namespace {

void run_table(Fixture& fixture, const std::string& table, const std::vector<Case>& cases) {
  const char* flag = std::getenv("CONFORMANCE_RUN_PENDING");
  bool run_pending = flag && std::string(flag) == "1";
  std::size_t skipped = 0;
  std::size_t pending_cases = 0;
  const bool list = std::getenv("CONFORMANCE_LIST") != nullptr;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    pending_cases += c.pending;
    if (list) fmt::print("| {}/{} | {} | {} | {} |\n", table, i, c.rfc, c.name, c.pending ? "pending" : "pass");
    if (c.pending && !run_pending) {
      ++skipped;
      continue;
    }
    run_case(fixture, c, fmt::format("/{}/{}", table, i));
  }
  if (skipped > 0) {
    WARN(fmt::format("{}: {} of {} cases pending (implemented in branch features); "
                     "CONFORMANCE_RUN_PENDING=1 runs them",
                     table, skipped, cases.size()));
  }
  if (std::getenv("CONFORMANCE_SUMMARY")) {
    fmt::print("conformance-summary {} total={} pending={}\n", table, cases.size(), pending_cases);
  }
}

}  // namespace

void run_cases(const std::string& table, const std::vector<Case>& cases) {
  run_table(Fixture::shared(), table, cases);
}

void run_cases(const std::string& table, const std::vector<Case>& cases, const ProxySetup& setup) {
  Fixture own(setup);
  run_table(own, table, cases);
}

}  // namespace cacheproxy::conformance
