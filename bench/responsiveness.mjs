#!/usr/bin/env node
// Questions that need no model never wait behind model work (issue 17): the
// daemon with a tiny random model is given a large Python document and an
// inline completion at its end (timeoutMs 1000); while that runs,
// `workspace/symbol` and `astfill.status` are asked every 300 ms. Then the
// document is closed and the daemon's resident memory read again. Prints
// JSON: the completion's latency from didOpen, each question's latency,
// RSS before and after didClose.
//
//   node bench/responsiveness.mjs [--mb N] [--threads N]
// Defaults: a 10 MB document, 1 thread. ASTFILL_BIN picks the binary.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { killAll, killProcess, spawnDaemon, stdioClient, tempDir, writeFiles, writeTinyModel } from '../tests/clients/helpers.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? Number(args[at + 1]) : fallback;
};
if (args.includes('--help')) {
  console.log('usage: node bench/responsiveness.mjs [--mb N] [--threads N]');
  process.exit(0);
}
const mb = option('--mb', 10);
const threads = option('--threads', 1);

const model = path.join(tempDir('model'), 'tiny.gguf');
writeTinyModel(model);
const root = tempDir('project');
writeFiles(root, { 'a.py': 'def alpha():\n    return 1\n', 'b.py': 'def beta():\n    return 2\n' });
const proc = await spawnDaemon(['serve', '--index-threads', '1', '--model', model, '--threads', String(threads)]);
const client = stdioClient(proc);
client.conn.onRequest('window/workDoneProgress/create', () => null);
const rootUri = pathToFileURL(root).href;
await client.request('initialize', {
  processId: process.pid, rootUri, workspaceFolders: [{ uri: rootUri, name: 'p' }],
  capabilities: { window: { workDoneProgress: true } },
  initializationOptions: { astfill: { timeoutMs: 1000 } },
});
await client.notify('initialized', {});
await client.waitFor((m) => m.method === '$/progress' && m.params?.value?.kind === 'end' &&
  String(m.params.token).startsWith('astfill/index/'), 'index', 60000);

let text = '';
for (let i = 0; text.length < mb * 1e6; ++i) text += `def f_${i}(x):\n    y = x * 2\n    return y + ${i}\n\n`;
const position = { line: text.split('\n').length - 1, character: 6 };
text += 'def g(';
const uri = pathToFileURL(path.join(root, 'big.py')).href;
const rss = () => Number(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;
const rssBefore = rss();

const t0 = performance.now();
await client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
let completionMs = null;
const inline = client.request('textDocument/inlineCompletion',
  { textDocument: { uri }, position, context: { triggerKind: 1 } }, undefined, 120000)
  .then(() => { completionMs = performance.now() - t0; });
const symbolMs = [], statusMs = [];
while (completionMs === null && symbolMs.length < 40) {
  await new Promise((r) => setTimeout(r, 300));
  let t = performance.now();
  await client.request('workspace/symbol', { query: 'alpha' }, undefined, 120000);
  symbolMs.push(performance.now() - t);
  t = performance.now();
  await client.status(120000);
  statusMs.push(performance.now() - t);
}
await inline;
const rssOpen = rss();
await client.notify('textDocument/didClose', { textDocument: { uri } });
await client.status();
await new Promise((r) => setTimeout(r, 1500));
const rssClosed = rss();
client.dispose();
await killProcess(proc);
await killAll();

const round = (xs) => xs.map((x) => Math.round(x * 10) / 10);
console.log(JSON.stringify({
  document_mb: mb, threads, completion_ms_from_open: Math.round(completionMs),
  workspace_symbol_ms: round(symbolMs), status_ms: round(statusMs),
  max_question_ms: Math.round(Math.max(0, ...symbolMs, ...statusMs) * 10) / 10,
  rss_mb: { before_open: Math.round(rssBefore), after_completion: Math.round(rssOpen), after_close: Math.round(rssClosed) },
  load_average: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
}, null, 1));
