; astfill's own JavaScript-only patterns (ecmascript.scm holds those shared
; with TypeScript).

; Fields: `count = 0;` in a class body.
(field_definition property: (property_identifier) @name) @definition.field
