// cache_replacement_policy: the eviction order is chosen by name, as in Squid.
#include <catch2/catch.hpp>
#include <string>

#include "cache/eviction_policy.hpp"
#include "proxy/config.hpp"

namespace cacheproxy {
namespace {

TEST_CASE("cache_replacement_policy defaults to the measured best and takes every policy name",
          "[config]") {
  const char* none[] = {"cacheproxy"};
  ConfigResult d = parse_config(1, none);
  REQUIRE(d.config);
  CHECK(d.config->cache_replacement_policy == "gdsf-sketch");
  CHECK(d.config->cache_replacement_policy == cache::kDefaultEvictionPolicy);

  for (const char* name : {"lru", "gdsf", "gdsf-bytes", "gdsf-sketch", "heap GDSF"}) {
    INFO(name);
    const std::string flag = std::string("--cache-replacement-policy=") + name;
    const char* argv[] = {"cacheproxy", flag.c_str()};
    ConfigResult r = parse_config(2, argv);
    REQUIRE(r.config);
    CHECK(r.config->cache_replacement_policy == name);
  }

  const char* bad[] = {"cacheproxy", "--cache_replacement_policy=fifo"};
  ConfigResult e = parse_config(2, bad);
  CHECK_FALSE(e.config);
  CHECK(e.exit_code == 1);
  CHECK(e.message.find("cache_replacement_policy") != std::string::npos);
  CHECK(e.message.find("fifo") != std::string::npos);
}

}  // namespace
}  // namespace cacheproxy
