// RFC 9111 §4.1 (Vary: secondary keys), over sockets.
#include <catch2/catch.hpp>

#include "conformance/conformance.hpp"

using namespace cacheproxy::conformance;

namespace {

// Stored with `vary`, requested first with `first`, then with `second`: a hit if `match`.
Case vary_case(std::string name, std::string vary, Fields first, Fields second, bool match) {
  Step a = get().origin(1);
  a.headers = std::move(first);
  Step b = get().expect_body("payload").origin(match ? 1 : 2);
  b.headers = std::move(second);
  if (match) b.expect(has("Age"));
  return Case{"RFC 9111 §4.1", std::move(name),
              {answer(200, {{"Cache-Control", "max-age=3600"}, {"Vary", std::move(vary)}})}, {a, b}};
}

std::vector<Case> vary_cases() {
  std::vector<Case> cases;
  cases.push_back(vary_case("same nominated value matches", "Accept-Encoding",
                            {{"Accept-Encoding", "gzip"}}, {{"Accept-Encoding", "gzip"}}, true));
  cases.push_back(vary_case("a different nominated value does not match", "Accept-Encoding",
                            {{"Accept-Encoding", "gzip"}}, {{"Accept-Encoding", "br"}}, false));
  cases.push_back(vary_case("absent in both requests matches", "Accept-Encoding", {}, {}, true));
  cases.push_back(vary_case("present then absent does not match", "Accept-Encoding",
                            {{"Accept-Encoding", "gzip"}}, {}, false));
  cases.push_back(vary_case("absent then present does not match", "Accept-Encoding", {},
                            {{"Accept-Encoding", "gzip"}}, false));
  cases.push_back(vary_case("whitespace after commas is normalized", "Accept-Encoding",
                            {{"Accept-Encoding", "gzip,deflate"}}, {{"Accept-Encoding", "gzip, deflate"}}, true));
  cases.push_back(vary_case("surrounding whitespace is normalized", "Accept-Encoding",
                            {{"Accept-Encoding", "gzip"}}, {{"Accept-Encoding", "  gzip "}}, true));
  cases.push_back(vary_case("two field lines equal one combined line", "Accept-Encoding",
                            {{"Accept-Encoding", "gzip"}, {"Accept-Encoding", "deflate"}},
                            {{"Accept-Encoding", "gzip, deflate"}}, true));
  cases.push_back(vary_case("a different order of members does not match", "Accept-Encoding",
                            {{"Accept-Encoding", "gzip, deflate"}}, {{"Accept-Encoding", "deflate, gzip"}}, false));
  cases.push_back(vary_case("Vary field names are case-insensitive", "ACCEPT-ENCODING",
                            {{"accept-encoding", "gzip"}}, {{"Accept-Encoding", "gzip"}}, true));
  cases.push_back(vary_case("several nominated fields all match", "Accept-Encoding, Accept-Language",
                            {{"Accept-Encoding", "gzip"}, {"Accept-Language", "en"}},
                            {{"Accept-Encoding", "gzip"}, {"Accept-Language", "en"}}, true));
  cases.push_back(vary_case("one of several nominated fields differs", "Accept-Encoding, Accept-Language",
                            {{"Accept-Encoding", "gzip"}, {"Accept-Language", "en"}},
                            {{"Accept-Encoding", "gzip"}, {"Accept-Language", "fr"}}, false));
  cases.push_back(vary_case("fields not nominated do not matter", "Accept-Encoding",
                            {{"Accept-Encoding", "gzip"}, {"User-Agent", "a"}},
                            {{"Accept-Encoding", "gzip"}, {"User-Agent", "b"}}, true));
  cases.push_back(vary_case("an empty Vary nominates nothing", "", {{"Accept", "a"}}, {{"Accept", "b"}}, true));
  cases.push_back(vary_case("Vary on a custom field", "X-Variant", {{"X-Variant", "1"}}, {{"X-Variant", "1"}}, true));
  // Vary: * (never matches) and Vary split over two lines.
  cases.push_back(Case{"RFC 9111 §4.1", "Vary on two lines nominates both fields",
                       {answer(200, {{"Cache-Control", "max-age=3600"}, {"Vary", "Accept"}, {"Vary", "Accept-Language"}})},
                       {get().with("Accept", "a").with("Accept-Language", "en").origin(1),
                        get().with("Accept", "a").with("Accept-Language", "fr").origin(2)}});
  // Several variants side by side (each variant under its own key below the URL's marker).
  cases.push_back((Case{
      "RFC 9111 §4.1", "variants of one URL are stored side by side",
      {},
      {get().with("Accept-Encoding", "gzip").expect_body("gzip body").origin(1),
       get().with("Accept-Encoding", "br").expect_body("br body").origin(2),
       get().with("Accept-Encoding", "gzip").expect_body("gzip body").expect(has("Age")).origin(2),
       get().with("Accept-Encoding", "br").expect_body("br body").expect(has("Age")).origin(2)},
      false,
      [](const OriginRequest& r, std::size_t) {
        std::string enc(r.headers["Accept-Encoding"]);
        return answer(200, {{"Cache-Control", "max-age=3600"}, {"Vary", "Accept-Encoding"}},
                      enc + " body");
      }}));
  cases.push_back((Case{
      "RFC 9111 §4.1, §4.3.4", "a 304 refreshes the variant that was revalidated",
      {},
      {get().with("Accept-Language", "en").expect_body("en").origin(1),
       get().with("Accept-Language", "fr").expect_body("fr").origin(2),
       get().with("Accept-Language", "en").expect_body("en").origin(3)
           .origin_got(is("If-None-Match", "\"en\"")),
       get().with("Accept-Language", "fr").expect_body("fr").origin(4)
           .origin_got(is("If-None-Match", "\"fr\""))},
      false,
      [](const OriginRequest& r, std::size_t index) {
        std::string lang(r.headers["Accept-Language"]);
        if (index >= 2) return answer(304, {{"ETag", "\"" + lang + "\""}}, "");
        return answer(200, {{"Cache-Control", "max-age=0"}, {"Vary", "Accept-Language"},
                            {"ETag", "\"" + lang + "\""}}, lang);
      }}));
  cases.push_back(Case{
      "RFC 9111 §4.4, §4.1", "an unsafe request invalidates every variant of the URL",
      {},
      {get().with("Accept-Encoding", "gzip").expect_body("gzip body").origin(1),
       get().with("Accept-Encoding", "br").expect_body("br body").origin(2),
       request("POST").send_body("data").expect(200).origin(3),
       get().with("Accept-Encoding", "gzip").expect_body("gzip body").origin(4),
       get().with("Accept-Encoding", "br").expect_body("br body").origin(5),
       get().with("Accept-Encoding", "br").expect_body("br body").expect(has("Age")).origin(5)},
      false,
      [](const OriginRequest& r, std::size_t) {
        if (r.method == "POST") return answer(200, {}, "done");
        std::string enc(r.headers["Accept-Encoding"]);
        return answer(200, {{"Cache-Control", "max-age=3600"}, {"Vary", "Accept-Encoding"}},
                      enc + " body");
      }});
  return cases;
}

}  // namespace

TEST_CASE("RFC 9111 4.1: Vary", "[conformance][vary]") { run_cases("vary", vary_cases()); }
