// A scripted LSP session against `astfill serve`, printed as a readable
// transcript: what a client sends (→) and what the daemon answers (←).
// Used by scripts/demo, the README's first command.
//
//   node tests/clients/demo_session.mjs --bin build/cli/astfill --project examples/demo-project
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createMessageConnection, StreamMessageReader, StreamMessageWriter, CancellationTokenSource,
} from 'vscode-jsonrpc/node.js';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const bin = path.resolve(opt('--bin', 'build/cli/astfill'));
const project = path.resolve(opt('--project', 'examples/demo-project'));
const modelArg = opt('--model', undefined);  // default: the daemon's (the bundled demo model)

const out = (s) => process.stdout.write(s + '\n');
const send = (s) => out(`  \u2192 ${s}`);
const recv = (s) => out(`  \u2190 ${s}`);
const section = (s) => out(`\n${s}`);

function listSources(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listSources(p));
    else if (/\.(py|ts|js|c|cc|cpp|h|go|rs|java)$/.test(entry.name)) found.push(p);
  }
  return found.sort();
}

const langOf = (file) => ({ '.py': 'python', '.ts': 'typescript', '.js': 'javascript', '.c': 'c',
  '.h': 'c', '.cc': 'cpp', '.cpp': 'cpp', '.go': 'go', '.rs': 'rust', '.java': 'java' })[path.extname(file)];

const child = spawn(bin, ['serve', '--log-level', 'warn', ...(modelArg ? ['--model', modelArg] : [])],
  { stdio: ['pipe', 'pipe', 'pipe'] });
let daemonLog = '';
child.stderr.on('data', (d) => { daemonLog += d; });  // shown only if the session fails
const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
const progressLog = [];
let indexed;
const indexDone = new Promise((resolve) => { indexed = resolve; });
conn.onNotification('$/progress', (p) => {
  const v = p.value;
  progressLog.push(v.kind);
  if (String(p.token).startsWith('astfill/index/') && v.kind === 'end') indexed();
  recv(`$/progress ${p.token}: ${v.kind}${v.title ? ` "${v.title}"` : ''}${v.percentage !== undefined ? ` ${v.percentage}%` : ''}${v.message ? ` (${v.message})` : ''}`);
});
conn.onRequest('window/workDoneProgress/create', (p) => {
  recv(`window/workDoneProgress/create ${p.token}`);
  return null;
});
conn.onNotification('window/logMessage', (p) => recv(`window/logMessage [${['', 'error', 'warning', 'info', 'log'][p.type]}] ${p.message}`));
conn.listen();

const describeError = (e) => `error ${e.code}: ${e.message}`;
const timed = async (promise) => {
  const t0 = performance.now();
  try {
    const r = await promise;
    return { ok: true, value: r, ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, error: e, ms: performance.now() - t0 };
  }
};

out(`astfill demo: a scripted LSP session over stdio`);
out(`  daemon:  ${bin} serve${modelArg ? ` --model ${modelArg}` : ''}`);
out(`  project: ${project}`);

section('1. Lifecycle');
const rootUri = pathToFileURL(project).href;
send(`initialize rootUri=${rootUri}`);
const init = await conn.sendRequest('initialize', {
  processId: process.pid, rootUri, clientInfo: { name: 'astfill-demo', version: '1' },
  workspaceFolders: [{ uri: rootUri, name: path.basename(project) }],
  capabilities: { general: { positionEncodings: ['utf-16'] }, window: { workDoneProgress: true } },
});
const caps = init.capabilities;
recv(`${init.serverInfo.name} ${init.serverInfo.version}: positionEncoding=${caps.positionEncoding}, ` +
  `textDocumentSync.change=${caps.textDocumentSync.change} (incremental), ` +
  `completion trigger ${JSON.stringify(caps.completionProvider.triggerCharacters)}, ` +
  `inlineCompletion, commands ${JSON.stringify(caps.executeCommandProvider.commands)}`);
send('initialized');
await conn.sendNotification('initialized', {});
send('workspace/didChangeConfiguration {astfill: {maxTokens: 48}}');
await conn.sendNotification('workspace/didChangeConfiguration', { settings: { astfill: { maxTokens: 48 } } });

section('2. Documents');
const files = listSources(project);
const texts = new Map();
for (const f of files) {
  const text = fs.readFileSync(f, 'utf8');
  const uri = pathToFileURL(f).href;
  texts.set(uri, text);
  send(`textDocument/didOpen ${path.relative(project, f)} (${langOf(f)}, ${Buffer.byteLength(text)} bytes)`);
  await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: langOf(f), version: 1, text } });
}
const mainUri = pathToFileURL(path.join(project, 'main.py')).href;
const mainText = texts.get(mainUri) ?? '';
const lines = mainText.split('\n');
const line = lines.findIndex((l) => l.includes('ship(depot'));
const typed = '    receive(depot, Item(sku="C-310", name="Caf\u00e9 table \ud83e\ude91", price_cents=12900), 3)\n';
send(`textDocument/didChange main.py: insert at ${line}:0 ${JSON.stringify(typed.trim())}`);
await conn.sendNotification('textDocument/didChange', {
  textDocument: { uri: mainUri, version: 2 },
  contentChanges: [{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, text: typed }],
});
const status1 = await conn.sendRequest('workspace/executeCommand', { command: 'astfill.status' });
const doc = status1.documents.find((d) => d.uri === mainUri);
recv(`astfill.status: main.py version ${doc.version}, ${doc.bytes} bytes ` +
  `(expected ${Buffer.byteLength(mainText) + Buffer.byteLength(typed)}: UTF-16 positions, emoji and \u00e9 included)`);

section('3. The project index: built in the background, asked through LSP');
await indexDone;
send('workspace/symbol "receive"');
const syms = await conn.sendRequest('workspace/symbol', { query: 'receive' });
for (const s of syms.slice(0, 3))
  recv(`${s.name} (kind ${s.kind}${s.containerName ? `, in ${s.containerName}` : ''}) at ` +
    `${path.relative(project, fileURLToPath(s.location.uri))}:${s.location.range.start.line + 1}`);
const useCol = lines[line].indexOf('ship(');
send(`textDocument/definition main.py ${line + 1}:${useCol} ("ship")`);
const defs = await conn.sendRequest('textDocument/definition', {
  textDocument: { uri: mainUri }, position: { line: line + 1, character: useCol + 1 },
});
recv(defs.length ? defs.map((d) => `${path.relative(project, fileURLToPath(d.uri))}:${d.range.start.line + 1}:${d.range.start.character + 1}`).join(', ')
  : '[] (not found)');

section('4. The model');
send('astfill.status');
const st = await conn.sendRequest('workspace/executeCommand', { command: 'astfill.status' });
const shown = (p) => (path.relative(process.cwd(), p).startsWith('..') ? p : path.relative(process.cwd(), p));
recv(st.model ? `model ${shown(st.model)} (${st.modelState})`
  : 'no model: completions are empty (build/cli/astfill pull qwen2.5-coder-0.5b:q8_0, then --model)');
if (!modelArg && st.model)
  out('  (the bundled demo model: 6.8M parameters trained on code in seven languages in two hours on two\n' +
      '   CPU cores. It shows the whole pipeline working offline, but what it writes is barely better than noise:\n' +
      '   pull a real model for real work, e.g. build/cli/astfill pull qwen2.5-coder-0.5b:q8_0, then serve --model.)');

// main.py as the client knows it, and edits to it.
let version = 2;
const current = texts.get(mainUri).split('\n');
current.splice(line, 0, typed.replace(/\n$/, ''));
async function insertLine(at, text) {
  version += 1;
  current.splice(at, 0, text);
  await conn.sendNotification('textDocument/didChange', {
    textDocument: { uri: mainUri, version },
    contentChanges: [{ range: { start: { line: at, character: 0 }, end: { line: at, character: 0 } }, text: `${text}\n` }],
  });
  return { line: at, character: text.length };
}
async function removeLine(at) {
  version += 1;
  current.splice(at, 1);
  await conn.sendNotification('textDocument/didChange', {
    textDocument: { uri: mainUri, version },
    contentChanges: [{ range: { start: { line: at, character: 0 }, end: { line: at + 1, character: 0 } }, text: '' }],
  });
}
const show = (s) => JSON.stringify(s.length > 160 ? `${s.slice(0, 160)}…` : s);

section('5. Inline completion (ghost text), with work-done progress');
const shipLine = line + 2;  // after the typed receive(...) line and the first ship(...)
for (const typedText of ['    code = depot.', '    print(stock_value_cents(']) {
  const at = await insertLine(shipLine, typedText);
  send(`textDocument/inlineCompletion main.py ${at.line + 1}:${at.character} after ${JSON.stringify(typedText.trim())}`);
  const r = await timed(conn.sendRequest('textDocument/inlineCompletion', {
    textDocument: { uri: mainUri }, position: at, context: { triggerKind: 1 }, workDoneToken: `demo-${at.character}`,
  }));
  const items = r.ok ? r.value.items : [];
  recv(r.ok ? (items.length ? `ghost text ${show(items[0].insertText)} after ${r.ms.toFixed(0)} ms` : `no items after ${r.ms.toFixed(0)} ms`)
    : describeError(r.error));
  await removeLine(shipLine);
}

section('6. API suggestions: members the index knows, ranked by the model');
const dot = await insertLine(shipLine, '    depot.');
send(`textDocument/completion main.py ${dot.line + 1}:${dot.character} after "depot."`);
const sug = await timed(conn.sendRequest('textDocument/completion', { textDocument: { uri: mainUri }, position: dot }));
const labels = sug.ok ? (Array.isArray(sug.value) ? sug.value : sug.value.items).map((i) => `${i.label}${i.detail ? ` (${i.detail})` : ''}`) : [];
recv(sug.ok ? `${labels.slice(0, 5).join(', ') || 'no items'} after ${sug.ms.toFixed(0)} ms` : describeError(sug.error));
await removeLine(shipLine);

section('7. A whole body written with definitions from other files (astfill.fill)');
const fnAt = current.findIndex((l) => l.startsWith('if __name__'));
const restockWithPass = ['def restock(depot: Warehouse, sku: str, units: int) -> Item:',
  '    """Receives `units` more of an item already in stock."""', '    pass', '', ''];
for (let i = 0; i < restockWithPass.length; ++i) await insertLine(fnAt + i, restockWithPass[i]);
send(`astfill.fill main.py ${fnAt + 3}:5 (the "pass" of restock)`);
const fill = await timed(conn.sendRequest('workspace/executeCommand', {
  command: 'astfill.fill', arguments: [{ textDocument: { uri: mainUri }, position: { line: fnAt + 2, character: 4 } }],
}));
const fillEdits = fill.ok && fill.value?.changes ? fill.value.changes[mainUri] ?? [] : [];
recv(fill.ok ? (fillEdits.length ? `WorkspaceEdit after ${fill.ms.toFixed(0)} ms, replacing "pass" with:` : `no edit after ${fill.ms.toFixed(0)} ms`)
  : describeError(fill.error));
if (fillEdits.length) for (const l of fillEdits[0].newText.split('\n').slice(0, 12)) out(`      | ${l}`);

section('8. Supersession and cancellation');
const cursor = { line: fnAt + 2, character: 4 };
send('textDocument/inlineCompletion #A, then #B right after (same document)');
const a = timed(conn.sendRequest('textDocument/inlineCompletion', { textDocument: { uri: mainUri }, position: cursor, context: { triggerKind: 2 } }));
const b = timed(conn.sendRequest('textDocument/inlineCompletion', { textDocument: { uri: mainUri }, position: cursor, context: { triggerKind: 1 } }));
const [ra, rb] = await Promise.all([a, b]);
const brief = (r) => (r.ok ? `${r.value.items.length} item(s)` : describeError(r.error));
recv(`#A: ${brief(ra)} after ${ra.ms.toFixed(0)} ms${ra.ok ? ' (it finished before #B arrived)' : ''}`);
recv(`#B: ${brief(rb)} after ${rb.ms.toFixed(0)} ms`);
const cts = new CancellationTokenSource();
send('astfill.fill of the same body, then $/cancelRequest right away');
const c = timed(conn.sendRequest('workspace/executeCommand', {
  command: 'astfill.fill', arguments: [{ textDocument: { uri: mainUri }, position: cursor }],
}, cts.token));
setTimeout(() => cts.cancel(), 5);
const rc = await c;
recv(`${rc.ok ? 'finished before the cancel arrived' : describeError(rc.error)} after ${rc.ms.toFixed(0)} ms`);

section('9. Bad input is answered with a clear error, and the session goes on');
send('textDocument/completion with position {line: "x"}');
const bad = await timed(conn.sendRequest('textDocument/completion', { textDocument: { uri: mainUri }, position: { line: 'x', character: 0 } }));
recv(describeError(bad.error));
send('textDocument/didChange with a range on line 999');
await conn.sendNotification('textDocument/didChange', {
  textDocument: { uri: mainUri, version: version + 1 },
  contentChanges: [{ range: { start: { line: 999, character: 0 }, end: { line: 999, character: 0 } }, text: 'x' }],
});
const status2 = await conn.sendRequest('workspace/executeCommand', { command: 'astfill.status' });
const doc2 = status2.documents.find((d) => d.uri === mainUri);
recv(`astfill.status: main.py still version ${doc2.version}, ${doc2.bytes} bytes; ${status2.documents.length} documents open, ` +
  `${status2.workspaceFolders.length} workspace folder, maxTokens ${status2.settings.maxTokens}`);

section('10. Shutdown');
send('shutdown');
recv(JSON.stringify(await conn.sendRequest('shutdown')));
send('exit');
await conn.sendNotification('exit');
const code = await exited;
recv(`daemon exited with code ${code}`);
conn.dispose();
if (code !== 0) process.stderr.write(`daemon log:\n${daemonLog}`);
process.exit(code === 0 ? 0 : 1);
