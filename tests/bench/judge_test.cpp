// The judges of bench_quality (bench/judge.h): each language's own front end
// tells a valid source from an invalid one (including the leniencies of
// tree-sitter's grammars that issue 14 found: an over-indented Python
// statement, a reserved word as a JavaScript name); a judge whose tool is
// missing is an error naming it; and the accounting (bench/score.h) never
// counts an empty answer as a whole file.
#include "bench/judge.h"
#include "bench/score.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace astfill::bench;
namespace fs = std::filesystem;

namespace {

struct Case {
  const char* language;
  const char* valid;
  const char* invalid;
};

// A valid and an invalid file per language; the invalid ones are the kind of
// breakage a completion leaves (an unclosed bracket, a half statement).
const Case kCases[] = {
    {"python", "def f(x):\n    if x:\n        return x + 1\n    return 0\n",
     "def f(x):\n    if x:\n        y = x\n           return y + 1\n    return 0\n"},  // "unexpected indent"
    {"javascript", "function f(a) {\n  const b = [a, 2];\n  return b.map((x) => x * 2);\n}\n",
     "function f(a) {\n  seen.get(switch.guard_hidden);\n}\n"},  // a reserved word used as a name
    {"typescript", "interface P { x: number }\nexport function f(p: P): number {\n  return p.x as number;\n}\n",
     "export function f(p: P): number {\n  return (p.x;\n}\n"},
    {"typescriptreact", "export const A = (p: {n: string}) => <div title={p.n}>hi</div>;\n",
     "export const A = () => <div>hi</span>;\n"},
    {"go", "package p\n\nfunc f(a int) int {\n\tif a > 1 {\n\t\treturn a\n\t}\n\treturn 0\n}\n",
     "package p\n\nfunc f(a int) int {\n\tif a > 1 {\n\t\treturn a\n\t\n\treturn 0\n}\n"},
    {"c", "#include <stddef.h>\nstatic size_t f(size_t n) {\n  size_t s = 0;\n  for (size_t i = 0; i < n; ++i) s += i;\n  return s;\n}\n",
     "#include <stddef.h>\nstatic size_t f(size_t n) {\n  size_t s = 0\n  return s;\n}\n"},
    {"cpp", "#include <vector>\ntemplate <class T> struct B { std::vector<std::vector<T>> v; };\nint f() { B<int> b; return (int)b.v.size(); }\n",
     "#include <vector>\nint f() { std::vector<int> v{1, 2; return v[0]; }\n"},
    {"rust", "fn f(v: &[i32]) -> i32 {\n    let s: i32 = v.iter().sum();\n    s + 1\n}\n",
     "fn f(v: &[i32]) -> i32 {\n    let s: i32 = ;\n    s\n}\n"},
    {"java", "class A {\n  int f(int[] xs) {\n    int s = 0;\n    for (int x : xs) s += x;\n    return s;\n  }\n}\n",
     "class A {\n  int f(int[] xs) {\n    int s = 0\n    return s;\n  }\n}\n"},
};

}  // namespace

TEST_CASE("each language's judge tells a valid file from a broken one") {
  for (const auto& c : kCases) {
    CAPTURE(c.language);
    auto judge = make_judge(c.language);  // a missing tool fails the test: CI has them (scripts/setup)
    CHECK(!judge->description().empty());
    auto valid = judge->judge(c.valid);
    CAPTURE(valid.message);
    CHECK(valid.ok);
    auto invalid = judge->judge(c.invalid);
    CHECK_FALSE(invalid.ok);
    CHECK(!invalid.message.empty());
    // The helper keeps judging after an error (long-lived helpers).
    CHECK(judge->judge(c.valid).ok);
  }
}

TEST_CASE("C's judge counts syntax errors, not errors of meaning, and reads the file's own includes") {
  auto judge = make_judge("c");
  // An undeclared name is gcc's error but the parse is whole.
  CHECK(judge->judge("int f(void) { return undeclared_name + 1; }\n").ok);
  CHECK_FALSE(judge->judge("int f(void) { return (1 + ; }\n").ok);
  // A missing header stops gcc: nothing after it was judged, so not whole.
  CHECK_FALSE(judge->judge("#include \"astfill_no_such_header.h\"\nint x;\n").ok);
  fs::path dir = fs::temp_directory_path() / ("astfill-judge-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "local.h") << "typedef int local_t;\n";
  CHECK(judge->judge("#include \"local.h\"\nlocal_t f(void) { return 1; }\n", dir).ok);
  fs::remove_all(dir);
  CHECK(is_gcc_syntax_error("<stdin>:1:20: error: expected ';' before '}' token"));
  CHECK(is_gcc_syntax_error("<stdin>:2:1: error: expected declaration or statement at end of input"));
  CHECK_FALSE(is_gcc_syntax_error("<stdin>:1:22: error: 'x' undeclared (first use in this function)"));
  CHECK_FALSE(is_gcc_syntax_error("<stdin>:3:5: error: too few arguments to function 'f'; expected 2, have 1"));
  CHECK_FALSE(is_gcc_syntax_error("<stdin>:3:5: note: expected 'int' but argument is of type 'char *'"));
}

TEST_CASE("C++'s judge sees the syntax errors g++ skips after a name it cannot find") {
  auto judge = make_judge("cpp");
  // g++ alone: "'Prie' was not declared in this scope", then the rest of the
  // statement is skipped and no syntax error is reported. The judge declares
  // the names and judges again: each of these is refused.
  for (const char* broken : {
           "int f() { Prie the following; return 0; }\n",
           "struct A { e, and the; };\n",
           "int f() { foo bar baz(1; return 0; }\n",
           "int f() { Foo x = (1 + ; return 0; }\n",
           "void f() { Unknown a(1, ; }\n",
           "namespace q {}\nint g() { q::r s t; return 0; }\n",
           "#include <string>\nint g() { std::strin s the; return 0; }\n",
           "namespace n { e_or_or bad bad ) }\n",
           // A type's place: the file's own variable, a keyword.
           "int f() { int x = 1; int* p = new x(1); return *p; }\n",
           "int f() { int* p = new return(1); return *p; }\n",
       }) {
    CAPTURE(broken);
    CHECK_FALSE(judge->judge(broken).ok);
  }
  // Names it cannot find where the syntax is right are errors of meaning:
  // still whole.
  for (const char* whole : {
           "int f() { return undeclared(1) + x.y; }\n",
           "int f() { Foo x(1); Foo *p = &x; return helper(p, x.n) and p->ok; }\n",
           "void g() { ns::call(1); ns::Type t; t.run(); }\n",
           "int h(Unknown u, Other *o) { return u.a + o->b; }\n",
           "struct A { Missing m; Vec<int> v; };\n",
           "#include <string>\nint g() { std::strin s; return s.size(); }\n",
           // A type it cannot find where a type goes: "expected
           // type-specifier before 'Error'".
           "int f() { return new Error(\"x\") != nullptr; }\n",
       }) {
    CAPTURE(whole);
    auto v = judge->judge(whole);
    CAPTURE(v.message);
    CHECK(v.ok);
  }
  CHECK(is_gcc_syntax_error("x.h:81:3: error: 'else' without a previous 'if'"));
}

TEST_CASE("Python's judge is CPython's parser: tree-sitter's leniencies fail it") {
  auto judge = make_judge("python");
  // The description names the version.
  CHECK(judge->description().starts_with("CPython 3."));
  CHECK_FALSE(judge->judge("def f():\n    x = 1\n      y = 2\n").ok);  // unexpected indent
  CHECK_FALSE(judge->judge("def f():\n    if x:\n        y = 1\n      z = 2\n").ok);  // dedent to no block
  CHECK_FALSE(judge->judge("def f():\n    # only a comment\n").ok);  // a block needs a statement
  CHECK_FALSE(judge->judge("if x:\n\ty = 1\n        z = 2\n").ok);  // tabs and spaces inconsistently
  CHECK_FALSE(judge->judge(std::string("x = 1\0\n", 7)).ok);  // a NUL byte is an error, not a crash
  CHECK(judge->judge("").ok);
  CHECK(judge->judge("s = 'caf\xc3\xa9'\n").ok);
}

TEST_CASE("JavaScript's judge is TypeScript's parser and node's: what node --check refuses fails it") {
  auto judge = make_judge("javascript");
  CHECK_FALSE(judge->judge("let a = /x/gq;\n").ok);  // invalid flags: V8's error, not TypeScript's parser's
  CHECK_FALSE(judge->judge("let a\xF0\x9F\x98\x80b = 1;\n").ok);  // an emoji is no identifier part
  CHECK_FALSE(judge->judge("let x = a\xE2\x94\x80b;\n").ok);      // nor box drawing
  CHECK_FALSE(judge->judge("let s = \xE2\x80\x9Chi\xE2\x80\x9D;\n").ok);  // curly quotes
  CHECK(judge->judge("const $el = /x/g;\nmodule.exports = $el;\n").ok);
  CHECK(judge->judge("if (!module.parent) return;\n").ok);  // CommonJS: a function body
  CHECK(judge->judge("import fs from 'fs';\nexport const n = fs.constants ? 1 : 2;\n").ok);  // an ES module
  CHECK_FALSE(judge->judge("import fs from 'fs';\nexport const n = /x/gg;\n").ok);
}

TEST_CASE("a judge whose tool is missing fails loudly, naming the tool") {
  JudgeOptions none;
  none.tool_dirs = {fs::temp_directory_path() / "astfill-no-tools-here"};
  for (const char* language : {"python", "javascript", "go", "c", "cpp", "rust", "java"}) {
    CAPTURE(language);
    CHECK_THROWS_AS(make_judge(language, none), JudgeUnavailable);
  }
  CHECK_THROWS_WITH(make_judge("go", none), Catch::Contains("gofmt") && Catch::Contains("golang-go"));
  CHECK_THROWS_WITH(make_judge("rust", none), Catch::Contains("rustfmt"));
  CHECK_THROWS_WITH(make_judge("python", none), Catch::Contains("python3"));
  // The TypeScript judge without its npm tree.
  JudgeOptions no_npm;
  no_npm.scripts_dir = fs::temp_directory_path() / "astfill-no-judges-here";
  CHECK_THROWS_WITH(make_judge("typescript", no_npm), Catch::Contains("typescript") && Catch::Contains("scripts/setup"));
  // A language without a judge is an error too, never a pass.
  CHECK_THROWS_AS(make_judge("cobol"), JudgeUnavailable);
}

TEST_CASE("accounting: an empty answer is empty, never a whole file") {
  CHECK(is_empty_answer(""));
  CHECK(is_empty_answer(" \n\t"));
  CHECK_FALSE(is_empty_answer("x"));
  Tally t;
  Outcome empty;
  empty.empty = true;
  empty.whole = true;  // even if a caller judged the file without the middle as whole
  t.add(empty);
  Outcome whole;
  whole.whole = true;
  whole.exact = true;
  whole.similarity = 1;
  t.add(whole);
  Outcome broken;
  broken.similarity = 0.5;
  broken.check_ms = 1;
  broken.decode_ms = 20;
  broken.searched = true;  // the search ran and found nothing
  broken.search_ms = 7;
  t.add(broken);
  CHECK(t.tasks == 3);
  CHECK(t.empty == 1);
  CHECK(t.whole == 1);
  CHECK(t.non_empty() == 2);
  CHECK(t.whole_rate() == Approx(1.0 / 3));
  CHECK(t.whole_rate_non_empty() == Approx(0.5));
  CHECK(t.empty_share() == Approx(1.0 / 3));
  CHECK(t.exact_rate() == Approx(1.0 / 3));
  CHECK(t.mean_similarity() == Approx(0.5));
  CHECK(t.check_share() == Approx(0.05));
  CHECK(t.searched == 1);
  CHECK(t.search_found == 0);
  CHECK(t.search_ms == Approx(7));
  // All empty: nothing is whole, and the non-empty rate is 0, not 1.
  Tally all_empty;
  all_empty.add(empty);
  all_empty.add(empty);
  CHECK(all_empty.whole_rate() == 0);
  CHECK(all_empty.whole_rate_non_empty() == 0);
  CHECK(all_empty.empty_share() == 1);
  Tally sum;
  sum.add(t);
  sum.add(all_empty);
  CHECK(sum.tasks == 5);
  CHECK(sum.searched == 1);
  CHECK(sum.search_ms == Approx(7));
  CHECK(sum.whole == 1);
  CHECK(sum.empty == 3);
}
