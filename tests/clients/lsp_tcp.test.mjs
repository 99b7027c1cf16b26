// `astfill serve --listen 127.0.0.1:0`: one LSP session per TCP connection.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node.js';
import { ErrorCodes } from 'vscode-languageserver-protocol/node.js';
import {
  connectTcp,
  initializeParams,
  isAlive,
  isProgress,
  killAll,
  killProcess,
  socketClient,
  spawnDaemon,
  startTcpServer,
  tempDir,
  tempFile,
  waitForExit,
  waitForSocketClose,
  writeBytes,
} from './helpers.mjs';

after(killAll);

const PROMPT_MS = 1000;

async function server(t, args = []) {
  const s = await startTcpServer(args);
  t.after(() => killProcess(s.proc));
  return s;
}

// Connects a client; with `init`, runs initialize + initialized.
async function session(t, port, { init = true, initOptions, label } = {}) {
  const socket = await connectTcp(port);
  const client = socketClient(socket, label ?? `messages on connection to ${port}`);
  t.after(() => {
    client.dispose();
    socket.destroy();
  });
  let initResult;
  if (init) {
    initResult = await client.request('initialize', initializeParams({ initializationOptions: initOptions }));
    await client.notify('initialized', {});
  }
  return { socket, client, initResult };
}

async function expectError(promise, code, ...fragments) {
  const err = await promise.then(
    (result) => assert.fail(`expected error ${code}, got result ${JSON.stringify(result)}`),
    (e) => e,
  );
  assert.ok(err instanceof ResponseError, `expected a ResponseError with code ${code}, got: ${err?.stack ?? err}`);
  assert.equal(err.code, code, `error code (message: ${JSON.stringify(err.message)})`);
  for (const f of fragments) {
    assert.ok(err.message.includes(f), `error message ${JSON.stringify(err.message)} should mention ${JSON.stringify(f)}`);
  }
  return err;
}

const openDoc = (client, uri, text = 'print(1)\n') =>
  client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });

const uris = (status) => status.documents.map((d) => d.uri).sort();

async function promptStatus(client, what) {
  const before = Date.now();
  const status = await client.status();
  const took = Date.now() - before;
  assert.ok(took < PROMPT_MS, `${what}: astfill.status took ${took} ms`);
  return status;
}

describe('sessions', () => {
  test('two sessions at once are independent', async (t) => {
    const { port } = await server(t);
    const a = await session(t, port, { label: 'session A' });
    const b = await session(t, port, { label: 'session B' });
    assert.equal(a.initResult.serverInfo.name, 'astfill');
    assert.equal(b.initResult.serverInfo.name, 'astfill');
    await openDoc(a.client, 'file:///a/one.py');
    await openDoc(b.client, 'file:///b/two.py');
    await openDoc(b.client, 'file:///b/three.py');
    assert.deepEqual(uris(await a.client.status()), ['file:///a/one.py']);
    assert.deepEqual(uris(await b.client.status()), ['file:///b/three.py', 'file:///b/two.py']);
    // Settings are per session too.
    await a.client.notify('workspace/didChangeConfiguration', { settings: { astfill: { maxTokens: 7 } } });
    assert.equal((await a.client.status()).settings.maxTokens, 7);
    assert.notEqual((await b.client.status()).settings.maxTokens, 7);
  });

  // The model is the daemon's (docs/architecture.md, "Sessions and the
  // daemon"): one copy in memory for every session. A session that changes
  // astfill.model changes it for all, every session reports the same model
  // and state (none goes stale), and the other session's own settings stay.
  test('the model is shared: a model setting in one session shows the same state in every session', async (t) => {
    const writeModel = process.env.ASTFILL_WRITE_MODEL;
    assert.ok(writeModel, 'ASTFILL_WRITE_MODEL names the random-model writer');
    const model = path.join(tempDir('model'), 'tiny.gguf');
    const w = spawnSync(writeModel, [model, '--arch', 'qwen2'], { encoding: 'utf8' });
    assert.equal(w.status, 0, `writing the model: ${w.stderr}`);

    const { port } = await server(t, ['--no-model', '--threads', '1']);
    const a = await session(t, port, { label: 'session A' });
    const b = await session(t, port, { label: 'session B' });
    assert.equal((await b.client.status()).modelState, 'none');
    await openDoc(b.client, 'file:///b/m.py', 'import os\nos.\n');

    await a.client.notify('workspace/didChangeConfiguration', { settings: { astfill: { model, maxTokens: 5 } } });
    await a.client.waitFor((m) => m.method === 'window/logMessage' && m.params.message.includes(`model loaded: ${model}`),
      'the model to load for session A');
    const sa = await a.client.status();
    const sb = await b.client.status();
    assert.equal(sa.model, model);
    assert.equal(sb.model, model, "B's status shows the daemon's model");
    assert.equal(sa.modelState, 'ready');
    assert.equal(sb.modelState, 'ready', "B's model state is not stale");
    assert.equal(sa.settings.maxTokens, 5);
    assert.notEqual(sb.settings.maxTokens, 5, "A's completion settings are A's");
    assert.equal(sb.settings.model, '', "B's own setting is unchanged");
    // B completes with the shared model.
    const result = await b.client.request('textDocument/inlineCompletion', {
      textDocument: { uri: 'file:///b/m.py' }, position: { line: 1, character: 3 }, context: { triggerKind: 1 },
    });
    assert.ok(Array.isArray(result.items), `an answer: ${JSON.stringify(result)}`);

    // A model that cannot be loaded: both see the failure, the old model serves on.
    await a.client.notify('workspace/didChangeConfiguration', { settings: { astfill: { model: '/no/such/model.gguf' } } });
    await a.client.waitFor((m) => m.method === 'window/logMessage' && /cannot load the model/.test(m.params.message),
      'the failure to be reported to session A');
    const fa = await a.client.status();
    const fb = await b.client.status();
    assert.match(fa.modelState, /^failed: .*no\/such\/model\.gguf/);
    assert.equal(fb.modelState, fa.modelState);
    assert.equal(fb.model, model, 'the loaded model still serves');
    assert.ok(!b.client.log.messages.some((m) => m.method === 'window/logMessage' && /cannot load the model/.test(m.params.message)),
      'only the session that asked is told');
  });

  test('a client that disconnects during a long request does not disturb the others', async (t) => {
    const latency = 3000;
    const { proc, port } = await server(t, ['--simulate-latency-ms', String(latency)]);
    const a = await session(t, port, { label: 'session A' });
    const b = await session(t, port, { label: 'session B' });
    await openDoc(a.client, 'file:///a/long.py');
    await openDoc(b.client, 'file:///b/other.py');

    const abandoned = a.client.request('textDocument/inlineCompletion', {
      textDocument: { uri: 'file:///a/long.py' },
      position: { line: 0, character: 0 },
      context: { triggerKind: 1 },
      workDoneToken: 'a-long',
    });
    abandoned.catch(() => {}); // its connection is about to go away
    await a.client.waitFor(isProgress('a-long', 'begin'), 'the long request to start');
    a.socket.destroy();
    await waitForSocketClose(a.socket, 'the destroyed socket to close');

    const status = await promptStatus(b.client, 'after the other client vanished');
    assert.deepEqual(uris(status), ['file:///b/other.py']);
    assert.ok(isAlive(proc), 'the server process is still running');

    // The abandoned request was cancelled: B's request does not wait behind it.
    const started = Date.now();
    const result = await b.client.request('textDocument/inlineCompletion', {
      textDocument: { uri: 'file:///b/other.py' },
      position: { line: 0, character: 0 },
      context: { triggerKind: 1 },
    });
    const took = Date.now() - started;
    assert.deepEqual(result, { items: [] });
    assert.ok(took < 2 * latency - 500, `B's request took ${took} ms: the abandoned request still held the worker`);
    assert.ok(isAlive(proc), 'the server process is still running');
  });

  test('half a message followed by a disconnect does not crash the server', async (t) => {
    const { proc, port } = await server(t);
    const other = await session(t, port, { label: 'bystander' });

    const half = await connectTcp(port);
    await writeBytes(half, 'Content-Length: 200\r\n\r\n{"jsonrpc":"2.0","id":1,"meth');
    half.destroy();
    await waitForSocketClose(half);

    const halfHeader = await connectTcp(port);
    await writeBytes(halfHeader, 'Content-Len');
    halfHeader.end();
    await waitForSocketClose(halfHeader, 'the server to close a connection that ended mid-header');

    await promptStatus(other.client, 'after truncated messages on other connections');
    const fresh = await session(t, port, { label: 'fresh session' });
    assert.equal(fresh.initResult.serverInfo.name, 'astfill');
    assert.ok(isAlive(proc), 'the server process is still running');
  });

  test('shutdown + exit closes that connection only', async (t) => {
    const { proc, port } = await server(t);
    const a = await session(t, port, { label: 'session A' });
    const b = await session(t, port, { label: 'session B' });
    await openDoc(b.client, 'file:///b/kept.py');

    assert.equal(await a.client.request('shutdown'), null);
    await a.client.notify('exit');
    await waitForSocketClose(a.socket, 'the server to close the connection after exit');

    assert.deepEqual(uris(await promptStatus(b.client, 'after another session exited')), ['file:///b/kept.py']);
    const c = await session(t, port, { label: 'session C' });
    assert.deepEqual(uris(await c.client.status()), []);
    assert.ok(isAlive(proc), 'the server process is still running');
  });

  test('SIGTERM stops the server', async (t) => {
    const { proc, port } = await server(t);
    const a = await session(t, port);
    await a.client.status();
    proc.kill('SIGTERM');
    const { code, signal } = await waitForExit(proc, 10_000, 'the server to exit on SIGTERM');
    assert.ok(code !== null || signal === 'SIGTERM', `exit code ${code}, signal ${signal}`);
    await waitForSocketClose(a.socket, 'open connections to close when the server stops');
  });
});

describe('token authentication', () => {
  const TOKEN = 's3cret-token-for-tests';

  async function authServer(t) {
    const file = tempFile('token', TOKEN + '\n');
    return server(t, ['--token-file', file]);
  }

  test('the right token is accepted', async (t) => {
    const { port } = await authServer(t);
    const s = await session(t, port, { initOptions: { token: TOKEN } });
    assert.equal(s.initResult.serverInfo.name, 'astfill');
    await openDoc(s.client, 'file:///auth/ok.py');
    assert.deepEqual(uris(await s.client.status()), ['file:///auth/ok.py']);
  });

  test('a wrong token is refused and the connection closed', async (t) => {
    const { proc, port } = await authServer(t);
    const s = await session(t, port, { init: false });
    await expectError(
      s.client.request('initialize', initializeParams({ initializationOptions: { token: 'wrong' } })),
      ErrorCodes.InvalidRequest, 'authentication failed');
    await waitForSocketClose(s.socket, 'the server to close the connection after a wrong token');
    assert.ok(isAlive(proc), 'the server keeps running');
  });

  test('a missing token is refused and the connection closed', async (t) => {
    const { port } = await authServer(t);
    const s = await session(t, port, { init: false });
    await expectError(s.client.request('initialize', initializeParams()), ErrorCodes.InvalidRequest,
      'authentication required');
    await waitForSocketClose(s.socket, 'the server to close the connection after a missing token');
  });

  test('a first request other than initialize is refused and the connection closed', async (t) => {
    const { port } = await authServer(t);
    const s = await session(t, port, { init: false });
    await expectError(s.client.request('shutdown'), ErrorCodes.ServerNotInitialized);
    await waitForSocketClose(s.socket, 'the server to close the connection after an unauthenticated request');
    // Other connections are still welcome.
    const ok = await session(t, port, { initOptions: { token: TOKEN } });
    assert.equal(ok.initResult.serverInfo.name, 'astfill');
  });

  test('a notification before authentication closes the connection', async (t) => {
    const { port } = await authServer(t);
    const s = await session(t, port, { init: false });
    await openDoc(s.client, 'file:///auth/sneaky.py');
    await waitForSocketClose(s.socket, 'the server to close the connection after an unauthenticated notification');
  });

  test('--token-file without --listen is a usage error', async () => {
    const file = tempFile('token', TOKEN);
    const proc = await spawnDaemon(['serve', '--token-file', file]);
    proc.stdin.end();
    const { code } = await waitForExit(proc);
    assert.equal(code, 2);
    assert.match(proc.stderrText(), /token-file/);
  });
});
