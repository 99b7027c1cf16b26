; astfill's own Python patterns, run before the grammar's tags.scm (which
; covers classes, functions, module-level assignments and calls).

; Class attributes: `count = 0`, `limit: int = 5` in a class body.
(class_definition
  body: (block
    (expression_statement
      (assignment left: (identifier) @name) @definition.field)))

; `type Point = tuple[int, int]` (Python 3.12)
(type_alias_statement
  left: (type (identifier) @name)) @definition.type

; Uses: attribute accesses (calls come from tags.scm).
(attribute attribute: (identifier) @name) @reference.member

; Imports, one match per module (and per imported name).
(import_statement name: (dotted_name) @import.module) @import
(import_statement name: (aliased_import name: (dotted_name) @import.module)) @import
(import_from_statement module_name: (_) @import.module) @import
(import_from_statement
  module_name: (_) @import.module
  name: (dotted_name) @import.name) @import
(import_from_statement
  module_name: (_) @import.module
  name: (aliased_import name: (dotted_name) @import.name)) @import
(import_from_statement
  module_name: (_) @import.module
  (wildcard_import) @import.name) @import
(future_import_statement name: (dotted_name) @import.name) @import
