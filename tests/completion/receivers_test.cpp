// Receivers resolved through the real index (tree-sitter extractor) and the
// current file: modules by import and alias, self/this with inherited and
// assigned attributes, classes, constructed variables; unknown ones free.
#include <catch2/catch.hpp>

#include <fstream>

#include "../engine/temp_dir.h"
#include "completion/receivers.h"
#include "index/parsed.h"

using namespace astfill::completion;
using astfill::testing::TempDir;
using Names = std::vector<std::string>;

namespace {

void write(const std::filesystem::path& root, const std::string& rel, const std::string& text) {
  std::filesystem::create_directories((root / rel).parent_path());
  std::ofstream(root / rel, std::ios::binary) << text;
}

struct Project {
  TempDir dir;
  std::unique_ptr<astfill::index::Index> index;
  void open() {
    astfill::index::IndexOptions o;
    o.root = dir.path();
    o.database = dir.path() / ".db";
    o.background_nice = 0;
    index = astfill::index::open_project_index(o);
    index->sync_with_disk();
    index->wait_until_idle();
  }
  // Members for the access at the end of `before` (the cursor) in `path`,
  // whose text is before + after.
  std::optional<Names> at(const std::string& path, const std::string& language, const std::string& before,
                          const std::string& after = "\n") {
    std::string text = before + after;
    ReceiverContext c{index.get(), dir.path(), path, language, text, before.size()};
    auto access = member_access_at_end(before, language);
    REQUIRE(access);
    return resolve_members(c, *access);
  }
};

}  // namespace

TEST_CASE("python receivers: modules, aliases, self with bases and attributes, constructed objects", "[receivers]") {
  Project p;
  write(p.dir.path(), "pkg/__init__.py", "");
  write(p.dir.path(), "pkg/shapes.py",
        "class Shape:\n    def __init__(self, name):\n        self.name = name\n    def describe(self):\n"
        "        return self.name\n\nclass Circle(Shape):\n    def __init__(self, r):\n        super().__init__('c')\n"
        "        self.radius: float = r\n    def area(self):\n        return 3.14 * self.radius ** 2\n\n"
        "def make_circle(r):\n    return Circle(r)\n\nUNIT = 'cm'\n");
  write(p.dir.path(), "pkg/errors.py", "class AppError(Exception):\n    def code(self):\n        return 1\n");
  std::string main_head = "import os\nfrom . import shapes\nfrom . import shapes as sh\nfrom .errors import AppError\n\n";
  write(p.dir.path(), "pkg/main.py", main_head);
  p.open();

  CHECK(p.at("pkg/main.py", "python", main_head + "x = shapes.") == Names{"Circle", "Shape", "UNIT", "make_circle"});
  CHECK(p.at("pkg/main.py", "python", main_head + "x = sh.ma") == Names{"Circle", "Shape", "UNIT", "make_circle"});
  CHECK_FALSE(p.at("pkg/main.py", "python", main_head + "os."));          // outside the workspace
  CHECK_FALSE(p.at("pkg/main.py", "python", main_head + "unknown_name."));
  CHECK(p.at("pkg/main.py", "python", main_head + "c = shapes.Circle(2)\nc.") ==
        Names{"__init__", "area", "describe", "name", "radius"});
  CHECK(p.at("pkg/main.py", "python", main_head + "Circle.") == Names{"__init__", "area", "describe", "name", "radius"});
  // A subclass of a class outside the workspace: not fully known, left free.
  CHECK_FALSE(p.at("pkg/main.py", "python", main_head + "AppError."));

  // self inside a class of the current file, with an attribute the index does not know.
  std::string local = "from .shapes import Shape\n\nclass Square(Shape):\n    def __init__(self, side):\n"
                      "        self.side = side\n    def area(self):\n        return self.";
  CHECK(p.at("pkg/local.py", "python", local, "\n") == Names{"__init__", "area", "describe", "name", "side"});
}

TEST_CASE("receivers in C++, TypeScript, Go, Rust and Java", "[receivers]") {
  Project p;
  write(p.dir.path(), "cpp/geo.hpp", "namespace geo {\nstruct Point { int x; int y; int norm() const; };\n}\n");
  write(p.dir.path(), "ts/util.ts",
        "export function formatName(a: string): string { return a; }\nexport const VERSION = 2;\n"
        "export class Greeter {\n  greeting: string;\n  greet(): string { return this.greeting; }\n}\n");
  write(p.dir.path(), "go/go.mod", "module example.com/app\n");
  write(p.dir.path(), "go/store/store.go", "package store\n\nfunc Open() int { return 1 }\n\ntype DB struct{ Path string }\n");
  write(p.dir.path(), "rs/src/lib.rs", "pub mod net;\n");
  write(p.dir.path(), "rs/src/net.rs", "pub struct Client { pub port: u16 }\nimpl Client {\n    pub fn connect(&self) {}\n    pub fn new() -> Client { Client { port: 1 } }\n}\n");
  write(p.dir.path(), "java/com/acme/User.java",
        "package com.acme;\npublic class User {\n  private String name;\n  public String getName() { return name; }\n}\n");
  write(p.dir.path(), "ts/app.ts", "import * as util from './util';\nimport { Greeter } from './util';\n");
  write(p.dir.path(), "go/main.go", "package main\n\nimport \"example.com/app/store\"\n");
  p.open();

  CHECK(p.at("cpp/main.cpp", "cpp", "#include \"geo.hpp\"\nvoid f() { geo::Point p; p.") == Names{"norm", "x", "y"});
  CHECK(p.at("ts/app.ts", "typescript", "import * as util from './util';\nimport { Greeter } from './util';\nutil.") ==
        Names{"Greeter", "VERSION", "formatName"});
  CHECK(p.at("ts/app.ts", "typescript",
             "import * as util from './util';\nimport { Greeter } from './util';\nconst g = new Greeter();\ng.") ==
        Names{"greet", "greeting"});
  CHECK(p.at("go/main.go", "go", "package main\n\nimport \"example.com/app/store\"\n\nfunc main() { store.") ==
        Names{"DB", "Open", "Path"});
  CHECK(p.at("rs/src/lib.rs", "rust", "pub mod net;\nfn f() { let c = net::Client::") == std::nullopt);  // a chain
  CHECK(p.at("rs/src/lib.rs", "rust", "pub mod net;\nuse net::Client;\nfn f() { Client::") ==
        Names{"connect", "new", "port"});
  CHECK(p.at("java/com/acme/App.java", "java", "package com.acme;\nclass App { void f() { User u = load(); u.") ==
        Names{"getName", "name"});
}
