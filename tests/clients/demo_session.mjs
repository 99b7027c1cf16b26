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
const latencyMs = Number(opt('--latency-ms', '400'));

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

const child = spawn(bin, ['serve', '--simulate-latency-ms', String(latencyMs), '--log-level', 'warn'],
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
out(`  daemon:  ${bin} serve --simulate-latency-ms ${latencyMs}`);
out(`  project: ${project}`);
out(`  (no model is loaded yet, so completions are empty; --simulate-latency-ms gives each`);
out(`   completion ${latencyMs} ms of cancellable work so cancellation and progress are visible)`);

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

section('4. Inline completion with work-done progress');
const cursor = { line: line + 1, character: 4 };
send(`textDocument/inlineCompletion main.py ${cursor.line}:${cursor.character} workDoneToken="demo-1"`);
const r1 = await timed(conn.sendRequest('textDocument/inlineCompletion', {
  textDocument: { uri: mainUri }, position: cursor, context: { triggerKind: 1 }, workDoneToken: 'demo-1',
}));
recv(`${JSON.stringify(r1.value)} after ${r1.ms.toFixed(0)} ms (no model loaded: no items)`);

section('5. Supersession: a newer request for the same document replaces the older one');
send('textDocument/inlineCompletion #A, then #B right after');
const a = timed(conn.sendRequest('textDocument/inlineCompletion', { textDocument: { uri: mainUri }, position: cursor, context: { triggerKind: 2 } }));
const b = timed(conn.sendRequest('textDocument/inlineCompletion', { textDocument: { uri: mainUri }, position: { line: cursor.line, character: 0 }, context: { triggerKind: 2 } }));
const [ra, rb] = await Promise.all([a, b]);
recv(`#A: ${ra.ok ? JSON.stringify(ra.value) : describeError(ra.error)} after ${ra.ms.toFixed(0)} ms`);
recv(`#B: ${rb.ok ? JSON.stringify(rb.value) : describeError(rb.error)} after ${rb.ms.toFixed(0)} ms`);

section('6. Cancellation: $/cancelRequest stops the work at once');
const cts = new CancellationTokenSource();
send('textDocument/completion main.py, then $/cancelRequest 50 ms later');
const c = timed(conn.sendRequest('textDocument/completion', { textDocument: { uri: mainUri }, position: cursor }, cts.token));
setTimeout(() => cts.cancel(), 50);
const rc = await c;
recv(`${rc.ok ? JSON.stringify(rc.value) : describeError(rc.error)} after ${rc.ms.toFixed(0)} ms`);

section('7. Bad input is answered with a clear error, and the session goes on');
send('textDocument/completion with position {line: "x"}');
const bad = await timed(conn.sendRequest('textDocument/completion', { textDocument: { uri: mainUri }, position: { line: 'x', character: 0 } }));
recv(describeError(bad.error));
send('textDocument/didChange with a range on line 999');
await conn.sendNotification('textDocument/didChange', {
  textDocument: { uri: mainUri, version: 3 },
  contentChanges: [{ range: { start: { line: 999, character: 0 }, end: { line: 999, character: 0 } }, text: 'x' }],
});
const status2 = await conn.sendRequest('workspace/executeCommand', { command: 'astfill.status' });
const doc2 = status2.documents.find((d) => d.uri === mainUri);
recv(`astfill.status: main.py still version ${doc2.version}, ${doc2.bytes} bytes; ${status2.documents.length} documents open, ` +
  `${status2.workspaceFolders.length} workspace folder, maxTokens ${status2.settings.maxTokens}`);

section('8. Shutdown');
send('shutdown');
recv(JSON.stringify(await conn.sendRequest('shutdown')));
send('exit');
await conn.sendNotification('exit');
const code = await exited;
recv(`daemon exited with code ${code}`);
conn.dispose();
if (code !== 0) process.stderr.write(`daemon log:\n${daemonLog}`);
process.exit(code === 0 ? 0 : 1);
