; astfill's own patterns for JavaScript and TypeScript alike, run before the
; grammars' tags.scm (which cover functions, classes, methods and calls).

; Top-level `const X = ...` / `let y`, exported or not. A function value is
; also captured by tags.scm as a function, which takes precedence.
(program
  (lexical_declaration
    kind: "const"
    (variable_declarator name: (identifier) @name) @definition.constant))
(program
  (export_statement
    declaration: (lexical_declaration
      kind: "const"
      (variable_declarator name: (identifier) @name) @definition.constant)))
(program
  (lexical_declaration
    kind: "let"
    (variable_declarator name: (identifier) @name) @definition.variable))
(program
  (variable_declaration
    (variable_declarator name: (identifier) @name) @definition.variable))

; Uses: member accesses (calls and `new` come from tags.scm).
(member_expression property: (property_identifier) @name) @reference.member

; Imports: ES modules, re-exports, require('x') and import('x').
(import_statement source: (string (string_fragment) @import.module)) @import
(import_statement
  (import_clause (identifier) @import.name)
  source: (string (string_fragment) @import.module)) @import
(import_statement
  (import_clause (namespace_import) @import.name)
  source: (string (string_fragment) @import.module)) @import
(import_statement
  (import_clause (named_imports (import_specifier name: (_) @import.name)))
  source: (string (string_fragment) @import.module)) @import
(export_statement
  (export_clause (export_specifier name: (_) @import.name))
  source: (string (string_fragment) @import.module)) @import
(export_statement
  "*" @import.name
  source: (string (string_fragment) @import.module)) @import
(export_statement
  (namespace_export) @import.name
  source: (string (string_fragment) @import.module)) @import
((call_expression
   function: (identifier) @_require
   arguments: (arguments . (string (string_fragment) @import.module) .)) @import
 (#eq? @_require "require"))
(call_expression
  function: (import)
  arguments: (arguments . (string (string_fragment) @import.module))) @import
