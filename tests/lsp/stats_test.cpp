// The local statistics store (stats/store.h): what a report counts, the caps
// (rows, retention), the file's mode, and the event decoding of
// astfill/suggestionEvent.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "lsp/protocol.h"
#include "stats/store.h"

namespace fs = std::filesystem;
using namespace astfill;

namespace {

fs::path temp_store() {
  std::random_device rd;
  fs::path dir = fs::temp_directory_path() / ("astfill-stats-test-" + std::to_string(rd()));
  fs::create_directories(dir);
  return dir / "sub" / "stats.db";
}

stats::Suggestion suggestion(std::string id, std::string language, double latency_ms, size_t chars,
                             int64_t time_ms = stats::now_ms()) {
  stats::Suggestion s;
  s.id = std::move(id);
  s.time_ms = time_ms;
  s.language = std::move(language);
  s.model = "tiny.gguf";
  s.trigger = "automatic";
  s.latency_ms = latency_ms;
  s.chars = chars;
  s.lines = chars ? 1 : 0;
  return s;
}

}  // namespace

TEST_CASE("a report counts outcomes, accepted text, latency and shares by language", "[stats]") {
  fs::path path = temp_store();
  {
    stats::Store store(path);
    for (int i = 0; i < 10; ++i) store.record(suggestion("p" + std::to_string(i), "python", 10.0 * (i + 1), 8));
    store.record(suggestion("e", "python", 5, 0));  // empty
    auto cancelled = suggestion("c", "go", 1, 0);
    cancelled.cancelled = true;
    store.record(cancelled);
    store.record(suggestion("g", "go", 50, 12));
    using O = stats::Outcome;
    for (int i = 0; i < 10; ++i) CHECK(store.record(stats::Event{"p" + std::to_string(i), O::Shown, 0, 0}));
    CHECK(store.record(stats::Event{"p0", O::Accepted, 0, 0}));            // whole: the suggestion's 8 chars
    CHECK(store.record(stats::Event{"p1", O::AcceptedWord, 3, 0}));
    CHECK(store.record(stats::Event{"p1", O::AcceptedLine, 5, 1}));       // adds up: 8 chars, 1 line
    CHECK(store.record(stats::Event{"p1", O::Dismissed, 0, 0}));          // stays accepted partly
    CHECK(store.record(stats::Event{"p2", O::Dismissed, 0, 0}));
    CHECK(store.record(stats::Event{"p3", O::TypedOver, 0, 0}));
    CHECK(store.record(stats::Event{"g", O::Accepted, 12, 2}));
    CHECK_FALSE(store.record(stats::Event{"nope", O::Accepted, 1, 1}));

    auto r = store.report(0);
    CHECK(r.all.suggestions == 13);
    CHECK(r.all.cancelled == 1);
    CHECK(r.all.empty == 1);
    CHECK(r.all.shown == 11);
    CHECK(r.all.accepted == 2);
    CHECK(r.all.accepted_partly == 1);
    CHECK(r.all.dismissed == 1);
    CHECK(r.all.typed_over == 1);
    CHECK(r.all.accepted_chars == 8 + 8 + 12);
    CHECK(r.all.accepted_lines == 1 + 1 + 2);
    CHECK(r.all.acceptance_rate == Approx(3.0 / 11));
    CHECK(r.all.cancelled_share == Approx(1.0 / 13));
    CHECK(r.all.empty_share == Approx(1.0 / 13));
    // Answered latencies: 10..100, 5, 50 (the cancelled one is left out).
    CHECK(r.all.latency_p50_ms == Approx(50));
    CHECK(r.all.latency_p95_ms == Approx(100));
    REQUIRE(r.by_language.size() == 2);
    CHECK(r.by_language[0].key == "python");
    CHECK(r.by_language[0].suggestions == 11);
    CHECK(r.by_language[1].key == "go");
    CHECK(r.by_language[1].acceptance_rate == Approx(1.0));
    REQUIRE(r.by_model.size() == 1);
    CHECK(r.by_model[0].key == "tiny.gguf");
    // --since: only what was made after it.
    CHECK(store.report(stats::now_ms() + 1000).all.suggestions == 0);
  }
  fs::remove_all(path.parent_path().parent_path());
}

TEST_CASE("a report counts the suggestions cut before a secret, in all, by language and model, and in its JSON",
          "[stats]") {
  fs::path path = temp_store();
  {
    stats::Store store(path);
    for (int i = 0; i < 4; ++i) {
      auto s = suggestion("py" + std::to_string(i), "python", 10, 8);
      s.secret_cut = i != 0;  // three of four
      store.record(s);
    }
    auto go = suggestion("go-cut", "go", 10, 5);
    go.secret_cut = true;
    store.record(go);
    store.record(suggestion("go-clean", "go", 10, 5));
    auto cancelled = suggestion("go-cancelled", "go", 1, 0);
    cancelled.cancelled = true;
    store.record(cancelled);  // not cut
    // Outcomes reported later do not change it.
    CHECK(store.record(stats::Event{"py1", stats::Outcome::Accepted, 0, 0}));
    CHECK(store.record(stats::Event{"py2", stats::Outcome::Dismissed, 0, 0}));

    auto r = store.report(0);
    CHECK(r.all.suggestions == 7);
    CHECK(r.all.secret_cuts == 4);
    REQUIRE(r.by_language.size() == 2);
    CHECK(r.by_language[0].key == "python");
    CHECK(r.by_language[0].secret_cuts == 3);
    CHECK(r.by_language[1].key == "go");
    CHECK(r.by_language[1].secret_cuts == 1);
    REQUIRE(r.by_model.size() == 1);
    CHECK(r.by_model[0].secret_cuts == 4);

    auto json = lsp::to_json(r).as_object();
    CHECK(json.at("all").as_object().at("secretCuts").as_int64() == 4);
    CHECK(json.at("byLanguage").as_array().at(0).as_object().at("secretCuts").as_int64() == 3);
    CHECK(json.at("byLanguage").as_array().at(1).as_object().at("secretCuts").as_int64() == 1);
    CHECK(json.at("byModel").as_array().at(0).as_object().at("secretCuts").as_int64() == 4);
    // Only what was made since.
    CHECK(store.report(stats::now_ms() + 1000).all.secret_cuts == 0);
  }
  fs::remove_all(path.parent_path().parent_path());
}

TEST_CASE("the store keeps at most its rows and its retention, in a file only its owner reads", "[stats]") {
  fs::path path = temp_store();
  {
    stats::Limits limits;
    limits.retention_days = 30;
    limits.max_rows = 10;
    stats::Store store(path, limits);
    int64_t now = stats::now_ms();
    store.record(suggestion("old", "python", 1, 1, now - 31 * 86'400'000LL));
    for (int i = 0; i < 20; ++i) store.record(suggestion("s" + std::to_string(i), "python", 1, 1, now - 20 + i));
    store.prune(now);
    CHECK(store.rows() == 10);
    // The newest stay.
    CHECK_FALSE(store.record(stats::Event{"old", stats::Outcome::Shown, 0, 0}));
    CHECK_FALSE(store.record(stats::Event{"s9", stats::Outcome::Shown, 0, 0}));
    CHECK(store.record(stats::Event{"s10", stats::Outcome::Shown, 0, 0}));
    CHECK(store.record(stats::Event{"s19", stats::Outcome::Shown, 0, 0}));
    // Inserting prunes by itself every few hundred rows.
    for (int i = 0; i < 600; ++i) store.record(suggestion("t" + std::to_string(i), "python", 1, 1));
    CHECK(store.rows() < 300);
  }
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // Reopened: still there, still capped.
  CHECK(stats::Store(path).rows() > 0);
  fs::remove_all(path.parent_path().parent_path());
}

TEST_CASE("a store from a newer astfill or not a database is refused with its path", "[stats]") {
  fs::path path = temp_store();
  fs::create_directories(path.parent_path());
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fputs("this is not a database, it is text and more text to fill a header page", f);
    std::fclose(f);
  }
  try {
    stats::Store store(path);
    FAIL("opened");
  } catch (const std::exception& e) {
    CHECK_THAT(e.what(), Catch::Contains(path.string()));
  }
  fs::remove_all(path.parent_path().parent_path());
}

TEST_CASE("durations and suggestion events decode, and bad ones are named", "[stats]") {
  CHECK(stats::parse_duration("7d") == 7 * 86'400'000LL);
  CHECK(stats::parse_duration("12h") == 12 * 3'600'000LL);
  CHECK(stats::parse_duration("30m") == 30 * 60'000LL);
  CHECK(stats::parse_duration("2w") == 14 * 86'400'000LL);
  CHECK_FALSE(stats::parse_duration("7"));
  CHECK_FALSE(stats::parse_duration("d"));
  CHECK_FALSE(stats::parse_duration("-1d"));
  CHECK_FALSE(stats::parse_duration("99999999999d"));

  lsp::Decoder d;
  stats::Event e;
  CHECK(lsp::from_json(boost::json::parse(R"({"id":"a-1","kind":"acceptedWord","acceptedChars":4})"), e, "params", d));
  CHECK(e.id == "a-1");
  CHECK(e.outcome == stats::Outcome::AcceptedWord);
  CHECK(e.accepted_chars == 4);
  CHECK(e.accepted_lines == 0);
  lsp::Decoder bad;
  CHECK_FALSE(lsp::from_json(boost::json::parse(R"({"id":"a-1","kind":"liked"})"), e, "params", bad));
  CHECK_THAT(bad.error(), Catch::Contains("params.kind") && Catch::Contains("liked"));
}
