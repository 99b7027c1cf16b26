// Code for the syntax layer's tests and bench, in every language astfill
// parses: a cursor inside a function body (prefix, suffix), a correct body
// to write there (replayed byte by byte, every byte must stay viable), and
// code-like fragments for the random "model" of random_decoding.h.
#pragma once

#include <string_view>
#include <vector>

namespace astfill::completion::samples {

struct Sample {
  std::string_view language;
  std::string_view prefix, suffix;  // the cursor sits between them
  std::string_view body;            // correct code for the cursor
  std::vector<std::string_view> fragments;
};

inline const std::vector<Sample>& all() {
  static const std::vector<Sample> samples = {
      {"python",
       "import math\n\n\ndef area(shape, scale=2):\n    ",
       "\n\n\nprint(area(None))\n",
       R"(if shape.kind == "circle":  # round
        return math.pi * shape.r ** 2
    values = [x * scale for x in (1, 2, 3)]
    doc = """Area
    of a shape."""
    return {"w": values[0], 'h': f"{scale}px", "r": -1.5e3}
)",
       {"x", "y", "self", "foo", " ", " = ", "(", ")", "[", "]", "{", "}", ",", ":", "\n", "\n    ", "    ", "return ",
        "if ", "def ", "\"", "'", "1", "2.0", " + ", " * ", ".", "# c", "not ", " and ", "lambda ", "==", "\"\"\""}},
      {"javascript",
       "import { pi } from './math.js';\n\nexport function area(shape, scale = 2) {\n  ",
       "\n}\n\nconsole.log(area(null));\n",
       R"(// Area of a shape.
  if (shape.kind === "circle") {
    return pi * shape.r ** 2; /* pi r^2 */
  }
  const values = [1, 2, 3].map((x) => x * scale);
  return { w: values[0], h: `${scale}px`, s: 'q' };
)",
       {"x", "y", "this", "foo", " ", " = ", "(", ")", "[", "]", "{", "}", ",", ";", ":", "\n", "\n  ", "return ",
        "if ", "const ", "\"", "'", "`", "${", "1", "2.5", " + ", " * ", ".", "// c", "/*", "*/", "=>", "!"}},
      {"typescript",
       "import { pi } from './math';\n\nexport function area(shape: Shape, scale = 2): number {\n  ",
       "\n}\n\nconsole.log(area(null));\n",
       R"(// Area of a shape.
  if (shape.kind === "circle") {
    return pi * shape.r ** 2; /* pi r^2 */
  }
  const values: number[] = [1, 2, 3].map((x: number) => x * scale);
  return values[0] + `${scale}`.length;
)",
       {"x", "y", "this", "foo", " ", " = ", "(", ")", "[", "]", "{", "}", ",", ";", ": ", "number", "\n", "\n  ",
        "return ", "if ", "const ", "\"", "'", "`", "1", " + ", " * ", ".", "// c", "<", ">", "=>", " as "}},
      {"typescriptreact",
       "import React from 'react';\n\nexport function Area(props: { scale: number }) {\n  ",
       "\n}\n",
       R"(const size = props.scale * 2;
  if (size > 10) {
    return null;
  }
  return <div className="area">{size} px</div>;
)",
       {"x", "props", "size", " ", " = ", "(", ")", "{", "}", ",", ";", ": ", "\n", "\n  ", "return ", "if ",
        "const ", "\"", "'", "<div>", "</div>", "<", ">", "/>", "1", " + ", ".", "// c", "=>"}},
      {"c",
       "#include <math.h>\n\ndouble area(const struct shape *s, int scale) {\n  ",
       "\n}\n\nint main(void) { return 0; }\n",
       R"(/* Area of a shape. */
  if (s->kind == 'c') {
    return M_PI * s->r * s->r;  // pi r^2
  }
  int values[3] = {1, 2, 3};
  const char *name = "square";
  return values[0] * scale + (double)name[0];
)",
       {"x", "s", "foo", " ", " = ", "(", ")", "[", "]", "{", "}", ",", ";", "\n", "\n  ", "return ", "if ",
        "int ", "\"", "'", "1", " + ", " * ", "->", ".", "// c", "/*", "*/", "&", "!"}},
      {"cpp",
       "#include <vector>\n\nnamespace geo {\ndouble area(const Shape& s, int scale) {\n  ",
       "\n}\n}  // namespace geo\n",
       R"(// Area of a shape.
  if (s.kind() == 'c') {
    return 3.14 * s.r() * s.r();
  }
  std::vector<int> values{1, 2, 3};
  auto twice = [&](int x) { return x * scale; };
  return twice(values[0]) + std::string("px").size();
)",
       {"x", "s", "foo", " ", " = ", "(", ")", "[", "]", "{", "}", "<", ">", "::", ",", ";", "\n", "\n  ",
        "return ", "if ", "auto ", "\"", "'", "1", " + ", " * ", ".", "// c", "/*", "*/", "&"}},
      {"go",
       "package geo\n\nimport \"math\"\n\nfunc Area(s Shape, scale int) float64 {\n\t",
       "\n}\n",
       R"(// Area of a shape.
	if s.Kind == "circle" {
		return math.Pi * s.R * s.R
	}
	values := []int{1, 2, 3}
	name := `raw`
	return float64(values[0]*scale + len(name) + 'x')
)",
       {"x", "s", "foo", " ", " := ", " = ", "(", ")", "[", "]", "{", "}", ",", "\n", "\n\t", "return ", "if ",
        "var ", "\"", "`", "'", "1", " + ", " * ", ".", "// c", "func", "!"}},
      {"rust",
       "use std::f64::consts::PI;\n\npub fn area(s: &Shape, scale: i32) -> f64 {\n    ",
       "\n}\n",
       R"(// Area of a shape.
    if s.kind == 'c' {
        return PI * s.r * s.r;
    }
    let values: Vec<i32> = vec![1, 2, 3];
    let name = r#"raw "quoted""#;
    return f64::from(values[0] * scale) + name.len() as f64;
)",
       {"x", "s", "foo", " ", " = ", "(", ")", "[", "]", "{", "}", "<", ">", "::", ",", ";", "\n", "\n    ",
        "return ", "if ", "let ", "\"", "'", "1", " + ", " * ", ".", "// c", "&", "!", "=>"}},
      {"java",
       "package geo;\n\nclass Areas {\n  static double area(Shape s, int scale) {\n    ",
       "\n  }\n}\n",
       R"(// Area of a shape.
    if (s.kind == 'c') {
      return Math.PI * s.r * s.r; /* pi r^2 */
    }
    int[] values = {1, 2, 3};
    String name = "square";
    return values[0] * scale + name.length();
)",
       {"x", "s", "foo", " ", " = ", "(", ")", "[", "]", "{", "}", ",", ";", "\n", "\n    ", "return ", "if ",
        "int ", "\"", "'", "1", " + ", " * ", ".", "// c", "/*", "*/", "new ", "!"}},
  };
  return samples;
}

}  // namespace astfill::completion::samples
