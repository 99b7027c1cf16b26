// Completions through the daemon with a tiny random-weight model (`--model`):
// inline completions with ranges, API suggestions as completion items with
// text edits, astfill.fill as a WorkspaceEdit, typed-through reuse, and a
// model named by the astfill.model setting (a wrong path is reported, and the
// daemon keeps serving).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpythonSyntaxError, killAll, killProcess, spawnDaemon, stdioClient, tempDir, WAIT_MS, writeFiles, writeTinyModel } from './helpers.mjs';

after(killAll);

const FILES = {
  'pkg/__init__.py': '',
  'pkg/shapes.py': 'class Circle:\n    def __init__(self, r):\n        self.r = r\n\n    def area(self):\n' +
    '        return 3.14 * self.r ** 2\n\n\ndef make_circle(r):\n    """A circle of radius r."""\n    return Circle(r)\n',
};

let model;
before(() => {
  model = path.join(tempDir('model'), 'tiny.gguf');
  writeTinyModel(model);
});

async function serve(t, args = ['--model', model, '--threads', '1'], options = {}) {
  const root = tempDir('project');
  writeFiles(root, FILES);
  const proc = await spawnDaemon(['serve', '--index-threads', '1', ...args], options);
  const client = stdioClient(proc);
  client.conn.onRequest('window/workDoneProgress/create', () => null);
  const rootUri = pathToFileURL(root).href;
  await client.request('initialize', {
    processId: process.pid, rootUri, workspaceFolders: [{ uri: rootUri, name: 'proj' }],
    capabilities: { window: { workDoneProgress: true } },
  });
  await client.notify('initialized', {});
  await client.waitFor((m) => m.method === '$/progress' && m.params?.value?.kind === 'end' &&
                              String(m.params.token).startsWith('astfill/index/'), 'indexing to end', 60_000);
  t.after(async () => {
    client.dispose();
    await killProcess(proc);
  });
  return { client, root };
}

async function open(client, root, rel, text) {
  const uri = pathToFileURL(path.join(root, rel)).href;
  await client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
  return uri;
}

describe('completions with a model', () => {
  test('inline completion: items with a range at the cursor; typed-through', async (t) => {
    const { client, root } = await serve(t);
    const text = 'from . import shapes\n\n\ndef report(r):\n    c = shapes.make_circle(r)\n    total = \n';
    const uri = await open(client, root, 'pkg/main.py', text);
    const position = { line: 5, character: 12 };
    const r = await client.request('textDocument/inlineCompletion', {
      textDocument: { uri }, position, context: { triggerKind: 1 } }, undefined, 60_000);
    assert.ok(Array.isArray(r.items));
    for (const item of r.items) {
      assert.equal(typeof item.insertText, 'string');
      assert.ok(item.insertText.length > 0);
      assert.deepEqual(item.range, { start: position, end: position });
    }
    const status = await client.status();
    assert.equal(status.modelState, 'ready');
    assert.match(status.model, /tiny\.gguf$/);
    if (r.items.length && r.items[0].insertText.length > 1) {
      const shown = r.items[0].insertText;
      await client.notify('textDocument/didChange', { textDocument: { uri, version: 2 },
        contentChanges: [{ range: { start: position, end: position }, text: shown[0] }] });
      const next = { line: 5, character: 13 };
      const again = await client.request('textDocument/inlineCompletion', {
        textDocument: { uri }, position: next, context: { triggerKind: 2 } });
      assert.equal(again.items[0]?.insertText, shown.slice(1), 'the rest of the shown completion');
      assert.equal((await client.status()).completionCacheHits, 1);
    }
  });

  test('one parse per edit: the document is parsed when first asked about, then incrementally per edit', async (t) => {
    const { client, root } = await serve(t);
    const uri = await open(client, root, 'pkg/edited.py', 'def f(x):\n    y = x\n    return \n');
    const parses = async () => (await client.status()).documents.find((d) => d.uri === uri).parses;
    assert.deepEqual(await parses(), { full: 0, incremental: 0 }, 'nothing is parsed before a question');
    const ask = () => client.request('textDocument/inlineCompletion', {
      textDocument: { uri }, position: { line: 2, character: 11 }, context: { triggerKind: 1 } }, undefined, 60_000);
    await ask();
    assert.deepEqual(await parses(), { full: 1, incremental: 0 });
    await ask();
    assert.deepEqual(await parses(), { full: 1, incremental: 0 }, 'a question on an unchanged document parses nothing');
    for (const [version, character, ch] of [[2, 11, 'y'], [3, 12, ' ']]) {
      await client.notify('textDocument/didChange', { textDocument: { uri, version },
        contentChanges: [{ range: { start: { line: 2, character }, end: { line: 2, character } }, text: ch }] });
    }
    await client.request('textDocument/inlineCompletion', {
      textDocument: { uri }, position: { line: 2, character: 13 }, context: { triggerKind: 1 } }, undefined, 60_000);
    assert.deepEqual(await parses(), { full: 1, incremental: 2 }, 'one incremental parse per edit');
  });

  test('completion items for a module member, with text edits, kinds and docs', async (t) => {
    const { client, root } = await serve(t);
    const text = 'from . import shapes\n\n\ndef report(r):\n    c = shapes.ma\n';
    const uri = await open(client, root, 'pkg/main.py', text);
    // The index learns the new file's imports in the background (didOpen):
    // ask until it has.
    let r;
    for (let tries = 0; tries < 100; ++tries) {
      r = await client.request('textDocument/completion', { textDocument: { uri }, position: { line: 4, character: 17 } });
      if (r.items.length) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(r.items.map((i) => i.label), ['make_circle']);
    const item = r.items[0];
    assert.equal(item.kind, 3 /* Function */);
    assert.deepEqual(item.textEdit, { range: { start: { line: 4, character: 15 }, end: { line: 4, character: 17 } },
                                      newText: 'make_circle' });
    assert.match(item.documentation.value, /circle of radius/);
    // Both names after `shapes.`, ordered by the model.
    const all = await client.request('textDocument/completion', { textDocument: { uri }, position: { line: 4, character: 15 } });
    assert.deepEqual(all.items.map((i) => i.label).sort(), ['Circle', 'make_circle']);
    assert.deepEqual(all.items.map((i) => i.sortText), ['000000', '000001']);
  });

  test('astfill.fill returns a WorkspaceEdit that replaces the placeholder body', async (t) => {
    const { client, root } = await serve(t);
    const text = 'def double(x):\n    pass\n\n\nprint(double(2))\n';
    const uri = await open(client, root, 'pkg/util.py', text);
    const edit = await client.request('workspace/executeCommand', {
      command: 'astfill.fill', arguments: [{ textDocument: { uri }, position: { line: 1, character: 4 } }] },
      undefined, 120_000);
    const edits = edit.changes[uri];
    assert.ok(Array.isArray(edits));
    for (const e of edits)
      assert.deepEqual(e.range, { start: { line: 1, character: 4 }, end: { line: 1, character: 8 } });
    const bad = await client.request('workspace/executeCommand', { command: 'astfill.fill', arguments: [] })
      .then(() => null, (e) => e);
    assert.equal(bad.code, -32602);
    assert.match(bad.message, /expected arguments/);
  });

  test('a model named by a setting loads; a wrong path is reported and serving goes on', async (t) => {
    const { client } = await serve(t, []);
    assert.equal((await client.status()).model, null);
    await client.notify('workspace/didChangeConfiguration', { settings: { astfill: { model: '/nonexistent/m.gguf' } } });
    const error = await client.waitFor((m) => m.method === 'window/logMessage' && /cannot load the model/.test(m.params.message),
      'an error about the model', WAIT_MS);
    assert.equal(error.params.type, 1);
    assert.match(error.params.message, /nonexistent\/m\.gguf/);
    assert.match((await client.status()).modelState, /^failed/);
    await client.notify('workspace/didChangeConfiguration', { settings: { astfill: { model } } });
    await client.waitFor((m) => m.method === 'window/logMessage' && /model loaded/.test(m.params.message), 'the model to load');
    const status = await client.status();
    assert.equal(status.modelState, 'ready');
    assert.equal(status.model, model);
  });

  test('without --model the bundled demo model serves; astfill.model "" goes back to it', async (t) => {
    const { client, root } = await serve(t, ['--threads', '1'], { bundledModel: true });
    const status = await client.status();
    assert.match(status.model ?? '', /models\/astfill-demo-q8_0\.gguf$/);
    assert.equal(status.modelState, 'ready');
    const bundled = status.model;
    // At a place where the tiny model is known to write something (the value
    // of an assignment), it must answer with text that leaves the file whole
    // as CPython's own parser judges it; an empty answer fails.
    const text = 'value = \n';
    const uri = await open(client, root, 'pkg/calc.py', text);
    const r = await client.request('textDocument/inlineCompletion', {
      textDocument: { uri }, position: { line: 0, character: 8 }, context: { triggerKind: 1 },
    }, undefined, 120_000);
    assert.ok(Array.isArray(r.items) && r.items.length > 0, `no suggestion: ${JSON.stringify(r)}`);
    const inserted = r.items[0].insertText;
    assert.ok(inserted.trim().length > 0, JSON.stringify(r.items[0]));
    const completed = 'value = ' + inserted + '\n';
    assert.equal(cpythonSyntaxError(completed), null, `CPython refuses ${JSON.stringify(completed)}`);
    // Another model by setting, then "" restores the bundled one.
    await client.notify('workspace/didChangeConfiguration', { settings: { astfill: { model } } });
    await client.waitFor((m) => m.method === 'window/logMessage' && m.params.message.includes(`model loaded: ${model}`), 'the tiny model');
    assert.equal((await client.status()).model, model);
    await client.notify('workspace/didChangeConfiguration', { settings: { astfill: { model: '' } } });
    await client.waitFor((m) => m.method === 'window/logMessage' && m.params.message.includes(`model loaded: ${bundled}`), 'the bundled model again');
    assert.equal((await client.status()).model, bundled);
  });
});
