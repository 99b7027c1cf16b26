// Indexing a workspace: first sync, restarts that reparse only what changed,
// deletions and renames, the editor's entry points, ordering of requests,
// progress and cancellation, bad files, and background priority.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fstream>
#include <iterator>
#include <sys/resource.h>
#include <sstream>
#include <thread>

#include "../engine/temp_dir.h"
#include "index/index.h"
#include "toy_project.h"

using namespace astfill::index;
using astfill::testing::ExtractorLog;
using astfill::testing::TempDir;
using astfill::testing::toy_extractor;
using astfill::testing::toy_language;
using astfill::testing::toy_options;
using astfill::testing::write_file;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A workspace with an index over it that can be closed and opened again.
struct Fixture {
  TempDir dir;
  IndexOptions options = toy_options(dir.path());
  std::shared_ptr<ExtractorLog> log = std::make_shared<ExtractorLog>();
  std::unique_ptr<Index> index;

  const fs::path& root() const { return options.root; }
  void write(const std::string& rel, const std::string& text, std::chrono::seconds age = std::chrono::hours(1)) {
    write_file(root(), rel, text, age);
  }
  Index& open() {
    index.reset();
    log->clear();
    index = std::make_unique<Index>(options, toy_extractor(log), toy_language);
    return *index;
  }
  Index& sync() {
    if (!index) open();
    index->sync_with_disk();
    index->wait_until_idle();
    return *index;
  }
  // Paths that define `name`.
  std::vector<std::string> defined_in(const std::string& name) {
    std::vector<std::string> paths;
    for (const auto& s : index->definitions(name, "")) paths.push_back(s.path);
    return paths;
  }
};

using Paths = std::vector<std::string>;

struct RecordingProgress : astfill::Progress {
  std::mutex mu;
  std::vector<uint32_t> percentages;
  std::vector<std::string> messages;
  void report(std::optional<uint32_t> percentage, const std::string& message) override {
    std::lock_guard lock(mu);
    percentages.push_back(percentage.value_or(0));
    messages.push_back(message);
  }
};

}  // namespace

TEST_CASE("a first sync indexes the workspace, a restart with nothing changed parses nothing", "[index]") {
  Fixture f;
  for (int i = 0; i < 5; ++i) f.write("src/f" + std::to_string(i) + ".py", "def fn_" + std::to_string(i) + "()\n");
  f.write("src/blob.py", std::string("def hidden()\n\0\0binary", 21));
  f.write(".gitignore", "ignored/\n");
  f.write("ignored/skip.py", "def skipped()\n");
  f.write("huge.py", "def huge()\n" + std::string(2 << 20, '#'));
  f.write("README.md", "def not_code()\n");

  Index& first = f.sync();
  CHECK(f.log->calls == 5);
  CHECK(f.defined_in("fn_3") == Paths{"src/f3.py"});
  CHECK(f.defined_in("hidden").empty());  // binary
  CHECK(f.defined_in("skipped").empty());
  CHECK(f.defined_in("huge").empty());
  CHECK(f.defined_in("not_code").empty());
  CHECK(first.stats().committed == 6);  // five files and the binary one

  f.open();
  f.sync();
  CHECK(f.log->calls == 0);
  CHECK(f.index->stats().unchanged == 6);
  CHECK(f.index->stats().committed == 0);
  CHECK(f.defined_in("fn_3") == Paths{"src/f3.py"});
}

TEST_CASE("after a restart only the changed file is parsed, a touched file is confirmed by hash", "[index]") {
  Fixture f;
  for (int i = 0; i < 4; ++i) f.write("f" + std::to_string(i) + ".py", "def fn_" + std::to_string(i) + "()\n");
  f.sync();
  f.index.reset();

  f.write("f1.py", "def fn_1_changed()\n", 30min);  // new content, new mtime
  f.write("f2.py", "def fn_2()\n", 20min);          // same content, new mtime
  f.write("f3.py", "def fn_9()\n");                  // same size, different content, same age
  f.open();
  f.sync();
  CHECK(f.log->parsed() == std::multiset<std::string>{"fn_1_changed", "fn_9"});
  CHECK(f.index->stats().same_content == 1);
  CHECK(f.defined_in("fn_1").empty());
  CHECK(f.defined_in("fn_1_changed") == Paths{"f1.py"});

  f.open();
  f.sync();
  CHECK(f.log->calls == 0);  // the touched file's new mtime was stored
}

TEST_CASE("deleted files vanish from the index, a rename is a removal and an addition", "[index]") {
  Fixture f;
  f.write("a.py", "def alpha()\n");
  f.write("b.py", "def beta()\n");
  f.write("c.py", "def gamma()\n");
  f.sync();
  f.index.reset();

  fs::remove(f.root() / "b.py");
  fs::create_directories(f.root() / "moved");
  fs::rename(f.root() / "c.py", f.root() / "moved" / "c2.py");
  f.open();
  f.sync();
  CHECK(f.defined_in("beta").empty());
  CHECK(f.defined_in("gamma") == Paths{"moved/c2.py"});
  CHECK(f.log->parsed() == std::multiset<std::string>{"gamma"});
  CHECK(f.index->stats().removed == 2);
  CHECK(f.index->similar_chunks("beta", 5).empty());
}

TEST_CASE("the editor's text wins over the disk until the file is closed", "[index]") {
  Fixture f;
  f.write("a.py", "def original()\n");
  Index& index = f.sync();

  index.update_file((fs::canonical(f.root()) / "a.py").string(), "def edited()\n");  // absolute paths work
  index.wait_until_idle();
  CHECK(f.defined_in("edited") == Paths{"a.py"});
  CHECK(f.defined_in("original").empty());

  index.sync_with_disk();
  index.file_changed_on_disk("a.py");
  index.wait_until_idle();
  CHECK(f.defined_in("edited") == Paths{"a.py"});

  index.close_file("a.py");
  index.wait_until_idle();
  CHECK(f.defined_in("original") == Paths{"a.py"});
  CHECK(f.defined_in("edited").empty());

  // A new, unsaved buffer is indexed, survives a sync, and goes with remove_file.
  index.update_file("new.py", "def unsaved()\n");
  index.sync_with_disk();
  index.wait_until_idle();
  CHECK(f.defined_in("unsaved") == Paths{"new.py"});
  index.remove_file("new.py");
  index.wait_until_idle();
  CHECK(f.defined_in("unsaved").empty());

  // Outside the workspace, unknown languages and ignored paths are not indexed.
  f.write(".gitignore", "gen/\n");
  index.file_changed_on_disk(".gitignore");
  index.update_file("/somewhere/else.py", "def outside()\n");
  index.update_file("notes.txt", "def prose()\n");
  index.update_file("gen/out.py", "def generated()\n");
  index.wait_until_idle();
  CHECK(f.defined_in("outside").empty());
  CHECK(f.defined_in("prose").empty());
  CHECK(f.defined_in("generated").empty());
}

TEST_CASE("disk events: created, changed, deleted files and directories", "[index]") {
  Fixture f;
  f.write("keep.py", "def keep()\n");
  f.write("dir/x.py", "def in_dir_x()\n");
  f.write("dir/sub/y.py", "def in_dir_y()\n");
  Index& index = f.sync();

  f.write("fresh.py", "def fresh()\n");
  index.file_changed_on_disk("fresh.py");
  f.write("keep.py", "def keep_v2()\n", 10min);
  index.file_changed_on_disk((f.root() / "keep.py").string());
  index.wait_until_idle();
  CHECK(f.defined_in("fresh") == Paths{"fresh.py"});
  CHECK(f.defined_in("keep_v2") == Paths{"keep.py"});

  fs::remove_all(f.root() / "dir");
  index.file_changed_on_disk("dir");  // one event for a deleted directory
  index.wait_until_idle();
  CHECK(f.defined_in("in_dir_x").empty());
  CHECK(f.defined_in("in_dir_y").empty());

  f.write("newdir/z.py", "def in_new_dir()\n");
  index.file_changed_on_disk("newdir");  // a new directory: a sync finds its files
  index.wait_until_idle();
  CHECK(f.defined_in("in_new_dir") == Paths{"newdir/z.py"});

  f.write("grown.py", "def grown()\n" + std::string(2 << 20, '#'));
  f.write("grown.py", "def grown()\n");
  index.file_changed_on_disk("grown.py");
  index.wait_until_idle();
  CHECK(f.defined_in("grown") == Paths{"grown.py"});
  f.write("grown.py", "def grown()\n" + std::string(2 << 20, '#'), 5min);
  index.file_changed_on_disk("grown.py");  // now too large: out of the index
  index.wait_until_idle();
  CHECK(f.defined_in("grown").empty());
}

TEST_CASE("the newest request for a path wins, whatever order parsing finishes in", "[index]") {
  Fixture f;
  f.options.parse_threads = 4;
  Index& index = f.open();
  for (int round = 0; round < 20; ++round) {
    for (int v = 0; v < 10; ++v) index.update_file("a.py", "def version_" + std::to_string(v) + "()\n");
    index.wait_until_idle();
    CHECK(f.defined_in("version_9") == Paths{"a.py"});
    CHECK(index.symbols_with_prefix("version_").size() == 1);

    index.update_file("b.py", "def short_lived()\n");
    index.remove_file("b.py");
    index.wait_until_idle();
    CHECK(f.defined_in("short_lived").empty());
  }
  // Each text was either parsed or dropped unparsed because a newer one came.
  auto stats = index.stats();
  CHECK(stats.parsed + stats.superseded == 20 * 11);
}

TEST_CASE("a burst of edits parses far fewer texts than it sends", "[index]") {
  Fixture f;
  f.options.parse_threads = 1;
  f.options.background_nice = 0;
  // A parse that takes a while, so texts queue up behind it.
  std::string body;
  for (int i = 0; i < 2000; ++i) body += "def filler_" + std::to_string(i) + "()\n";
  Index& index = f.open();
  for (int v = 0; v < 200; ++v) index.update_file("a.py", "def burst_" + std::to_string(v) + "()\n" + body);
  index.wait_until_idle();
  CHECK(f.defined_in("burst_199") == Paths{"a.py"});
  auto stats = index.stats();
  CHECK(stats.parsed + stats.superseded == 200);
  CHECK(stats.superseded > 100);
}

TEST_CASE("a sync reports progress up to 100% and can be cancelled per file", "[index]") {
  Fixture f;
  for (int i = 0; i < 30; ++i) f.write("f" + std::to_string(i) + ".py", "def fn_" + std::to_string(i) + "()\n");
  f.options.max_batch_files = 4;
  f.options.parse_threads = 1;
  astfill::CancellationSource source;
  auto cancel_after_five = [log = f.log, &source](std::string_view language, std::string_view text) {
    auto symbols = toy_extractor(log)(language, text);
    if (log->calls >= 5) source.cancel(astfill::CancelReason::ClientRequest);
    return symbols;
  };
  {
    Index index(f.options, cancel_after_five, toy_language);
    index.sync_with_disk(nullptr, source.token());
    index.wait_until_idle();
    CHECK(f.log->calls >= 5);
    CHECK(f.log->calls < 30);
  }
  size_t done_before = f.log->calls;

  f.open();
  auto progress = std::make_shared<RecordingProgress>();
  f.index->sync_with_disk(progress);
  f.index->wait_until_idle();
  CHECK(f.log->calls == 30 - done_before);  // the rest, nothing twice
  REQUIRE(!progress->percentages.empty());
  CHECK(progress->percentages.back() == 100);
  CHECK(std::is_sorted(progress->percentages.begin(), progress->percentages.end()));
  CHECK(progress->messages.back().find("indexed") != std::string::npos);

  auto again = std::make_shared<RecordingProgress>();
  f.index->sync_with_disk(again);
  f.index->wait_until_idle();
  CHECK(again->percentages == std::vector<uint32_t>{100});
  CHECK(again->messages == std::vector<std::string>{"index up to date"});

  astfill::CancellationSource early;
  early.cancel(astfill::CancelReason::Shutdown);
  f.write("late.py", "def late()\n");
  f.index->sync_with_disk(nullptr, early.token());
  f.index->wait_until_idle();
  CHECK(f.defined_in("late").empty());
}

TEST_CASE("a file the extractor fails on keeps its chunks and is not retried until it changes", "[index]") {
  Fixture f;
  f.write("bad.py", "def before_the_blast()\nexplode\ndef after_the_blast()\n");
  f.write("good.py", "def fine()\n");
  f.write("mojibake.py", "def caf\xc3()\n\xff\xfe bytes\n");
  f.sync();
  CHECK(f.defined_in("fine") == Paths{"good.py"});
  CHECK(f.defined_in("before_the_blast").empty());
  CHECK(f.index->stats().failed == 1);
  auto chunks = f.index->similar_chunks("after_the_blast", 3);
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].path == "bad.py");
  CHECK(f.index->symbols_with_prefix("caf").size() == 1);

  f.open();
  f.sync();
  CHECK(f.index->stats().failed == 0);
  CHECK(f.log->calls == 0);
}

TEST_CASE("whatever the extractor, the language table, a progress sink or the hook throws, indexing goes on",
          "[index]") {
  Fixture f;
  f.write("a.py", "def alpha()\n");
  f.write("b.py", "def beta()\n");
  f.write("odd.rs", "def odd()\n");
  f.options.on_commit = [](size_t) { throw std::runtime_error("hook"); };
  auto extract = [](std::string_view, std::string_view text) -> astfill::parsing::FileSymbols {
    if (text.find("beta") != std::string_view::npos) throw 42;  // not even a std::exception
    return astfill::testing::toy_extract(text);
  };
  auto language = [](std::string_view path) -> std::string {
    if (path.ends_with(".rs")) throw std::runtime_error("no table for rust");
    return toy_language(path);
  };
  struct ThrowingProgress : astfill::Progress {
    void report(std::optional<uint32_t>, const std::string&) override { throw std::runtime_error("sink"); }
  };
  {
    Index index(f.options, extract, language);
    index.sync_with_disk(std::make_shared<ThrowingProgress>());
    index.wait_until_idle();
    index.update_file("c.py", "def gamma()\n");
    index.wait_until_idle();
    CHECK(index.definitions("alpha", "").size() == 1);
    CHECK(index.definitions("gamma", "").size() == 1);
    CHECK(index.definitions("beta", "").empty());
    CHECK(index.similar_chunks("beta", 1).size() == 1);  // its chunks are kept
  }
}

TEST_CASE("indexing threads run nicer than the daemon", "[index]") {
  Fixture f;
  f.options.background_nice = 7;
  f.write("a.py", "def a()\n");
  f.sync();  // the writer and a parse thread have run by now
  int base = ::getpriority(PRIO_PROCESS, 0);
  bool found = false;
  DIR* tasks = ::opendir("/proc/self/task");
  REQUIRE(tasks);
  while (dirent* entry = ::readdir(tasks)) {
    std::ifstream stat(std::string("/proc/self/task/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::vector<std::string> rest{std::istream_iterator<std::string>(fields), {}};
    if (rest.size() > 16 && std::stoi(rest[16]) == std::min(19, base + 7)) found = true;
  }
  ::closedir(tasks);
  CHECK(found);
}

TEST_CASE("questions are answered while indexing runs, from many threads", "[index]") {
  Fixture f;
  for (int i = 0; i < 200; ++i)
    f.write("m" + std::to_string(i % 10) + "/f" + std::to_string(i) + ".py",
            "class C" + std::to_string(i) + "\n    def method_" + std::to_string(i) + "()\ndef shared()\n");
  Index& index = f.open();
  index.sync_with_disk();
  std::atomic<bool> stop{false};
  std::atomic<size_t> answers{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      while (!stop) {
        index.definitions("shared", "m1/f1.py");
        index.members("C" + std::to_string(t));
        index.symbols_with_prefix("method_1", 20);
        index.similar_chunks("def shared method_7", 3, "m7/f7.py");
        index.imports_of("m1/f1.py");
        ++answers;
      }
    });
  }
  for (int i = 0; i < 20; ++i) index.update_file("live.py", "def live_" + std::to_string(i) + "()\n");
  index.wait_until_idle();
  stop = true;
  for (auto& t : readers) t.join();
  CHECK(answers > 0);
  CHECK(index.definitions("shared", "").size() == 50);  // the default limit
  CHECK(index.definitions("shared", "", 1000).size() == 200);
  CHECK(f.defined_in("live_19") == Paths{"live.py"});
}
