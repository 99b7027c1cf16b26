// bench_quality's judge for JavaScript, TypeScript and TSX: the TypeScript
// compiler's parser (npm typescript, pinned in this folder's package-lock.json)
// and the syntactic diagnostics it reports for one file (parseDiagnostics: no
// type checking, no other files). JavaScript is also compiled by node's own V8
// parser, as `node --check` does (a CommonJS function body, or an ES module
// when the file imports or exports): TypeScript's parser leaves some early
// errors to its checker (invalid regular expression flags, for one).
//
// A long-lived helper (bench/judge.cpp starts it once): `node ts_judge.js
// javascript|typescript|typescriptreact` writes "ready typescript <version> ...",
// then reads sources framed as "<byte count>\n<bytes>" on stdin and answers
// each with one line: "ok", or "error <first diagnostic>" (line:column, text).
'use strict';
const path = require('path');
let ts;
try {
  ts = require(path.join(__dirname, 'node_modules', 'typescript'));
} catch (e) {
  process.stderr.write(`ts_judge: npm typescript is not installed in ${__dirname}/node_modules (run scripts/setup)\n`);
  process.exit(3);
}

const kinds = {
  javascript: [ts.ScriptKind.JS, 'judged.js'],
  typescript: [ts.ScriptKind.TS, 'judged.ts'],
  typescriptreact: [ts.ScriptKind.TSX, 'judged.tsx'],
};
const language = process.argv[2];
if (!kinds[language]) {
  process.stderr.write(`ts_judge: unknown language '${language}' (javascript, typescript, typescriptreact)\n`);
  process.exit(2);
}
const [scriptKind, fileName] = kinds[language];

const vm = require('vm');

// V8's verdict on a JavaScript file, or null when it compiles.
function v8Error(text, isModule) {
  try {
    if (isModule) new vm.SourceTextModule(text);
    else vm.compileFunction(text, ['exports', 'require', 'module', '__filename', '__dirname']);
    return null;
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    return `V8: ${e.message}`;
  }
}

function verdict(text) {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, scriptKind);
  const diagnostics = file.parseDiagnostics || [];
  if (diagnostics.length === 0) {
    if (language !== 'javascript') return 'ok';
    const error = v8Error(text, file.externalModuleIndicator !== undefined);
    return error === null ? 'ok' : `error ${error}`.replace(/[\r\n]+/g, ' ');
  }
  const d = diagnostics[0];
  const { line, character } = file.getLineAndCharacterOfPosition(d.start || 0);
  const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
  return `error ${line + 1}:${character + 1}: ${message}`.replace(/[\r\n]+/g, ' ');
}

const v8 = language === 'javascript' ? ` + node ${process.version} V8` : '';
process.stdout.write(`ready typescript ${ts.version} parseDiagnostics${v8} (${language})\n`);
let buffered = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  buffered = Buffer.concat([buffered, chunk]);
  for (;;) {
    const nl = buffered.indexOf(10);
    if (nl < 0) return;
    const length = Number(buffered.subarray(0, nl).toString('latin1'));
    if (buffered.length < nl + 1 + length) return;
    const text = buffered.subarray(nl + 1, nl + 1 + length).toString('utf8');
    buffered = buffered.subarray(nl + 1 + length);
    process.stdout.write(verdict(text) + '\n');
  }
});
process.stdin.on('end', () => process.exit(0));
