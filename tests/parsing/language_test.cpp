// Grammars load into the tree-sitter core we link, the language table names
// only node types the grammars have, and files map to languages by extension.
#include <catch2/catch.hpp>

#include <algorithm>

#include "parsing/extract.h"
#include "parsing/language.h"
#include "parsing/queries.h"

using namespace astfill::parsing;

TEST_CASE("every grammar loads into the tree-sitter core", "[language]") {
  auto languages = all_languages();
  REQUIRE(languages.size() == 9);
  for (const Language* l : languages) {
    INFO(l->id);
    uint32_t version = ts_language_version(l->grammar);
    CHECK(version >= TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION);
    CHECK(version <= TREE_SITTER_LANGUAGE_VERSION);
    CHECK(ts_language_symbol_count(l->grammar) < 1024);  // NodeTypes' bitset
    TSParser* parser = ts_parser_new();
    CHECK(ts_parser_set_language(parser, l->grammar));
    ts_parser_delete(parser);
  }
}

TEST_CASE("the language table names only node types the grammars have", "[language]") {
  CHECK(unknown_node_type_names().empty());
}

TEST_CASE("each language's query compiles with the grammar's tags.scm", "[language]") {
  for (const Language* l : all_languages()) {
    INFO(l->id);
    const CompiledQuery& q = query_for(*l);
    REQUIRE(q.query != nullptr);
    CHECK(q.error.empty());
    CHECK(q.own_patterns > 0);
    CHECK(ts_query_pattern_count(q.query) > q.own_patterns);  // tags.scm came along
  }
}

TEST_CASE("languages by LSP id", "[language]") {
  for (const char* id : {"python", "javascript", "typescript", "typescriptreact", "c", "cpp", "go", "rust", "java"}) {
    INFO(id);
    REQUIRE(find_language(id) != nullptr);
    CHECK(find_language(id)->id == id);
    CHECK(is_supported_language(id));
  }
  CHECK(find_language("javascriptreact") == find_language("javascript"));
  CHECK_FALSE(is_supported_language("cobol"));
  CHECK_FALSE(is_supported_language(""));
}

TEST_CASE("languages by file extension", "[language]") {
  CHECK(language_of_path("a/b/c.py") == "python");
  CHECK(language_of_path("stubs.pyi") == "python");
  for (const char* p : {"x.js", "x.mjs", "x.cjs", "x.jsx"}) CHECK(language_of_path(p) == "javascript");
  for (const char* p : {"x.ts", "x.mts", "x.cts"}) CHECK(language_of_path(p) == "typescript");
  CHECK(language_of_path("App.tsx") == "typescriptreact");
  CHECK(language_of_path("x.c") == "c");
  CHECK(language_of_path("x.h") == "c");  // ambiguous: C unless the text shows C++ (language_of_file)
  for (const char* p : {"x.cc", "x.cpp", "x.cxx", "x.hpp", "x.hh", "x.hxx", "x.h++", "X.CPP"})
    CHECK(language_of_path(p) == "cpp");
  CHECK(language_of_path("main.go") == "go");
  CHECK(language_of_path("lib.rs") == "rust");
  CHECK(language_of_path("Main.java") == "java");
  CHECK(language_of_path("README") == "");
  CHECK(language_of_path(".py") == "");
  CHECK(language_of_path("dir.py/file") == "");
  CHECK(language_of_path("notes.txt") == "");
}

TEST_CASE("a .h header is C++ when its text shows C++", "[language]") {
  // C headers, including the usual C++ guard and names C++ reserves.
  const char* c_headers[] = {
      "#ifndef X_H\n#define X_H\n#include <stdio.h>\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n"
      "struct point { int x, y; };\nint operator_count(int operator, int new);\n"
      "#ifdef __cplusplus\n}\n#endif\n#endif\n",
      "typedef struct node { struct node *friend, *virtual; } node_t;\n/* class Foo { public: }; std::x */\n"
      "const char *s = \"namespace a { class B {}; } ::\";\n",
      "#include <sys/types.h>\nstatic inline int max(int a, int b) { return a > b ? a : b; }\n",
      "",
  };
  for (const char* text : c_headers) {
    CAPTURE(text);
    CHECK_FALSE(looks_like_cpp(text));
    CHECK(language_of_file("include/x.h", text) == "c");
  }
  const char* cpp_headers[] = {
      "#pragma once\n#include <vector>\nint f();\n",
      "namespace astfill {\nint f();\n}\n",
      "class Widget {\n public:\n  int size() const;\n};\n",
      "struct S : Base { int x; };\nclass Derived : public Base {};\n",
      "template <typename T> T max(T a, T b);\n",
      "struct A {\nprivate:\n  int x;\n};\n",
      "void f() { int* p = nullptr; }\n",
      "using Id = unsigned;\n",
      "int g() { return std::max(1, 2); }\n",
      "constexpr int k = 3;\n",
  };
  for (const char* text : cpp_headers) {
    CAPTURE(text);
    CHECK(looks_like_cpp(text));
    CHECK(language_of_file("include/x.h", text) == "cpp");
  }
  // Only C files are reconsidered.
  CHECK(language_of_file("x.py", "class A:\n    pass\n") == "python");
  CHECK(language_of_file("x.hpp", "int f();") == "cpp");
}

TEST_CASE("each language lists its grammar's keywords once", "[language]") {
  auto has = [](const Language* l, std::string_view word) {
    return std::find(l->keywords.begin(), l->keywords.end(), word) != l->keywords.end();
  };
  CHECK(has(find_language("python"), "elif"));
  CHECK(has(find_language("python"), "lambda"));
  CHECK_FALSE(has(find_language("python"), "function"));
  CHECK(has(find_language("javascript"), "function"));
  CHECK(has(find_language("rust"), "impl"));
  CHECK(has(find_language("go"), "func"));
  for (const Language* l : all_languages()) {
    INFO(l->id);
    CHECK_FALSE(l->keywords.empty());
    CHECK_FALSE(has(l, "("));  // words only
    CHECK(&find_language(l->id)->keywords == &l->keywords);  // built once, with the table
  }
}
