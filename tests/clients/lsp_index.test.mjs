// The project index through the daemon: background indexing of the workspace
// folders with server-created work-done progress, workspace/symbol and
// textDocument/definition answered from the index, and the index following
// the editor (didOpen/didChange/didClose) and the file watcher
// (didChangeWatchedFiles), on a small project the test writes.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { killAll, killProcess, spawnDaemon, stdioClient, tempDir, WAIT_MS, withTimeout } from './helpers.mjs';

after(killAll);

const FILES = {
  'pkg/__init__.py': '',
  'pkg/geometry.py':
    'class Circle:\n    """A circle."""\n    def area(self):\n        return 3.14159 * self.r ** 2\n\n' +
    'def make_circle(r):\n    return Circle()\n',
  'pkg/main.py': 'from .geometry import make_circle\n\nc = make_circle(2)\nprint(c.area())\n',
  'web/util.ts': 'export function formatName(first: string, last: string): string {\n  return `${first} ${last}`;\n}\n',
  'web/app.ts': "import { formatName } from './util';\n// é → ü: a line with non-ASCII text\nconst s = formatName('a', 'b');\n",
  'native/point.h': 'struct Point { int x; int y; };\nint point_norm(struct Point p);\n',
  'node_modules/dep/index.js': 'function ignoredDependency() {}\n',
  '.gitignore': 'node_modules/\n',
};

function writeProject() {
  const root = tempDir('project');
  for (const [rel, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

const uriOf = (root, rel) => pathToFileURL(path.join(root, rel)).href;

// Starts the daemon on `root` as a client with work-done progress and dynamic
// file watching; answers the server's requests; resolves once initialized.
async function serve(t, root, { cacheDir, args = [] } = {}) {
  const proc = await spawnDaemon(['serve', '--index-threads', '2', ...args], { cacheDir });
  const client = stdioClient(proc);
  const serverRequests = [];
  client.conn.onRequest('window/workDoneProgress/create', (params) => {
    serverRequests.push({ method: 'window/workDoneProgress/create', params });
    return null;
  });
  client.conn.onRequest('client/registerCapability', (params) => {
    serverRequests.push({ method: 'client/registerCapability', params });
    return null;
  });
  const rootUri = pathToFileURL(root).href;
  const init = await client.request('initialize', {
    processId: process.pid,
    clientInfo: { name: 'astfill-index-tests', version: '1' },
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: path.basename(root) }],
    capabilities: {
      window: { workDoneProgress: true },
      workspace: { didChangeWatchedFiles: { dynamicRegistration: true } },
    },
  });
  await client.notify('initialized', {});
  t.after(async () => {
    client.dispose();
    await killProcess(proc);
  });
  return { proc, client, init, serverRequests };
}

// The server's $/progress for indexing: its token, and the end notification.
async function indexingDone(client, ms = 60_000) {
  const begin = await client.waitFor(
    (m) => m.method === '$/progress' && m.params?.value?.kind === 'begin' && /^Indexing/.test(m.params.value.title),
    'indexing progress to begin', ms);
  const token = begin.params.token;
  const end = await client.waitFor(
    (m) => m.method === '$/progress' && m.params?.token === token && m.params.value?.kind === 'end',
    'indexing progress to end', ms);
  return { token, begin, end };
}

// Repeats `fn` until `check(result)` holds: the index catches up with an edit
// in the background, and there is no event for "committed" over LSP.
async function eventually(fn, check, what, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (check(last)) return last;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last answer: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const names = (symbols) => symbols.map((s) => s.name);

describe('project index over LSP', () => {
  test('indexes the folder with server-created progress, then answers workspace/symbol', async (t) => {
    const root = writeProject();
    const { client, init, serverRequests } = await serve(t, root);
    assert.equal(init.capabilities.definitionProvider, true);
    assert.ok(init.capabilities.workspaceSymbolProvider);

    const { token, end } = await indexingDone(client);
    const created = serverRequests.find((r) => r.method === 'window/workDoneProgress/create');
    assert.ok(created, 'the server asks the client to create the progress token');
    assert.equal(created.params.token, token);
    assert.match(end.params.value.message ?? '', /index/);
    // Reports carry percentages that never go down, and end at 100.
    const reports = client.log.messages.filter((m) => m.method === '$/progress' && m.params.token === token &&
                                                     m.params.value.kind === 'report');
    const pcts = reports.map((m) => m.params.value.percentage).filter((p) => p !== undefined);
    assert.deepEqual(pcts, [...pcts].sort((a, b) => a - b), 'percentages only grow');
    assert.ok(serverRequests.some((r) => r.method === 'client/registerCapability' &&
      r.params.registrations[0].method === 'workspace/didChangeWatchedFiles'),
      'the server registers a file watcher');

    const symbols = await client.request('workspace/symbol', { query: 'circle' });
    assert.deepEqual(names(symbols).slice(0, 2).sort(), ['Circle', 'make_circle'].sort());
    const circle = symbols.find((s) => s.name === 'Circle');
    assert.equal(circle.kind, 5 /* Class */);
    assert.equal(circle.location.uri, uriOf(root, 'pkg/geometry.py'));
    assert.deepEqual(circle.location.range.start, { line: 0, character: 0 });
    const area = (await client.request('workspace/symbol', { query: 'area' })).find((s) => s.name === 'area');
    assert.equal(area.containerName, 'Circle');
    assert.equal(area.kind, 6 /* Method */);
    // Fuzzy: letters that start words.
    assert.ok(names(await client.request('workspace/symbol', { query: 'fN' })).includes('formatName'));
    // Ignored by .gitignore.
    assert.deepEqual(await client.request('workspace/symbol', { query: 'ignoredDependency' }), []);

    const status = await client.status();
    assert.equal(status.indexes.length, 1);
    assert.equal(status.indexes[0].state, 'ready');
    assert.equal(status.indexes[0].percentage, 100);
    assert.ok(status.indexes[0].stats.parsed >= 6, JSON.stringify(status.indexes[0]));
  });

  test('definition: through an import, in the same file, and in UTF-16 columns', async (t) => {
    const root = writeProject();
    const { client } = await serve(t, root);
    await indexingDone(client);
    const mainUri = uriOf(root, 'pkg/main.py');
    await client.notify('textDocument/didOpen', {
      textDocument: { uri: mainUri, languageId: 'python', version: 1, text: FILES['pkg/main.py'] },
    });
    // "make_circle" on line 2 ("c = make_circle(2)"), cursor inside the word.
    const defs = await client.request('textDocument/definition', {
      textDocument: { uri: mainUri }, position: { line: 2, character: 8 },
    });
    assert.equal(defs.length, 1, JSON.stringify(defs));
    assert.equal(defs[0].uri, uriOf(root, 'pkg/geometry.py'));
    assert.deepEqual(defs[0].range, { start: { line: 5, character: 4 }, end: { line: 5, character: 15 } });

    // A TypeScript file with non-ASCII text before the use: columns are UTF-16.
    const appUri = uriOf(root, 'web/app.ts');
    await client.notify('textDocument/didOpen', {
      textDocument: { uri: appUri, languageId: 'typescript', version: 1, text: FILES['web/app.ts'] },
    });
    const ts = await client.request('textDocument/definition', {
      textDocument: { uri: appUri }, position: { line: 2, character: 12 },
    });
    assert.equal(ts.length, 1, JSON.stringify(ts));
    assert.equal(ts[0].uri, uriOf(root, 'web/util.ts'));
    assert.deepEqual(ts[0].range.start, { line: 0, character: 16 });

    // Nothing under the cursor, or a name nobody defines: an empty answer.
    assert.deepEqual(await client.request('textDocument/definition', {
      textDocument: { uri: mainUri }, position: { line: 1, character: 0 },
    }), []);
    assert.deepEqual(await client.request('textDocument/definition', {
      textDocument: { uri: mainUri }, position: { line: 3, character: 2 },  // "print"
    }), []);
  });

  test('follows unsaved edits, closes back to the disk, and the file watcher', async (t) => {
    const root = writeProject();
    const { client } = await serve(t, root);
    await indexingDone(client);
    const query = (q) => client.request('workspace/symbol', { query: q });

    const geoUri = uriOf(root, 'pkg/geometry.py');
    await client.notify('textDocument/didOpen', {
      textDocument: { uri: geoUri, languageId: 'python', version: 1, text: FILES['pkg/geometry.py'] },
    });
    await client.notify('textDocument/didChange', {
      textDocument: { uri: geoUri, version: 2 },
      contentChanges: [{ range: { start: { line: 7, character: 0 }, end: { line: 7, character: 0 } },
                         text: 'def unsaved_helper():\n    pass\n' }],
    });
    await eventually(() => query('unsaved_helper'), (r) => r.length === 1, 'the unsaved definition to be indexed');

    // Closing without saving: the disk is the truth again.
    await client.notify('textDocument/didClose', { textDocument: { uri: geoUri } });
    await eventually(() => query('unsaved_helper'), (r) => r.length === 0, 'the unsaved definition to go');

    // A file created and one deleted outside the editor, as the watcher reports.
    fs.writeFileSync(path.join(root, 'pkg/extra.py'), 'def brand_new_function():\n    pass\n');
    fs.rmSync(path.join(root, 'web/util.ts'));
    await client.notify('workspace/didChangeWatchedFiles', {
      changes: [{ uri: uriOf(root, 'pkg/extra.py'), type: 1 }, { uri: uriOf(root, 'web/util.ts'), type: 3 }],
    });
    await eventually(() => query('brand_new_function'), (r) => r.length === 1, 'the new file to be indexed');
    await eventually(() => query('formatName'), (r) => r.length === 0, 'the deleted file to leave the index');
  });

  test('index questions are answered while a completion holds the worker', async (t) => {
    // Each completion takes 3 s of the only worker; the index's answers come
    // from a lane of their own and must not wait behind it.
    const latency = 3000;
    const root = writeProject();
    const { client } = await serve(t, root, { args: ['--workers', '1', '--simulate-latency-ms', String(latency)] });
    await indexingDone(client);
    const main = uriOf(root, 'pkg/main.py');
    await client.notify('textDocument/didOpen',
      { textDocument: { uri: main, languageId: 'python', version: 1, text: FILES['pkg/main.py'] } });
    const slow = client.request('textDocument/inlineCompletion',
      { textDocument: { uri: main }, position: { line: 2, character: 4 }, context: { triggerKind: 1 } });
    slow.catch(() => {});
    const started = Date.now();
    const symbols = await client.request('workspace/symbol', { query: 'make_circle' });
    const defs = await client.request('textDocument/definition',
      { textDocument: { uri: main }, position: { line: 2, character: 5 } });
    const took = Date.now() - started;
    assert.ok(symbols.some((s) => s.name === 'make_circle'), JSON.stringify(symbols));
    assert.equal(defs.length, 1, JSON.stringify(defs));
    assert.ok(took < latency / 2, `the index questions took ${took} ms behind a ${latency} ms completion`);
    await slow;
  });

  test('a restart reuses the database: only changed files are parsed', async (t) => {
    const root = writeProject();
    const cacheDir = tempDir('cache');
    {
      const { client, proc } = await serve(t, root, { cacheDir });
      await indexingDone(client);
      await client.request('shutdown');
      await client.notify('exit');
      await withTimeout(proc.exited, WAIT_MS, 'the daemon to exit');
    }
    fs.writeFileSync(path.join(root, 'pkg/geometry.py'), FILES['pkg/geometry.py'] + '\ndef added_later():\n    pass\n');
    const { client } = await serve(t, root, { cacheDir });
    await indexingDone(client);
    const status = await client.status();
    assert.equal(status.indexes[0].stats.parsed, 1, JSON.stringify(status.indexes[0]));
    // Unchanged by mtime, or (files written within the last second, whose
    // mtime cannot be trusted yet) by content hash: either way not parsed.
    const { unchanged, sameContent } = status.indexes[0].stats;
    assert.ok(unchanged + sameContent >= 5, JSON.stringify(status.indexes[0]));
    assert.equal((await client.request('workspace/symbol', { query: 'added_later' })).length, 1);
  });

  test('folders added and removed; settings that turn indexing off', async (t) => {
    const a = writeProject();
    const b = tempDir('second');
    fs.writeFileSync(path.join(b, 'only_here.py'), 'def only_in_b():\n    pass\n');
    const { client } = await serve(t, a);
    await indexingDone(client);
    await client.notify('workspace/didChangeWorkspaceFolders', {
      event: { added: [{ uri: pathToFileURL(b).href, name: 'b' }], removed: [] },
    });
    await eventually(() => client.request('workspace/symbol', { query: 'only_in_b' }), (r) => r.length === 1,
      'the added folder to be indexed');
    await client.notify('workspace/didChangeWorkspaceFolders', {
      event: { added: [], removed: [{ uri: pathToFileURL(b).href, name: 'b' }] },
    });
    assert.deepEqual(await client.request('workspace/symbol', { query: 'only_in_b' }), []);

    await client.notify('workspace/didChangeConfiguration', { settings: { astfill: { index: { enable: false } } } });
    assert.deepEqual(await client.request('workspace/symbol', { query: 'Circle' }), []);
    assert.deepEqual((await client.status()).indexes, []);
    await client.notify('workspace/didChangeConfiguration', { settings: { astfill: { index: { enable: true } } } });
    await eventually(() => client.request('workspace/symbol', { query: 'Circle' }), (r) => r.length >= 1,
      'indexing to come back on');
  });

  test('a folder that does not exist is reported, and the daemon keeps serving', async (t) => {
    const missing = path.join(tempDir('gone'), 'not-there');
    const { client } = await serve(t, missing);
    const warning = await client.waitFor(
      (m) => m.method === 'window/logMessage' && /not indexed/.test(m.params.message), 'a warning about the folder');
    assert.match(warning.params.message, /not-there/);
    assert.deepEqual(await client.request('workspace/symbol', { query: 'x' }), []);
    assert.equal((await client.status()).indexes[0].state, 'failed');
  });
});
