// The index bound to the real tree-sitter extractor, on a project in all eight
// languages: what the extractor writes (module paths, relative flags, names)
// lands where the resolver expects it, and definitions and members come back.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "../engine/temp_dir.h"
#include "index/parsed.h"
#include "toy_project.h"

using namespace astfill::index;
using astfill::testing::TempDir;
using astfill::testing::write_file;

namespace {

// importer -> (module as written -> where it should land; "" for nowhere)
using Expectations = std::map<std::string, std::map<std::string, std::string>>;

std::map<std::string, std::string> landed(const Index& index, const std::string& file) {
  std::map<std::string, std::string> out;
  for (const auto& imp : index.imports_of(file)) out[imp.module] = imp.resolved_path.value_or("");
  return out;
}

}  // namespace

TEST_CASE("imports from the tree-sitter extractor resolve in each language", "[parsed]") {
  TempDir dir;
  auto root = dir.path();
  // Python: a package with relative and absolute imports.
  write_file(root, "py/pkg/__init__.py", "");
  write_file(root, "py/pkg/util.py", "def helper(x):\n    \"\"\"Doubles x.\"\"\"\n    return 2 * x\n");
  write_file(root, "py/pkg/sub/__init__.py", "");
  write_file(root, "py/pkg/sub/deep.py", "class Deep:\n    def go(self):\n        pass\n");
  write_file(root, "py/pkg/main.py",
             "import os\nfrom . import util\nfrom .sub.deep import Deep\nfrom ..other import thing\n"
             "import pkg.util\n\nutil.helper(1)\n");
  // JavaScript and TypeScript: relative specifiers, index files, .js -> .ts.
  write_file(root, "web/lib/index.js", "export function libFn() { return 1; }\n");
  write_file(root, "web/util.ts", "export interface Shape { area(): number }\n");
  write_file(root, "web/app.js", "import { libFn } from './lib';\nimport React from 'react';\nconst u = require('./lib/index.js');\n");
  write_file(root, "web/view.tsx", "import { Shape } from './util.js';\nexport const V = () => <div/>;\n");
  // C and C++: quote includes relative to the file and through include dirs.
  write_file(root, "c/include/api.h", "int api_call(int x);\n");
  write_file(root, "c/src/local.h", "struct Local { int a; };\n");
  write_file(root, "c/src/main.c", "#include \"local.h\"\n#include <api.h>\n#include <stdio.h>\nint main(void) { return api_call(1); }\n");
  write_file(root, "cpp/shapes.hpp", "namespace geo {\nclass Circle {\n public:\n  double area() const;\n  double r;\n};\n}\n");
  // A C++ header named .h: parsed as C++ (its members land in the index).
  write_file(root, "cpp/widget.h", "#pragma once\nnamespace ui {\nclass Widget {\n public:\n  int width() const;\n};\n}\n");
  write_file(root, "cpp/main.cpp", "#include \"shapes.hpp\"\n#include <vector>\nint main() { geo::Circle c; return c.area(); }\n");
  // Go: a module with a package.
  write_file(root, "go/go.mod", "module example.com/app\n\ngo 1.21\n");
  write_file(root, "go/store/store.go", "package store\n\nfunc Open() int { return 1 }\n");
  write_file(root, "go/main.go", "package main\n\nimport (\n\t\"fmt\"\n\t\"example.com/app/store\"\n)\n\nfunc main() { fmt.Println(store.Open()) }\n");
  // Rust: mod declarations and crate paths.
  write_file(root, "rs/src/lib.rs", "mod net;\npub mod util;\nuse crate::net::client::Client;\nuse std::io;\n");
  write_file(root, "rs/src/net/mod.rs", "pub mod client;\n");
  write_file(root, "rs/src/net/client.rs", "pub struct Client { pub port: u16 }\nimpl Client { pub fn connect(&self) {} }\n");
  write_file(root, "rs/src/util.rs", "use super::net;\npub fn tool() {}\n");
  // Java: packages under a source root.
  write_file(root, "java/src/main/java/com/acme/model/User.java",
             "package com.acme.model;\n\npublic class User {\n  private String name;\n  public String getName() { return name; }\n}\n");
  write_file(root, "java/src/main/java/com/acme/App.java",
             "package com.acme;\n\nimport com.acme.model.User;\nimport com.acme.model.*;\nimport java.util.List;\n\n"
             "public class App { User u; }\n");

  IndexOptions options;
  options.root = root;
  options.database = root / ".db" / "index.sqlite";
  options.parse_threads = 2;
  options.background_nice = 0;
  options.include_dirs = {"c/include"};
  auto index = open_project_index(options);
  index->sync_with_disk();
  index->wait_until_idle();
  CHECK(index->stats().failed == 0);

  Expectations expect = {
      {"py/pkg/main.py",
       {{"os", ""}, {".", "py/pkg/util.py"}, {".sub.deep", "py/pkg/sub/deep.py"}, {"..other", ""},
        {"pkg.util", "py/pkg/util.py"}}},
      {"web/app.js", {{"./lib", "web/lib/index.js"}, {"react", ""}, {"./lib/index.js", "web/lib/index.js"}}},
      {"web/view.tsx", {{"./util.js", "web/util.ts"}}},
      {"c/src/main.c", {{"local.h", "c/src/local.h"}, {"api.h", "c/include/api.h"}, {"stdio.h", ""}}},
      {"cpp/main.cpp", {{"shapes.hpp", "cpp/shapes.hpp"}, {"vector", ""}}},
      {"go/main.go", {{"fmt", ""}, {"example.com/app/store", "go/store"}}},
      {"rs/src/util.rs", {{"super::net", "rs/src/net/mod.rs"}}},
      {"java/src/main/java/com/acme/App.java",
       {{"java.util.List", ""}, {"com.acme.model.User", "java/src/main/java/com/acme/model/User.java"}, {"com.acme.model", "java/src/main/java/com/acme/model"}}},
  };
  for (const auto& [file, modules] : expect) {
    INFO(file);
    auto got = landed(*index, file);
    for (const auto& [module, target] : modules) {
      INFO(module);
      REQUIRE(got.count(module) == 1);
      CHECK(got[module] == target);
    }
  }

  // Shapes that vary by how the extractor splits a path: check by target.
  auto targets_of = [&](const std::string& file) {
    std::vector<std::string> out;
    for (const auto& imp : index->imports_of(file)) out.push_back(imp.resolved_path.value_or(""));
    return out;
  };
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  auto rust = targets_of("rs/src/lib.rs");
  CHECK(has(rust, "rs/src/net/mod.rs"));
  CHECK(has(rust, "rs/src/util.rs"));
  CHECK(has(rust, "rs/src/net/client.rs"));
  auto java = targets_of("java/src/main/java/com/acme/App.java");
  CHECK(has(java, "java/src/main/java/com/acme/model/User.java"));
  CHECK(has(java, "java/src/main/java/com/acme/model"));

  // Definitions and members with signatures and docs.
  auto helper = index->definitions("helper", "py/pkg/main.py");
  REQUIRE(helper.size() == 1);
  CHECK(helper[0].path == "py/pkg/util.py");
  CHECK(helper[0].signature.find("def helper(x)") != std::string::npos);
  CHECK(helper[0].doc == "Doubles x.");
  auto circle = index->members("geo::Circle");
  std::vector<std::string> names;
  for (const auto& s : circle) names.push_back(s.name);
  CHECK(std::find(names.begin(), names.end(), "area") != names.end());
  CHECK(std::find(names.begin(), names.end(), "r") != names.end());
  auto user = index->members("User");
  names.clear();
  for (const auto& s : user) names.push_back(s.name);
  CHECK(std::find(names.begin(), names.end(), "getName") != names.end());
  auto client = index->members("Client");
  names.clear();
  for (const auto& s : client) names.push_back(s.name);
  CHECK(std::find(names.begin(), names.end(), "connect") != names.end());
  CHECK(std::find(names.begin(), names.end(), "port") != names.end());
  auto widget = index->members("ui::Widget");
  names.clear();
  for (const auto& s : widget) names.push_back(s.name);
  CHECK(std::find(names.begin(), names.end(), "width") != names.end());
}
