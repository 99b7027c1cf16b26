; astfill's own C patterns, run before the grammar's tags.scm (structs,
; unions, functions, typedefs, enums). A definition captured at a declarator
; is widened to its declaration in extract.cpp, so signatures keep the type.

(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
(union_specifier name: (type_identifier) @name body: (_)) @definition.struct
(enum_specifier name: (type_identifier) @name body: (_)) @definition.enum
(enumerator name: (identifier) @name) @definition.enum_member
(field_declaration declarator: (field_identifier) @name) @definition.field
(field_declaration declarator: (_ declarator: (field_identifier) @name)) @definition.field
(preproc_def name: (identifier) @name) @definition.constant
(preproc_function_def name: (identifier) @name) @definition.function
(translation_unit
  (declaration declarator: (identifier) @name) @definition.variable)
(translation_unit
  (declaration declarator: (init_declarator declarator: (identifier) @name)) @definition.variable)

; Uses.
(call_expression function: (identifier) @name) @reference.call
(call_expression function: (field_expression field: (field_identifier) @name)) @reference.call
(field_expression field: (field_identifier) @name) @reference.member
(type_identifier) @name @reference.type

(preproc_include path: (_) @import.module) @import
