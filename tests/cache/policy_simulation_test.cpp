// A deterministic simulator: a synthetic proxy workload, shaped like the BU trace (Zipf-like
// reuse of a popular set, most objects requested once, web object sizes), replayed through
// the real policy code the way LevelDbStore drives it (lookup: touch or record_miss; commit:
// insert, then pop victims until within budget). It pins down what docs/BENCHMARKS.md
// measured on the real traces: the default policy beats LRU in requests without giving up
// many bytes.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <list>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/eviction_policy.hpp"

namespace cacheproxy::cache {
namespace {

struct Request {
  std::string key;
  std::uint64_t size = 0;
};

struct Workload {
  std::vector<Request> requests;
  std::uint64_t unique_bytes = 0;
};

// std::mt19937_64's output is fixed by the standard; the distributions are not, so the
// workload draws its own uniforms from it and is the same with every standard library.
class Draw {
 public:
  explicit Draw(std::uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Sizes from 100 B to about 1 MB, log-uniform with a heavier body around a few kB.
  std::uint64_t size() {
    const double u = uniform();
    return static_cast<std::uint64_t>(100.0 * std::pow(10.0, 4.0 * u * u));
  }

 private:
  std::mt19937_64 engine_;
};

Workload make_workload(std::size_t requests, std::size_t popular, double one_time_share,
                       std::uint64_t seed) {
  Draw draw(seed);
  // Zipf(0.8) over the popular objects, by inverse transform on the cumulative weights.
  std::vector<double> cumulative(popular);
  double sum = 0;
  for (std::size_t i = 0; i < popular; ++i) cumulative[i] = sum += 1.0 / std::pow(i + 1.0, 0.8);
  std::vector<std::uint64_t> popular_size(popular);
  for (std::uint64_t& s : popular_size) s = draw.size();

  Workload w;
  std::vector<bool> seen(popular, false);
  for (std::size_t i = 0; i < requests; ++i) {
    if (draw.uniform() < one_time_share) {
      const std::uint64_t size = draw.size();
      w.requests.push_back({"once/" + std::to_string(i), size});
      w.unique_bytes += size;
      continue;
    }
    const double target = draw.uniform() * sum;
    const std::size_t obj =
        std::lower_bound(cumulative.begin(), cumulative.end(), target) - cumulative.begin();
    const std::size_t o = std::min(obj, popular - 1);
    w.requests.push_back({"pop/" + std::to_string(o), popular_size[o]});
    if (!seen[o]) {
      seen[o] = true;
      w.unique_bytes += popular_size[o];
    }
  }
  return w;
}

struct Ratios {
  std::uint64_t hits = 0;
  double requests = 0;  // request hit ratio
  double bytes = 0;     // byte hit ratio
};

Ratios replay(EvictionPolicy& policy, const Workload& w, std::uint64_t budget) {
  Ratios r;
  std::uint64_t hit_bytes = 0, all_bytes = 0;
  std::uint64_t next_id = 1;
  for (const Request& req : w.requests) {
    all_bytes += req.size;
    if (policy.touch(req.key)) {
      ++r.hits;
      hit_bytes += req.size;
      continue;
    }
    policy.record_miss(req.key);
    if (req.size > budget) continue;
    policy.insert(req.key, {req.size, next_id++, req.size});
    while (policy.total_bytes() > budget) REQUIRE(policy.pop_victim());
  }
  r.requests = static_cast<double>(r.hits) / static_cast<double>(w.requests.size());
  r.bytes = static_cast<double>(hit_bytes) / static_cast<double>(all_bytes);
  return r;
}

// An independent LRU, to check the replay itself.
std::uint64_t reference_lru_hits(const Workload& w, std::uint64_t budget) {
  std::list<const Request*> order;  // most recent first
  std::unordered_map<std::string, std::list<const Request*>::iterator> where;
  std::uint64_t used = 0, hits = 0;
  for (const Request& req : w.requests) {
    if (auto it = where.find(req.key); it != where.end()) {
      ++hits;
      order.splice(order.begin(), order, it->second);
      continue;
    }
    if (req.size > budget) continue;
    order.push_front(&req);
    where[req.key] = order.begin();
    used += req.size;
    while (used > budget) {
      used -= order.back()->size;
      where.erase(order.back()->key);
      order.pop_back();
    }
  }
  return hits;
}

TEST_CASE("the default policy beats LRU on a proxy-like workload", "[eviction_policy][sim]") {
  // 30,000 requests, 45% to objects seen once (about 80% of all objects, as in BU).
  const Workload w = make_workload(30'000, 4'000, 0.45, 20261125);
  for (const int percent : {1, 5, 10, 25}) {
    const std::uint64_t budget = w.unique_bytes * percent / 100;
    INFO("cache " << percent << "% of " << w.unique_bytes << " unique bytes");
    auto run = [&](std::string_view name) {
      std::unique_ptr<EvictionPolicy> policy = make_eviction_policy(name, budget);
      REQUIRE(policy);
      const Ratios r = replay(*policy, w, budget);
      REQUIRE(policy->total_bytes() <= budget);
      return r;
    };
    const Ratios lru = run("lru");
    const Ratios gdsf = run("gdsf");
    const Ratios chosen = run(kDefaultEvictionPolicy);
    INFO("request hit ratio lru " << lru.requests << " gdsf " << gdsf.requests << " default "
                                  << chosen.requests);
    INFO("byte hit ratio lru " << lru.bytes << " gdsf " << gdsf.bytes << " default "
                               << chosen.bytes);
    REQUIRE(lru.hits == reference_lru_hits(w, budget));
    REQUIRE(gdsf.requests > lru.requests);
    REQUIRE(chosen.requests > lru.requests + 0.05);
    REQUIRE(chosen.requests >= gdsf.requests);
    REQUIRE(chosen.bytes >= lru.bytes);
  }
}

TEST_CASE("the same workload gives the same hits every time", "[eviction_policy][sim]") {
  const Workload w = make_workload(5'000, 800, 0.45, 7);
  const std::uint64_t budget = w.unique_bytes / 20;
  std::unique_ptr<EvictionPolicy> a = make_eviction_policy(kDefaultEvictionPolicy, budget);
  std::unique_ptr<EvictionPolicy> b = make_eviction_policy(kDefaultEvictionPolicy, budget);
  const Ratios ra = replay(*a, w, budget);
  const Ratios rb = replay(*b, w, budget);
  REQUIRE(ra.hits == rb.hits);
  REQUIRE(ra.hits > 0);
  REQUIRE(a->entries() == b->entries());
}

}  // namespace
}  // namespace cacheproxy::cache
