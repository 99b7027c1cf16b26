// Issue 17 at the daemon: model work for different documents and sessions
// runs at once, stepped together by the model's batcher (engine/batcher.h),
// and the newest inline completion is taken before queued background work
// (lsp/scheduler.h). A tiny random-weight model (`--model`) writes noise; with
// constraints off it writes a few dozen tokens per answer.
//
// Whether forward passes were shared is read from astfill.status's `batching`
// (the batcher's counters, engine/batcher.h): `segments` (requests' chunks
// over all steps) > `steps`, and `sharedSteps` > 0, only when a step carried
// more than one request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  connectTcp,
  initializeParams,
  killAll,
  killProcess,
  socketClient,
  spawnDaemon,
  startTcpServer,
  stdioClient,
  tempDir,
  writeFiles,
  writeTinyModel,
} from './helpers.mjs';

after(killAll);

const FILES = {
  'pkg/__init__.py': '',
  'pkg/shapes.py': 'class Circle:\n    def __init__(self, r):\n        self.r = r\n\n    def area(self):\n' +
    '        return 3.14 * self.r ** 2\n\n\ndef make_circle(r):\n    """A circle of radius r."""\n    return Circle(r)\n',
};

// Two documents typed in at once, each with the places it asks about (one per
// round: a new cursor is a new prompt, never a cached answer).
const DOCS = [
  { rel: 'pkg/report.py', text: 'from . import shapes\n\n\ndef report(r):\n    c = shapes.make_circle(r)\n    total = \n',
    line: 5, characters: [12, 11, 10, 9, 8, 7, 6, 5] },
  { rel: 'pkg/totals.py', text: 'import math\n\n\ndef totals(items):\n    count = 0\n    for item in items:\n        count += \n',
    line: 6, characters: [17, 16, 15, 14, 13, 12, 11, 10] },
];
const ROUNDS = DOCS[0].characters.length;
const position = (d, round) => ({ line: d.line, character: d.characters[round] });

// Without constraints the random model writes until maxTokens; without
// speculation each token is a forward pass of its own: long enough for two
// requests' decoding to overlap.
const SETTINGS = { constraints: false, speculate: false, maxTokens: 64, timeoutMs: 60_000 };

let model;
before(() => {
  model = path.join(tempDir('model'), 'tiny.gguf');
  writeTinyModel(model);
});

function logFile() {
  return path.join(tempDir('log'), 'daemon.log');
}

// The batcher's counters, from astfill.status.
async function batcherCounters(client) {
  const status = await client.status();
  const c = status.batching;
  assert.ok(c && typeof c.steps === 'number', `no batching counters in astfill.status: ${JSON.stringify(status)}`);
  for (const key of ['slots', 'leases', 'slotHits', 'rows', 'segments', 'sharedSteps', 'widestStep', 'prefillChunks',
    'rideAlongChunks', 'heldBackChunks', 'windowWaits', 'windowWaitMs', 'givenUp'])
    assert.equal(typeof c[key], 'number', `batching.${key} in ${JSON.stringify(c)}`);
  return c;
}

async function initialize(client, root, settings = SETTINGS) {
  client.conn.onRequest('window/workDoneProgress/create', () => null);
  const rootUri = pathToFileURL(root).href;
  await client.request('initialize', {
    ...initializeParams({ rootUri }),
    workspaceFolders: [{ uri: rootUri, name: 'proj' }],
  });
  await client.notify('initialized', {});
  await client.notify('workspace/didChangeConfiguration', { settings: { astfill: settings } });
  // The index is opened on a compute worker: the tests start once it is done.
  await client.waitFor((m) => m.method === '$/progress' && m.params?.value?.kind === 'end' &&
                              String(m.params.token).startsWith('astfill/index/'), 'indexing to end', 60_000);
}

// A daemon on stdio with the tiny model and a project; `args` are added.
async function serve(t, args = [], settings = SETTINGS) {
  const root = tempDir('project');
  writeFiles(root, FILES);
  const log = logFile();
  const proc = await spawnDaemon(['serve', '--model', model, '--threads', '1', '--index-threads', '1',
    '--log-level', 'debug', '--log-file', log, ...args]);
  const client = stdioClient(proc);
  t.after(async () => {
    client.dispose();
    await killProcess(proc);
  });
  await initialize(client, root, settings);
  return { client, root, proc, log };
}

async function open(client, root, rel, text) {
  const uri = pathToFileURL(path.join(root, rel)).href;
  await client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
  return uri;
}

function inline(client, uri, position) {
  return client.request('textDocument/inlineCompletion', {
    textDocument: { uri }, position, context: { triggerKind: 1 } }, undefined, 60_000);
}

const texts = (r) => r.items.map((i) => i.insertText);

// Each document's answers when each is the only request, round by round: the
// reference that batched answers must equal (greedy decoding does not depend
// on what else shares a step).
let alone;
async function answersAlone(t) {
  if (alone) return alone;
  const { client, root } = await serve(t);
  const uris = [];
  for (const d of DOCS) uris.push(await open(client, root, d.rel, d.text));
  const answers = [];
  for (let round = 0; round < ROUNDS; ++round)
    for (const [k, d] of DOCS.entries()) answers.push(texts(await inline(client, uris[k], position(d, round))));
  const c = await batcherCounters(client);
  assert.ok(c.steps > 0, JSON.stringify(c));
  assert.equal(c.segments, c.steps, 'one request at a time: every step carried one request');
  assert.equal(c.sharedSteps, 0, JSON.stringify(c));
  assert.equal(c.widestStep, 1, JSON.stringify(c));
  assert.ok(c.leases > 0 && c.leases <= 2 * ROUNDS, JSON.stringify(c));
  assert.ok(c.rows >= c.steps, JSON.stringify(c));
  // (Before `=` on a line, the answer is empty; elsewhere the model writes.)
  assert.ok(answers.filter((a) => a.length > 0).length >= ROUNDS, `the random model wrote little: ${JSON.stringify(answers)}`);
  alone = answers;
  return answers;
}

// Asks each round's two questions at once (`ask(k, position)` asks document
// k's), round after round. Whether two requests' decoding overlaps depends on
// timing (the focused one's prefill goes first, engine/batcher.h), so there
// are several rounds; one request at a time, no step would ever carry two.
async function concurrentRounds(ask) {
  const answers = [];
  for (let round = 0; round < ROUNDS; ++round)
    answers.push(...(await Promise.all(DOCS.map((d, k) => ask(k, position(d, round))))).map(texts));
  return answers;
}

describe('requests of several documents and sessions share the model', () => {
  test('two documents of one session: both run at once, steps are shared, answers are as alone', async (t) => {
    const reference = await answersAlone(t);
    const { client, root } = await serve(t);
    assert.equal((await client.status()).workers, 3, 'the daemon computes as many requests at once as it has slots');
    const uris = [];
    for (const d of DOCS) uris.push(await open(client, root, d.rel, d.text));
    const answers = await concurrentRounds((k, at) => inline(client, uris[k], at));
    assert.deepEqual(answers, reference, 'a batched answer differs from the same request alone');
    const c = await batcherCounters(client);
    assert.ok(c.segments > c.steps, `no forward pass carried both requests in ${ROUNDS} rounds: ${JSON.stringify(c)}`);
    assert.ok(c.sharedSteps > 0 && c.widestStep >= 2, JSON.stringify(c));
    assert.ok(c.leases > 0 && c.leases <= 2 * ROUNDS, JSON.stringify(c));
  });

  test('two sessions over TCP: their documents\' requests share steps, answers are as alone', async (t) => {
    const reference = await answersAlone(t);
    const log = logFile();
    const { proc, port } = await startTcpServer(['--model', model, '--threads', '1', '--index-threads', '1',
      '--log-level', 'debug', '--log-file', log]);
    t.after(() => killProcess(proc));
    const sessions = [];
    for (let k = 0; k < DOCS.length; ++k) {
      const root = tempDir('project');
      writeFiles(root, FILES);
      const socket = await connectTcp(port);
      const client = socketClient(socket, `session ${k}`);
      t.after(() => {
        client.dispose();
        socket.destroy();
      });
      await initialize(client, root);
      sessions.push({ client, uri: await open(client, root, DOCS[k].rel, DOCS[k].text) });
    }
    // Each session's settings are in before both ask.
    await Promise.all(sessions.map((s) => s.client.status()));
    const answers = await concurrentRounds((k, at) => inline(sessions[k].client, sessions[k].uri, at));
    assert.deepEqual(answers, reference, 'a batched answer differs from the same request alone');
    // The model is the daemon's: either session's status shows the same counters.
    const c = await batcherCounters(sessions[1].client);
    assert.ok(c.segments > c.steps, `no forward pass carried both sessions' requests in ${ROUNDS} rounds: ${JSON.stringify(c)}`);
    assert.ok(c.sharedSteps > 0 && c.widestStep >= 2, JSON.stringify(c));
  });
});

describe('the newest inline completion goes first', () => {
  // Every completion request (inline or API suggestions) first waits this
  // long on its worker (--simulate-latency-ms): a fixed, cancellable cost.
  const LATENCY = 1000;
  const isResponseTo = (id) => (m) => m.method === undefined && m.id === id;
  const order = (client, ids) => ids.map((id) => client.log.indexOf(isResponseTo(id)));

  test('with one worker, a queued inline completion runs before queued API suggestions', async (t) => {
    const { client, root } = await serve(t, ['--workers', '1', '--simulate-latency-ms', String(LATENCY)]);
    const uri = await open(client, root, DOCS[0].rel, DOCS[0].text);
    const other = await open(client, root, DOCS[1].rel, DOCS[1].text);
    // The first takes the only worker; the second (background work for
    // another document) and then the inline completion queue behind it.
    const busy = client.request('textDocument/completion', { textDocument: { uri: other }, position: position(DOCS[1], 0),
      workDoneToken: 'busy' }, undefined, 60_000);
    await client.waitFor((m) => m.method === '$/progress' && m.params?.token === 'busy' &&
                                m.params.value?.kind === 'report', 'the first request to run on the worker', 60_000);
    const queued = client.request('textDocument/completion', { textDocument: { uri: other }, position: position(DOCS[1], 0) },
      undefined, 60_000);
    const focused = inline(client, uri, position(DOCS[0], 0));
    await Promise.all([busy, queued, focused]);
    const [b, q, f] = order(client, [busy.id, queued.id, focused.id]);
    assert.ok(b < f && f < q, `answered in the order busy ${b}, inline ${f}, queued suggestions ${q}`);
  });

  test('background work leaves a worker to the inline completion', async (t) => {
    const { client, root } = await serve(t, ['--simulate-latency-ms', String(LATENCY)]);
    const uri = await open(client, root, DOCS[0].rel, DOCS[0].text);
    const other = await open(client, root, DOCS[1].rel, DOCS[1].text);
    // Three workers; three requests of background work: two run, the third
    // waits, and the inline completion sent after them runs at once.
    const background = [0, 1, 2].map(() => client.request('textDocument/completion',
      { textDocument: { uri: other }, position: position(DOCS[1], 0) }, undefined, 60_000));
    const focused = inline(client, uri, position(DOCS[0], 0));
    await Promise.all([...background, focused]);
    const [b0, b1, b2, f] = order(client, [...background.map((p) => p.id), focused.id]);
    assert.ok(f < b2, `the inline completion (${f}) was answered after all the background work (${b0}, ${b1}, ${b2})`);
  });

  test('an inline completion is not queued behind a long fill', async (t) => {
    const { client, root } = await serve(t);
    // A fill in a document of ~1.5 MB: parsing it alone takes a few hundred ms.
    const parts = [];
    for (let i = 0, size = 0; size < 1.5e6; ++i) {
      const f = `def f_${i}(x):\n    y = x * 2\n    return y + ${i}\n\n`;
      parts.push(f);
      size += f.length;
    }
    const big = await open(client, root, 'pkg/big.py', parts.join('') + 'def g(x):\n    pass\n');
    const uri = await open(client, root, DOCS[0].rel, DOCS[0].text);
    await client.status(60_000);  // the documents are in
    const fill = client.request('workspace/executeCommand', { command: 'astfill.fill', workDoneToken: 'fill',
      arguments: [{ textDocument: { uri: big }, position: { line: parts.length * 4 + 1, character: 4 } }] },
      undefined, 120_000);
    await client.waitFor((m) => m.method === '$/progress' && m.params?.token === 'fill' &&
                                m.params.value?.kind === 'report', 'the fill to start on a worker', 60_000);
    const focused = inline(client, uri, position(DOCS[0], 0));
    await Promise.all([fill, focused]);
    const [fl, f] = order(client, [fill.id, focused.id]);
    assert.ok(f < fl, `the inline completion (${f}) was answered after the fill (${fl})`);
  });
});
