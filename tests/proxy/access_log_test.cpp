#include "proxy/access_log.hpp"

#include <catch2/catch.hpp>
#include <limits>
#include <sstream>

using namespace cacheproxy;

TEST_CASE("access log lines follow Squid's native format", "[access_log]") {
  AccessRecord r;
  r.finished = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  r.elapsed = std::chrono::milliseconds(42);
  r.client = "127.0.0.1";
  r.code = ResultCode::tcp_mem_hit;
  r.status = 200;
  r.bytes = 1234;
  r.method = "GET";
  r.url = "http://example.test/a b";
  r.hierarchy = "HIER_NONE";
  r.mime = "text/html";
  std::string line = format_access_line(r);
  CHECK(line ==
        "1700000000.123     42 127.0.0.1 TCP_MEM_HIT/200 1234 GET http://example.test/a%20b - "
        "HIER_NONE/- text/html\n");
  std::istringstream fields(line);
  std::vector<std::string> parts;
  for (std::string part; fields >> part;) parts.push_back(part);
  CHECK(parts.size() == 10);

  // Escapes at either end and side by side keep the characters around them.
  r.url = " http://example.test/x\t\r\ny ";
  r.user = "a b";
  r.mime = "";
  CHECK(format_access_line(r) ==
        "1700000000.123     42 127.0.0.1 TCP_MEM_HIT/200 1234 GET "
        "%20http://example.test/x%09%0D%0Ay%20 a%20b HIER_NONE/- -\n");

  // Long fields are scanned sixteen bytes at a time: a space deep in one is still found,
  // and bytes above ASCII (UTF-8) or other controls pass as they are.
  r.url = "http://example.test/0123456789abcdef/x y";
  r.user = "\xC3\xA9t\xC3\xA9-0123456789abcdef\x01";
  CHECK(format_access_line(r) ==
        "1700000000.123     42 127.0.0.1 TCP_MEM_HIT/200 1234 GET "
        "http://example.test/0123456789abcdef/x%20y \xC3\xA9t\xC3\xA9-0123456789abcdef\x01 "
        "HIER_NONE/- -\n");
}

TEST_CASE("an access line escaped throughout fits the room reserved for it", "[access_log]") {
  // Every byte of every text field escaped (three bytes each), and the widest numbers: the
  // line is formatted into a buffer sized beforehand (ASan checks the bound in CI).
  const std::string spaces(300, ' ');
  std::string escaped;
  for (int i = 0; i < 300; ++i) escaped += "%20";
  AccessRecord r;
  r.finished = std::chrono::system_clock::time_point(std::chrono::milliseconds(-1));
  r.elapsed = std::chrono::milliseconds(std::numeric_limits<std::int64_t>::max());
  r.client = r.method = r.url = r.user = r.hierarchy = r.peer = r.mime = spaces;
  r.code = ResultCode::tcp_refresh_unmodified;
  r.status = std::numeric_limits<unsigned>::max();
  r.bytes = std::numeric_limits<std::uint64_t>::max();
  std::string line = format_access_line(r);
  CHECK(line.find(" 9223372036854775807 " + escaped + " TCP_REFRESH_UNMODIFIED/4294967295 "
                  "18446744073709551615 " + escaped + " " + escaped + " " + escaped + " " +
                  escaped + "/" + escaped + " " + escaped + "\n") != std::string::npos);
}
