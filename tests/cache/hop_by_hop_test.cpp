#include "cache/header_fields.hpp"
#include "cache/hop_by_hop.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

namespace http = boost::beast::http;
using cacheproxy::cache::ConnectionOptions;
using cacheproxy::cache::remove_hop_by_hop;

namespace {

using Lines = std::vector<std::pair<std::string, std::string>>;

struct HopRow {
  std::string name;
  Lines input;
  std::vector<std::string> remaining;  // field names, in order
};

}  // namespace

TEST_CASE("remove_hop_by_hop removes fixed and Connection-named fields", "[hop_by_hop]") {
  static const std::vector<HopRow> rows{
      {"fixed names",
       {{"Connection", "keep-alive"},
        {"Keep-Alive", "timeout=5"},
        {"Proxy-Connection", "keep-alive"},
        {"Proxy-Authorization", "Basic eA=="},
        {"Proxy-Authenticate", "Basic"},
        {"TE", "trailers"},
        {"Trailer", "X-Checksum"},
        {"Transfer-Encoding", "chunked"},
        {"Upgrade", "websocket"},
        {"Content-Type", "text/html"}},
       {"Content-Type"}},
      {"names are case-insensitive",
       {{"KEEP-ALIVE", "timeout=5"}, {"transfer-encoding", "chunked"}, {"ETag", "\"a\""}},
       {"ETag"}},
      {"Connection names more fields",
       {{"Connection", "X-A, x-b"}, {"X-A", "1"}, {"X-B", "2"}, {"X-C", "3"}},
       {"X-C"}},
      {"several Connection lines",
       {{"Connection", "x-a"},
        {"connection", " X-B ,,"},
        {"X-A", "1"},
        {"X-B", "2"},
        {"Date", "d"}},
       {"Date"}},
      {"Connection: close removes nothing else",
       {{"Connection", "close"}, {"Cache-Control", "max-age=5"}, {"Age", "1"}},
       {"Cache-Control", "Age"}},
      {"repeated lines of a named field all go",
       {{"Connection", "X-Hop"}, {"X-Hop", "1"}, {"X-Hop", "2"}, {"Vary", "Accept"}},
       {"Vary"}},
      {"options around tabs and in any case",
       {{"ETag", "e"}, {"x-tab", "1"}, {"Connection", "\tX-TAB\t,x-other"}, {"X-Other", "2"},
        {"X-Kept", "3"}},
       {"ETag", "X-Kept"}},
      {"no hop-by-hop fields", {{"Server", "s"}, {"Via", "1.1 p"}}, {"Server", "Via"}},
      {"empty", {}, {}},
  };
  const HopRow row = GENERATE(from_range(rows));
  CAPTURE(row.name);
  cacheproxy::Fields fields;
  for (const auto& [name, value] : row.input) fields.insert(name, value);
  remove_hop_by_hop(fields);
  std::vector<std::string> remaining;
  for (const auto& f : fields) remaining.emplace_back(f.name_string());
  CHECK(remaining == row.remaining);
}

TEST_CASE("ConnectionOptions reads every Connection line once", "[hop_by_hop]") {
  cacheproxy::Fields fields;
  fields.insert("Connection", "keep-alive, X-One");
  fields.insert("X-One", "1");
  fields.insert("connection", "\tx-two ,, ");
  const ConnectionOptions options(fields);
  CHECK(options.names("keep-alive"));
  CHECK(options.names("x-one"));
  CHECK(options.names("X-TWO"));
  CHECK_FALSE(options.names("X-Three"));
  CHECK_FALSE(options.names(""));
  CHECK_FALSE(ConnectionOptions(cacheproxy::Fields{}).names("keep-alive"));
}
