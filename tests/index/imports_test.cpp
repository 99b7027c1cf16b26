// Import resolution, one section per language, over sets of workspace files.
#include <catch2/catch.hpp>

#include "../engine/temp_dir.h"
#include "index/imports.h"
#include "toy_project.h"

using namespace astfill::index;
using astfill::parsing::Import;
using astfill::testing::TempDir;

namespace {

struct Workspace {
  TempDir dir;
  WorkspaceFiles files;
  ImportResolver resolver;

  explicit Workspace(std::vector<std::string> paths, std::vector<std::string> include_dirs = {})
      : resolver(dir.path(), files, std::move(include_dirs)) {
    for (auto& p : paths) files.add(p);
  }

  // The path an import lands on, or "" when it does not resolve.
  std::string lands(std::string_view language, std::string_view importer, std::string module,
                    std::vector<std::string> names = {}, bool relative = false) {
    Import imp;
    imp.module = std::move(module);
    imp.names = std::move(names);
    imp.relative = relative;
    auto target = resolver.resolve(language, importer, imp);
    return target ? target->path : "";
  }
};

}  // namespace

TEST_CASE("python: relative imports climb packages", "[imports]") {
  Workspace ws({"pkg/__init__.py", "pkg/a.py", "pkg/x.py", "pkg/sub/__init__.py", "pkg/sub/mod.py",
                "pkg/sub/inner/__init__.py", "pkg/b/__init__.py", "pkg/b/c.py"});
  CHECK(ws.lands("python", "pkg/sub/mod.py", ".", {"inner"}, true) == "pkg/sub/inner/__init__.py");
  CHECK(ws.lands("python", "pkg/a.py", ".", {"x"}, true) == "pkg/x.py");
  CHECK(ws.lands("python", "pkg/a.py", ".", {"nothing_here"}, true) == "pkg/__init__.py");
  CHECK(ws.lands("python", "pkg/sub/mod.py", "..a", {"f"}, true) == "pkg/a.py");
  CHECK(ws.lands("python", "pkg/sub/mod.py", "..b", {"c"}, true) == "pkg/b/c.py");
  CHECK(ws.lands("python", "pkg/sub/mod.py", "..b", {"c", "d"}, true) == "pkg/b/__init__.py");
  CHECK(ws.lands("python", "pkg/sub/mod.py", "..", {"x"}, true) == "pkg/x.py");
  CHECK(ws.lands("python", "pkg/a.py", "...", {"x"}, true) == "");  // above the workspace
  CHECK(ws.lands("python", "pkg/a.py", ".missing", {}, true) == "");
}

TEST_CASE("python: absolute imports from the package root, the file's directory, or an ancestor", "[imports]") {
  Workspace ws({"src/app/__init__.py", "src/app/core.py", "src/app/util/__init__.py", "src/app/util/text.py",
                "scripts/run.py", "scripts/helpers.py", "tools.py", "lib/deep/thing.py"});
  CHECK(ws.lands("python", "src/app/core.py", "app.util.text") == "src/app/util/text.py");
  CHECK(ws.lands("python", "src/app/core.py", "app.util") == "src/app/util/__init__.py");
  CHECK(ws.lands("python", "src/app/core.py", "app", {"core"}) == "src/app/core.py");
  CHECK(ws.lands("python", "scripts/run.py", "helpers") == "scripts/helpers.py");
  CHECK(ws.lands("python", "scripts/run.py", "tools") == "tools.py");
  CHECK(ws.lands("python", "scripts/run.py", "lib.deep.thing") == "lib/deep/thing.py");
  CHECK(ws.lands("python", "scripts/run.py", "os.path") == "");
  CHECK(ws.lands("python", "scripts/run.py", "a..b") == "");
}

TEST_CASE("javascript and typescript: relative specifiers, extensions, index files", "[imports]") {
  Workspace ws({"src/app.ts", "src/util.ts", "src/util.js", "src/view.tsx", "src/old.js", "src/comp.jsx",
                "src/lib/index.ts", "src/data.json.js", "src/esm.ts", "src/exact.js", "src/w/index.jsx"});
  CHECK(ws.lands("typescript", "src/app.ts", "./util", {}, true) == "src/util.ts");  // .ts before .js
  CHECK(ws.lands("typescript", "src/app.ts", "./view") == "src/view.tsx");
  CHECK(ws.lands("javascript", "src/app.js", "./old") == "src/old.js");
  CHECK(ws.lands("javascriptreact", "src/app.jsx", "./comp") == "src/comp.jsx");
  CHECK(ws.lands("typescript", "src/app.ts", "./lib") == "src/lib/index.ts");
  CHECK(ws.lands("typescript", "src/app.ts", "./w") == "src/w/index.jsx");
  CHECK(ws.lands("typescript", "src/app.ts", "./exact.js") == "src/exact.js");
  CHECK(ws.lands("typescript", "src/app.ts", "./esm.js") == "src/esm.ts");
  CHECK(ws.lands("typescript", "src/lib/index.ts", "../util") == "src/util.ts");
  CHECK(ws.lands("typescriptreact", "src/view.tsx", "react") == "");
  CHECK(ws.lands("typescript", "src/app.ts", "../../../outside") == "");
}

TEST_CASE("c and c++: quote includes next to the file, then include directories", "[imports]") {
  Workspace ws({"src/a.c", "src/a.h", "src/sub/b.h", "include/lib/api.h", "include/only.h", "common.h"},
               {"include", "."});
  CHECK(ws.lands("c", "src/a.c", "a.h", {}, true) == "src/a.h");
  CHECK(ws.lands("c", "src/a.c", "sub/b.h", {}, true) == "src/sub/b.h");
  CHECK(ws.lands("cpp", "src/sub/b.h", "../a.h", {}, true) == "src/a.h");
  CHECK(ws.lands("cpp", "src/a.c", "lib/api.h", {}, true) == "include/lib/api.h");
  CHECK(ws.lands("cpp", "src/a.c", "lib/api.h", {}, false) == "include/lib/api.h");  // <lib/api.h>
  CHECK(ws.lands("c", "src/a.c", "common.h", {}, true) == "common.h");                // via "."
  CHECK(ws.lands("c", "src/a.c", "a.h", {}, false) == "");  // <a.h>: not next to the file
  CHECK(ws.lands("c", "src/a.c", "stdio.h", {}, false) == "");
}

TEST_CASE("c and c++: absolute include directories count when inside the workspace", "[imports]") {
  TempDir dir;
  WorkspaceFiles files;
  files.add("third_party/inc/z.h");
  ImportResolver resolver(dir.path(), files, {(dir.path() / "third_party/inc").string(), "/usr/include"});
  Import imp;
  imp.module = "z.h";
  auto target = resolver.resolve("c", "src/a.c", imp);
  REQUIRE(target);
  CHECK(target->path == "third_party/inc/z.h");
}

TEST_CASE("go: packages under the module path of the nearest go.mod", "[imports]") {
  Workspace ws({"main.go", "pkg/util/strings.go", "pkg/util/a_test.go", "pkg/util/numbers.go", "tools/x/x.go",
                "tools/x/sub/y.go", "only_tests/t_test.go"});
  astfill::testing::write_file(ws.dir.path(), "go.mod", "// the module\nmodule example.com/m // trailing\n\ngo 1.21\n");
  astfill::testing::write_file(ws.dir.path(), "tools/x/go.mod", "module \"example.com/tools/x\"\n");
  Import imp;
  imp.module = "example.com/m/pkg/util";
  auto target = ws.resolver.resolve("go", "main.go", imp);
  REQUIRE(target);
  CHECK(target->path == "pkg/util");
  CHECK(target->is_directory);
  CHECK(target->file == "pkg/util/numbers.go");  // the first non-test file
  CHECK(ws.lands("go", "main.go", "example.com/m/only_tests") == "only_tests");
  CHECK(ws.lands("go", "main.go", "example.com/m/missing") == "");
  CHECK(ws.lands("go", "main.go", "fmt") == "");
  CHECK(ws.lands("go", "main.go", "example.com/mx/pkg") == "");
  CHECK(ws.lands("go", "tools/x/x.go", "example.com/tools/x/sub") == "tools/x/sub");
  CHECK(ws.lands("go", "tools/x/x.go", "example.com/m/pkg/util") == "");  // another module

  // A changed go.mod is read again once forgotten.
  astfill::testing::write_file(ws.dir.path(), "go.mod", "module example.com/renamed\n");
  CHECK(ws.lands("go", "main.go", "example.com/renamed/pkg/util") == "");
  ws.resolver.forget_module_files();
  CHECK(ws.lands("go", "main.go", "example.com/renamed/pkg/util") == "pkg/util");
}

TEST_CASE("rust: mod declarations and use paths", "[imports]") {
  Workspace ws({"src/lib.rs", "src/net.rs", "src/net/tcp.rs", "src/store/mod.rs", "src/store/disk.rs",
                "src/util.rs", "crates/other/src/main.rs", "crates/other/src/cli.rs"});
  CHECK(ws.lands("rust", "src/lib.rs", "net") == "src/net.rs");          // mod net;
  CHECK(ws.lands("rust", "src/lib.rs", "store") == "src/store/mod.rs");  // mod store;
  CHECK(ws.lands("rust", "src/net.rs", "tcp") == "src/net/tcp.rs");      // mod tcp; inside net.rs
  CHECK(ws.lands("rust", "src/store/mod.rs", "disk") == "src/store/disk.rs");
  CHECK(ws.lands("rust", "src/net.rs", "util") == "src/util.rs");  // next to the file
  CHECK(ws.lands("rust", "src/util.rs", "crate::net::tcp") == "src/net/tcp.rs");
  CHECK(ws.lands("rust", "src/util.rs", "crate::net::tcp::Stream") == "src/net/tcp.rs");
  CHECK(ws.lands("rust", "src/util.rs", "crate::store", {"disk"}) == "src/store/disk.rs");
  CHECK(ws.lands("rust", "src/util.rs", "crate::store", {"Thing", "Other"}) == "src/store/mod.rs");
  CHECK(ws.lands("rust", "src/net/tcp.rs", "super::super::util") == "src/util.rs");
  CHECK(ws.lands("rust", "src/net.rs", "self::tcp") == "src/net/tcp.rs");
  CHECK(ws.lands("rust", "crates/other/src/main.rs", "crate::cli") == "crates/other/src/cli.rs");
  CHECK(ws.lands("rust", "src/util.rs", "std::collections::HashMap") == "");
  CHECK(ws.lands("rust", "src/util.rs", "crate::missing") == "");
}

TEST_CASE("java: classes under any source root, static imports, packages", "[imports]") {
  Workspace ws({"app/src/main/java/com/acme/App.java", "app/src/main/java/com/acme/util/Strings.java",
                "lib/src/main/java/com/acme/util/Strings.java", "lib/src/main/java/com/acme/util/Numbers.java",
                "Top.java"});
  CHECK(ws.lands("java", "app/src/main/java/com/acme/App.java", "com.acme.util.Strings") ==
        "app/src/main/java/com/acme/util/Strings.java");  // the nearer source root
  CHECK(ws.lands("java", "lib/src/main/java/com/acme/util/Numbers.java", "com.acme.util.Strings") ==
        "lib/src/main/java/com/acme/util/Strings.java");
  CHECK(ws.lands("java", "app/src/main/java/com/acme/App.java", "com.acme.util.Numbers.parse") ==
        "lib/src/main/java/com/acme/util/Numbers.java");  // import static
  CHECK(ws.lands("java", "app/src/main/java/com/acme/App.java", "com.acme.util", {"Numbers"}) ==
        "lib/src/main/java/com/acme/util/Numbers.java");
  CHECK(ws.lands("java", "app/src/main/java/com/acme/App.java", "Top") == "Top.java");
  CHECK(ws.lands("java", "app/src/main/java/com/acme/App.java", "java.util.List") == "");
  Import wildcard;
  wildcard.module = "com.acme.util.*";
  auto target = ws.resolver.resolve("java", "lib/src/main/java/com/acme/util/Numbers.java", wildcard);
  REQUIRE(target);
  CHECK(target->is_directory);
  CHECK(target->path == "lib/src/main/java/com/acme/util");
}

TEST_CASE("unknown languages and empty imports resolve to nothing", "[imports]") {
  Workspace ws({"a.py"});
  CHECK(ws.lands("cobol", "x.cbl", "a") == "");
  CHECK(ws.lands("python", "b.py", "") == "");
}

TEST_CASE("WorkspaceFiles keeps its name and directory maps in step", "[imports]") {
  WorkspaceFiles files;
  files.add("a/x.py");
  files.add("b/x.py");
  files.add("a/y.py");
  files.add("a/y.py");
  CHECK(files.size() == 3);
  CHECK(files.named("x.py") == std::vector<std::string>{"a/x.py", "b/x.py"});
  CHECK(files.in_directory("a") == std::vector<std::string>{"a/x.py", "a/y.py"});
  files.remove("a/x.py");
  CHECK(files.named("x.py") == std::vector<std::string>{"b/x.py"});
  CHECK(files.in_directory("a") == std::vector<std::string>{"a/y.py"});
  CHECK(files.directories_ending_with("b") == std::vector<std::string>{"b"});
  files.remove("nothing");
  CHECK(files.size() == 2);
}
