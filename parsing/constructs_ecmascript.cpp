// JavaScript and TypeScript: the constructs its own front end refuses where tree-sitter's
// grammar accepts them (Document::constructs_refused, parsing/constructs.h).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "parsing/constructs.h"
#include "parsing/nodes.h"

namespace astfill::parsing::constructs {
namespace {

// Whether `node` (JavaScript or TypeScript) is inside the constructor of a
// class that extends another, the only place a `super(...)` call may be:
// arrow functions see their surroundings' constructor, any other function
// (or a method, a static block, a field's initializer) does not.
bool in_derived_constructor(TSNode node, std::string_view text) {
  for (TSNode at = ts_node_parent(node); !ts_node_is_null(at); at = ts_node_parent(at)) {
    const std::string_view t = ts_node_type(at);
    if (t == "arrow_function") continue;
    if (t == "method_definition") {
      TSNode name = ts_node_child_by_field_name(at, "name", 4);
      if (ts_node_is_null(name) ||
          text_between(text, ts_node_start_byte(name), ts_node_end_byte(name)) != "constructor")
        return false;
      TSNode body = ts_node_parent(at);
      TSNode owner = ts_node_is_null(body) ? body : ts_node_parent(body);
      if (ts_node_is_null(owner) || std::string_view(ts_node_type(body)) != "class_body") return false;
      for (uint32_t i = 0, n = ts_node_named_child_count(owner); i < n; ++i)
        if (std::string_view(ts_node_type(ts_node_named_child(owner, i))) == "class_heritage") return true;
      return false;
    }
    if (t == "function_declaration" || t == "function_expression" || t == "function" || t == "generator_function" ||
        t == "generator_function_declaration" || t == "class_static_block" || t == "field_definition" ||
        t == "public_field_definition" || t == "program")
      return false;
  }
  return false;
}

// Whether `scope` (JavaScript or TypeScript) holds a node `wanted` takes
// of its own: not inside a function or a class within it.
template <typename Wanted>
bool holds_own_if(TSNode scope, Wanted&& wanted) {
  bool found = false;
  for_each_preorder(scope, [&](TSNode node) {
    const std::string_view t = ts_node_type(node);
    if (wanted(node, t)) {
      found = true;
      return Walk::Stop;
    }
    if (!ts_node_eq(node, scope) &&
        (t == "arrow_function" || t == "function_declaration" || t == "function_expression" || t == "function" ||
         t == "generator_function" || t == "generator_function_declaration" || t == "method_definition" ||
         t == "class" || t == "class_declaration"))
      return Walk::Skip;
    return Walk::Enter;
  });
  return found;
}

// The same, for a node of type `wanted`.
bool holds_own(TSNode scope, std::string_view wanted) {
  return holds_own_if(scope, [&](TSNode, std::string_view t) { return t == wanted; });
}

// Whether `node` is a `super(...)` call.
bool super_call(TSNode node) {
  if (std::string_view(ts_node_type(node)) != "call_expression") return false;
  TSNode callee = ts_node_child_by_field_name(node, "function", 8);
  return !ts_node_is_null(callee) && std::string_view(ts_node_type(callee)) == "super";
}

// Whether a function that is not async (a method, a declaration, an
// expression) awaits in its own body.
bool awaits_outside_async(TSNode fn) {
  for (uint32_t i = 0, n = ts_node_child_count(fn); i < n; ++i)
    if (std::string_view(ts_node_type(ts_node_child(fn, i))) == "async") return false;
  TSNode body = ts_node_child_by_field_name(fn, "body", 4);
  return !ts_node_is_null(body) && holds_own(body, "await_expression");
}

// Whether the tree's JavaScript file is a module (an `import` or `export`
// at its top level): node compiles any other file as a function's body,
// where a `return` at the top level is allowed.
bool ecmascript_module(TSNode root) {
  for (uint32_t i = 0, n = ts_node_named_child_count(root); i < n; ++i) {
    const std::string_view type = ts_node_type(ts_node_named_child(root, i));
    if (type == "import_statement" || type == "export_statement") return true;
  }
  return false;
}

// Whether a node of type `t` is a function (a declaration, an expression,
// an arrow, a generator or a method).
bool function_like(std::string_view t) {
  return t == "arrow_function" || t == "function_declaration" || t == "function_expression" || t == "function" ||
         t == "generator_function" || t == "generator_function_declaration" || t == "method_definition";
}

// Whether `node` is in no function (nor a class's static block, which
// refuses a `return` of its own anyway).
bool outside_functions(TSNode node) {
  for (TSNode at = ts_node_parent(node); !ts_node_is_null(at); at = ts_node_parent(at)) {
    const std::string_view t = ts_node_type(at);
    if (function_like(t) || t == "class_static_block") return false;
  }
  return true;
}

// Whether JavaScript's formal parameters `list` name a parameter twice
// where the language forbids it: in strict code, a method's or an arrow
// function's list, or a list with a default, a rest or a pattern (`rt
// function isParseEvent(options, options) {` after `expo` in a module:
// V8's "Duplicate parameter name not allowed in this context"). A sloppy
// plain function may repeat one.
bool repeats_a_name(TSNode list, const Context& c) {
  std::vector<std::string_view> names;
  bool simple = true;
  for (uint32_t i = 0, n = ts_node_named_child_count(list); i < n; ++i) {
    TSNode p = ts_node_named_child(list, i);
    const std::string_view what = ts_node_type(p);
    if (what == "comment") continue;
    if (what != "identifier") {
      simple = false;
      // A default's or a rest's name (`a = 1`, `...a`).
      p = what == "assignment_pattern" ? ts_node_child_by_field_name(p, "left", 4)
          : what == "rest_pattern"     ? ts_node_named_child(p, 0)
                                       : TSNode{};
      if (ts_node_is_null(p) || std::string_view(ts_node_type(p)) != "identifier") continue;
    }
    names.push_back(text_between(c.text, ts_node_start_byte(p), ts_node_end_byte(p)));
  }
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) == names.end()) return false;
  TSNode owner = ts_node_parent(list);
  const std::string_view kind = ts_node_is_null(owner) ? "" : ts_node_type(owner);
  if (!simple || kind == "method_definition" || kind == "arrow_function" || c.strict_file()) return true;
  for (TSNode up = owner; !ts_node_is_null(up); up = ts_node_parent(up))
    if (std::string_view(ts_node_type(up)) == "class_body") return true;
  return false;
}

// Whether a class around `node` declares the private name `name` (`#x`):
// a field, a method or an accessor of its body's own.
bool private_name_declared(TSNode node, std::string_view name, std::string_view text) {
  for (TSNode up = ts_node_parent(node); !ts_node_is_null(up); up = ts_node_parent(up)) {
    if (std::string_view(ts_node_type(up)) != "class_body") continue;
    for (uint32_t i = 0, n = ts_node_named_child_count(up); i < n; ++i) {
      TSNode member = ts_node_named_child(up, i);
      for (uint32_t k = 0, m = ts_node_child_count(member); k < m; ++k) {
        TSNode part = ts_node_child(member, k);
        if (std::string_view(ts_node_type(part)) == "private_property_identifier" &&
            text_between(text, ts_node_start_byte(part), ts_node_end_byte(part)) == name)
          return true;
      }
    }
  }
  return false;
}

// The names a binding pattern binds (`a`, `{a, b: c, d = 1, ...e}`, `[f, ,
// g = 2, ...h]`, TypeScript's `i: T` parameter), added to `out`.
void bound_names(TSNode pattern, std::string_view text, std::vector<std::string_view>& out) {
  if (ts_node_is_null(pattern)) return;
  const std::string_view t = ts_node_type(pattern);
  if (t == "identifier" || t == "shorthand_property_identifier_pattern") {
    out.push_back(text_between(text, ts_node_start_byte(pattern), ts_node_end_byte(pattern)));
  } else if (t == "pair_pattern") {
    bound_names(ts_node_child_by_field_name(pattern, "value", 5), text, out);
  } else if (t == "object_assignment_pattern" || t == "assignment_pattern") {
    bound_names(ts_node_child_by_field_name(pattern, "left", 4), text, out);
  } else if (t == "required_parameter" || t == "optional_parameter") {
    bound_names(ts_node_child_by_field_name(pattern, "pattern", 7), text, out);
  } else if (t == "object_pattern" || t == "array_pattern" || t == "rest_pattern" || t == "formal_parameters") {
    for (uint32_t i = 0, n = ts_node_named_child_count(pattern); i < n; ++i)
      bound_names(ts_node_named_child(pattern, i), text, out);
  }
}

// The names one statement declares in its own scope: a `let`/`const`/`var`
// declaration's, a class's or a function's name, an import's bindings
// (`export` looked through).
void declared_names(TSNode statement, std::string_view text, bool imports, std::vector<std::string_view>& out) {
  std::string_view t = ts_node_type(statement);
  if (t == "export_statement") {
    statement = ts_node_child_by_field_name(statement, "declaration", 11);
    if (ts_node_is_null(statement)) return;
    t = ts_node_type(statement);
  }
  if (t == "lexical_declaration" || t == "variable_declaration") {
    for (uint32_t i = 0, n = ts_node_named_child_count(statement); i < n; ++i) {
      TSNode d = ts_node_named_child(statement, i);
      if (std::string_view(ts_node_type(d)) == "variable_declarator")
        bound_names(ts_node_child_by_field_name(d, "name", 4), text, out);
    }
  } else if (t == "class_declaration" || t == "function_declaration" || t == "generator_function_declaration") {
    TSNode name = ts_node_child_by_field_name(statement, "name", 4);
    if (!ts_node_is_null(name) && std::string_view(ts_node_type(name)) == "identifier")
      out.push_back(text_between(text, ts_node_start_byte(name), ts_node_end_byte(name)));
  } else if (t == "import_statement" && imports) {
    for (uint32_t i = 0, n = ts_node_named_child_count(statement); i < n; ++i) {
      TSNode clause = ts_node_named_child(statement, i);
      if (std::string_view(ts_node_type(clause)) != "import_clause") continue;
      for (uint32_t k = 0, m = ts_node_named_child_count(clause); k < m; ++k) {
        TSNode part = ts_node_named_child(clause, k);
        const std::string_view what = ts_node_type(part);
        if (what == "identifier") {
          bound_names(part, text, out);
        } else if (what == "namespace_import") {
          bound_names(ts_node_named_child(part, 0), text, out);
        } else if (what == "named_imports") {
          for (uint32_t j = 0, q = ts_node_named_child_count(part); j < q; ++j) {
            TSNode spec = ts_node_named_child(part, j);
            if (std::string_view(ts_node_type(spec)) != "import_specifier") continue;
            TSNode alias = ts_node_child_by_field_name(spec, "alias", 5);
            bound_names(ts_node_is_null(alias) ? ts_node_child_by_field_name(spec, "name", 4) : alias, text, out);
          }
        }
      }
    }
  }
}

// Whether a `let`/`const` declaration (`declaration`, the one the answer
// touches) binds a name its scope already binds: another declaration of
// the same block, switch or module (`let file` + `name, start, end` below
// `const start = Date.now();`: V8's "Identifier 'start' has already been
// declared", an early error), the same declaration twice (`let a, a`), or
// the parameters of the function or catch clause whose body the block is.
// Names a `var` hoists from nested blocks are not looked for.
bool redeclares(TSNode declaration, const Context& c, bool javascript) {
  std::vector<std::string_view> own;
  declared_names(declaration, c.text, false, own);
  if (own.empty()) return false;
  TSNode statement = declaration;
  TSNode scope = ts_node_parent(declaration);
  if (!ts_node_is_null(scope) && std::string_view(ts_node_type(scope)) == "export_statement") {
    statement = scope;
    scope = ts_node_parent(scope);
  }
  if (ts_node_is_null(scope)) return false;
  std::string_view kind = ts_node_type(scope);
  if (kind == "switch_case" || kind == "switch_default") {
    scope = ts_node_parent(scope);
    kind = ts_node_is_null(scope) ? "" : ts_node_type(scope);
  }
  if (kind != "statement_block" && kind != "program" && kind != "switch_body" && kind != "class_static_block")
    return false;
  std::vector<std::string_view> others;
  auto gather = [&](TSNode holder) {
    for (uint32_t i = 0, n = ts_node_named_child_count(holder); i < n; ++i) {
      TSNode child = ts_node_named_child(holder, i);
      if (!ts_node_eq(child, statement)) declared_names(child, c.text, javascript, others);
    }
  };
  if (kind == "switch_body") {
    for (uint32_t i = 0, n = ts_node_named_child_count(scope); i < n; ++i) gather(ts_node_named_child(scope, i));
  } else {
    gather(scope);
  }
  if (kind == "statement_block") {
    TSNode owner = ts_node_parent(scope);
    const std::string_view o = ts_node_is_null(owner) ? "" : ts_node_type(owner);
    if (o == "catch_clause") {
      bound_names(ts_node_child_by_field_name(owner, "parameter", 9), c.text, others);
    } else if (function_like(o)) {
      TSNode params = ts_node_child_by_field_name(owner, "parameters", 10);
      if (ts_node_is_null(params)) params = ts_node_child_by_field_name(owner, "parameter", 9);
      bound_names(params, c.text, others);
    }
  }
  std::sort(others.begin(), others.end());
  std::vector<std::string_view> seen;
  for (std::string_view name : own) {
    if (std::binary_search(others.begin(), others.end(), name)) return true;
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) return true;
    seen.push_back(name);
  }
  return false;
}

}  // namespace

bool ecmascript_refuses(TSNode node, const Context& c) {
  const std::string_view type = ts_node_type(node);
  const bool javascript = c.language.id == "javascript";
  if (javascript && type == "formal_parameters" && !c.tree_holds_error_node() && repeats_a_name(node, c))
    return true;
  // A parameter is a name or a destructuring pattern, never a member or an
  // element (`removeTokenBindingKey(ki` + `tion.` before `correlationId:
  // string)`: TypeScript's "',' expected"; tree-sitter's patterns take
  // `a.b` for destructuring assignments).
  // An arrow function's too (`return (this._payload) => {`, TypeScript's
  // "';' expected"). Only in a tree without errors: in a file broken
  // elsewhere tree-sitter may read a parenthesized expression as parameters
  // (`(this.opts.defaultMeta = ...)` in ajv.ts with a `)` missing above).
  if ((type == "formal_parameters" || type == "required_parameter" || type == "optional_parameter") &&
      !c.tree_holds_error_node()) {
    const bool list = type == "formal_parameters";
    for (uint32_t i = 0, n = list ? ts_node_named_child_count(node) : 1; i < n; ++i) {
      TSNode p = list ? ts_node_named_child(node, i) : ts_node_child_by_field_name(node, "pattern", 7);
      if (ts_node_is_null(p)) continue;
      const std::string_view what = ts_node_type(p);
      if (what == "member_expression" || what == "subscript_expression") return true;
    }
    return false;
  }
  if (type == "expression_statement") {
    // `{` begins a block where a statement begins: an object literal
    // there (`if (x) { "a": 1, }`) is no statement. Likewise `function`
    // and `class` begin declarations, which need a name (`function (e)
    // {`: V8's "Function statements require a function name").
    TSNode first = ts_node_child(node, 0);
    const std::string_view what = ts_node_is_null(first) ? "" : ts_node_type(first);
    if (what == "object" || what == "function_expression" || what == "generator_function" || what == "class")
      return true;
    return false;
  }
  if ((type == "assignment_expression" || type == "augmented_assignment_expression")) {
    // An assignment as an operator's operand (`a +` + `b = c`: tree-sitter
    // reads `a + (b = c)`; V8's "Invalid left-hand side in assignment",
    // TypeScript's "')' expected"): only parentheses put one there. Only in
    // a tree without errors: in a file broken elsewhere tree-sitter's
    // recovery makes such shapes of correct code (bench_broken --judge:
    // typescript's correct cuts refused in broken files 55 -> 65 without
    // this).
    TSNode parent = ts_node_parent(node);
    const std::string_view in = ts_node_is_null(parent) ? "" : ts_node_type(parent);
    if ((in == "binary_expression" || in == "unary_expression" || in == "update_expression" ||
         in == "await_expression") &&
        !c.tree_holds_error_node())
      return true;
    // `(a, 0, m) = x`: a parenthesized left side must hold something
    // assignable (V8: "Invalid left-hand side in assignment").
    TSNode left = ts_node_child_by_field_name(node, "left", 4);
    bool wrapped = false;
    while (!ts_node_is_null(left) && std::string_view(ts_node_type(left)) == "parenthesized_expression" &&
           ts_node_named_child_count(left) == 1) {
      left = ts_node_named_child(left, 0);
      wrapped = true;
    }
    if (wrapped && !ts_node_is_null(left)) {
      const std::string_view inner = ts_node_type(left);
      static const std::string_view kAssignable[] = {"identifier",          "member_expression", "subscript_expression",
                                                     "non_null_expression", "as_expression",     "satisfies_expression",
                                                     "type_assertion"};
      if (std::find(std::begin(kAssignable), std::end(kAssignable), inner) == std::end(kAssignable)) return true;
    }
    return false;
  }
  if (type == "call_expression") {
    // `super(...)` only in a derived class's constructor (V8: "'super'
    // keyword unexpected here"; an early error): `cons` + `toroutine() {`
    // where `constructor(` was leaves the suffix's super() call in a method.
    if (super_call(node) && !in_derived_constructor(node, c.text)) return true;
    return false;
  }
  if ((type == "method_definition" || type == "function_declaration" || type == "function_expression" ||
       type == "function")) {
    // `await` only in an async function (V8: "Unexpected reserved word";
    // `static` + `     return (err) {` where `static async azure(client)
    // {` was leaves the body's await in a plain method).
    if (awaits_outside_async(node)) return true;
    // And a `super(...)` call of its own below the lines asked about, where
    // it is no derived class's constructor (`export` + `ributes = {` above
    // `constructor() { super(...); }`: a constructor method of an object).
    TSNode body = ts_node_child_by_field_name(node, "body", 4);
    if (!ts_node_is_null(body) && holds_own_if(body, [](TSNode n, std::string_view) { return super_call(n); }) &&
        !in_derived_constructor(body, c.text))
      return true;
    return false;
  }
  if (c.finished && (type == "try_statement" || type == "statement_block" || type == "program" ||
                     type == "switch_case" || type == "switch_default")) {
    // A try needs a catch or a finally (`try { ... }` then `catch` +
    // `eap: (err, options) => {`, a label to the grammar: TypeScript's
    // "'catch' or 'finally' expected"). Asked of the statements' container
    // too: the answer there lies after the try, in the label.
    auto bare = [](TSNode t) {
      return std::string_view(ts_node_type(t)) == "try_statement" &&
             ts_node_is_null(ts_node_child_by_field_name(t, "handler", 7)) &&
             ts_node_is_null(ts_node_child_by_field_name(t, "finalizer", 9));
    };
    if (type == "try_statement") return bare(node);
    for (uint32_t i = 0, n = ts_node_named_child_count(node); i < n; ++i)
      if (bare(ts_node_named_child(node, i))) return true;
  }
  if (javascript && c.finished && type == "private_property_identifier") {
    // A private name read or written must be declared by a class around it
    // (`s = (this.#getProto, 'function')` in a function of no class: V8's
    // "Private field '#getProto' must be declared in an enclosing class", an
    // early error). TypeScript's parser leaves that to its checker.
    TSNode parent = ts_node_parent(node);
    if (ts_node_is_null(parent) || std::string_view(ts_node_type(parent)) != "member_expression") return false;
    return !private_name_declared(node, text_between(c.text, ts_node_start_byte(node), ts_node_end_byte(node)), c.text);
  }
  if (type == "arrow_function") {
    // An arrow's body that begins with `{` is a block, never an object
    // (ECMAScript's ConciseBody; an object needs parentheses): tree-sitter
    // reads `(name, event) => {` + `trySend(Object) { return null; }` as one
    // with a method, TypeScript's "';' expected".
    TSNode body = ts_node_child_by_field_name(node, "body", 4);
    if (!ts_node_is_null(body) && std::string_view(ts_node_type(body)) == "object") return true;
    // Likewise an arrow function's own `await` (`sta` + `rgetName = (err)
    // => {` where `static async azure(client, options = {}) {` was: V8's
    // "Unexpected reserved word").
    return awaits_outside_async(node);
  }
  if (c.finished && type == "number") {
    // A legacy octal or a decimal with a leading zero (`0000`, `09`) in
    // strict code (V8's "Octal literals are not allowed in strict mode",
    // TypeScript's "Octal literals are not allowed"); TypeScript refuses
    // them in any file.
    const std::string_view digits = text_between(c.text, ts_node_start_byte(node), ts_node_end_byte(node));
    if (digits.size() < 2 || digits[0] != '0' ||
        !std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      return false;
    if (!javascript || c.strict_file()) return true;
    for (TSNode up = ts_node_parent(node); !ts_node_is_null(up); up = ts_node_parent(up))
      if (std::string_view(ts_node_type(up)) == "class_body") return true;
    return false;
  }
  if (javascript && (type == "statement_block" || type == "return_statement") && outside_functions(node) &&
      ecmascript_module(c.root)) {
    // A `return` in no function of a module (V8's "Illegal return
    // statement"; `expor` + `t function isSync(socket, callback) { ... } {`
    // where `export async function CancelReadableStream(stream) {` was
    // leaves the function's body a block of the module's).
    if (type == "return_statement" || holds_own(node, "return_statement")) return true;
    return false;
  }
  if (type == "class_static_block") {
    // A class's static block is no function: a `return` in it (outside the
    // functions it holds) is V8's "Illegal return statement" (`static` +
    // `     {` where `static async azure(client) {` was makes the method's
    // body a static block).
    if (holds_own(node, "return_statement")) return true;
    return false;
  }
  // JavaScript's early errors in declarations and statements that
  // tree-sitter-javascript takes, once the code is finished (more text
  // could still supply what is missing). TypeScript's parser reports the
  // try's; the others TypeScript reports from its checker, which the judge
  // does not run, so they are JavaScript's only.
  if (c.finished && type == "try_statement") {
    // A try with neither catch nor finally (`try {` + `...}` where the
    // answer ended at the block: "'catch' or 'finally' expected").
    return ts_node_is_null(ts_node_child_by_field_name(node, "handler", 7)) &&
           ts_node_is_null(ts_node_child_by_field_name(node, "finalizer", 9));
  }
  if (c.finished && javascript && type == "variable_declarator" &&
      ts_node_is_null(ts_node_child_by_field_name(node, "value", 5))) {
    // A destructuring declaration without its initializer (`const {
    // eval_id }`: V8's "Missing initializer in destructuring
    // declaration"), or a const one (`export const pa`: "Missing
    // initializer in const declaration"). A for-in or for-of head's
    // binding is no declarator.
    TSNode name = ts_node_child_by_field_name(node, "name", 4);
    const std::string_view what = ts_node_is_null(name) ? "" : ts_node_type(name);
    if (what == "object_pattern" || what == "array_pattern") return true;
    TSNode declaration = ts_node_parent(node);
    if (!ts_node_is_null(declaration) && std::string_view(ts_node_type(declaration)) == "lexical_declaration") {
      TSNode kind = ts_node_child_by_field_name(declaration, "kind", 4);
      if (!ts_node_is_null(kind) && std::string_view(ts_node_type(kind)) == "const") return true;
    }
    return false;
  }
  if (c.finished && type == "lexical_declaration" && !c.tree_holds_error_node()) return redeclares(node, c, javascript);
  if (c.finished && javascript && type == "unary_expression") {
    // `delete name` in strict code (`delete sc` in a "use strict" file:
    // V8's "Delete of an unqualified identifier in strict mode").
    TSNode op = ts_node_child_by_field_name(node, "operator", 8);
    TSNode argument = ts_node_child_by_field_name(node, "argument", 8);
    if (ts_node_is_null(op) || ts_node_is_null(argument) || std::string_view(ts_node_type(op)) != "delete") return false;
    while (std::string_view(ts_node_type(argument)) == "parenthesized_expression" &&
           ts_node_named_child_count(argument) == 1)
      argument = ts_node_named_child(argument, 0);
    if (std::string_view(ts_node_type(argument)) != "identifier") return false;
    if (c.strict_file()) return true;
    for (TSNode up = ts_node_parent(node); !ts_node_is_null(up); up = ts_node_parent(up))
      if (std::string_view(ts_node_type(up)) == "class_body") return true;
    return false;
  }
  if (type == "update_expression") {
    TSNode argument = ts_node_child_by_field_name(node, "argument", 8);
    if (!ts_node_is_null(argument) && std::string_view(ts_node_type(argument)) == "update_expression") return true;
    return false;
  }
  return false;
}

}  // namespace astfill::parsing::constructs
