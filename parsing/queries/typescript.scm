; astfill's own TypeScript patterns, added to javascript.scm's; the grammar's
; tags.scm (interfaces, abstract classes, signatures, modules) and
; JavaScript's follow.

(class_declaration name: (type_identifier) @name) @definition.class
(public_field_definition name: (property_identifier) @name) @definition.field
(property_signature name: (property_identifier) @name) @definition.field
(type_alias_declaration name: (type_identifier) @name) @definition.type
(enum_declaration name: (identifier) @name) @definition.enum
(enum_body name: (property_identifier) @name @definition.enum_member)
(enum_assignment name: (property_identifier) @name) @definition.enum_member
(internal_module name: (identifier) @name) @definition.namespace

; Uses of types.
(type_identifier) @name @reference.type

; `import fs = require("fs")`
(import_statement
  (import_require_clause source: (string (string_fragment) @import.module))) @import
