; astfill's own Go patterns, run before the grammar's tags.scm (functions,
; methods, type specs, calls, type uses).

(type_alias name: (type_identifier) @name) @definition.type
(const_spec name: (identifier) @name) @definition.constant
(source_file (var_declaration (var_spec name: (identifier) @name) @definition.variable))
(source_file (var_declaration (var_spec_list (var_spec name: (identifier) @name) @definition.variable)))
(field_declaration name: (field_identifier) @name) @definition.field
(method_elem name: (field_identifier) @name) @definition.method

; Uses: field and package member accesses.
(selector_expression field: (field_identifier) @name) @reference.member

(import_spec path: (interpreted_string_literal (interpreted_string_literal_content) @import.module)) @import
