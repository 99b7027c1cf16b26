; astfill's own Java patterns, run before the grammar's tags.scm (classes,
; interfaces, methods, calls).

(enum_declaration name: (identifier) @name) @definition.enum
(enum_constant name: (identifier) @name) @definition.enum_member
(record_declaration name: (identifier) @name) @definition.class
(annotation_type_declaration name: (identifier) @name) @definition.interface
(constructor_declaration name: (identifier) @name) @definition.method
(field_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.field
(constant_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.constant

; Uses.
(field_access field: (identifier) @name) @reference.member
(type_identifier) @name @reference.type

(import_declaration (scoped_identifier) @import.module) @import
(import_declaration (identifier) @import.module) @import
(import_declaration (scoped_identifier) @import.module (asterisk) @import.name) @import
