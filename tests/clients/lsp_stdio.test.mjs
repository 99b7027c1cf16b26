// `astfill serve` over stdio, driven by a real JSON-RPC client (vscode-jsonrpc).
//
// Each test starts its own daemon with 2 s of simulated, cancellable latency
// on completion requests, so cancellation, supersession, content-modified and
// progress can be observed against a fixed clock.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc/node.js';
import { ErrorCodes, LSPErrorCodes } from 'vscode-languageserver-protocol/node.js';
import {
  initializeParams,
  isLog,
  isProgress,
  isResponse,
  killAll,
  killProcess,
  startStdio,
  waitForExit,
  withTimeout,
} from './helpers.mjs';

after(killAll);

const LATENCY_MS = 2000;
const LATENCY = ['--simulate-latency-ms', String(LATENCY_MS)];
// "Promptly": far below the simulated latency, generous for a loaded 2-core box.
const PROMPT_MS = 1000;

// Starts a daemon for one test and stops it when the test ends.
async function serve(t, { args = LATENCY, initialize = true, init = {} } = {}) {
  const s = await startStdio(args, { initialize, init });
  t.after(async () => {
    s.client.dispose();
    await killProcess(s.proc);
  });
  return s;
}

// Awaits a request that must fail; checks the code and message fragments.
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

const utf8Bytes = (s) => Buffer.byteLength(s, 'utf8');

function open(client, uri, text, { languageId = 'python', version = 1 } = {}) {
  return client.notify('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
}

function change(client, uri, version, contentChanges) {
  return client.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges });
}

const range = (l1, c1, l2, c2) => ({ start: { line: l1, character: c1 }, end: { line: l2, character: c2 } });

async function docStatus(client, uri) {
  const status = await client.status();
  return status.documents.find((d) => d.uri === uri);
}

// Checks, through astfill.status, that the server's copy of `uri` has the
// version and the UTF-8 size of the text we expect after our edits.
async function expectDocument(client, uri, version, expectedText, step) {
  const doc = await docStatus(client, uri);
  assert.ok(doc, `${step}: ${uri} should be open`);
  assert.equal(doc.version, version, `${step}: version`);
  assert.equal(doc.bytes, utf8Bytes(expectedText),
    `${step}: byte count of the server's text; expected the text ${JSON.stringify(expectedText)}`);
}

function inlineParams(uri, extra = {}) {
  return {
    textDocument: { uri },
    position: { line: 0, character: 0 },
    context: { triggerKind: 1 },
    ...extra,
  };
}

// ---- initialize ----------------------------------------------------------------------

describe('initialize', () => {
  test('negotiates utf-16 and advertises the capabilities', async (t) => {
    const { initResult } = await serve(t, { init: { encodings: ['utf-16'] } });
    const caps = initResult.capabilities;
    assert.equal(caps.positionEncoding, 'utf-16');
    assert.deepEqual(caps.textDocumentSync, { openClose: true, change: 2, save: { includeText: false } });
    assert.ok(caps.completionProvider, 'completionProvider');
    assert.ok(caps.completionProvider.triggerCharacters.includes('.'), 'triggerCharacters include "."');
    assert.ok(caps.inlineCompletionProvider, 'inlineCompletionProvider');
    assert.ok(caps.executeCommandProvider.commands.includes('astfill.status'), 'astfill.status command');
    assert.deepEqual(caps.workspace.workspaceFolders, { supported: true, changeNotifications: true });
    assert.equal(initResult.serverInfo.name, 'astfill');
  });

  test("picks the first supported encoding in the client's order", async (t) => {
    const { initResult, client } = await serve(t, { init: { encodings: ['utf-8', 'utf-16'] } });
    assert.equal(initResult.capabilities.positionEncoding, 'utf-8');
    assert.equal((await client.status()).positionEncoding, 'utf-8');
  });

  test('defaults to utf-16 when the client offers no encodings', async (t) => {
    const { initResult } = await serve(t, { init: {} });
    assert.equal(initResult.capabilities.positionEncoding, 'utf-16');
  });

  test('refuses requests before initialize and a second initialize', async (t) => {
    const { client } = await serve(t, { initialize: false });
    await expectError(client.status(), ErrorCodes.ServerNotInitialized);
    // Notifications before initialize are dropped (LSP 3.17 "initialize").
    await open(client, 'file:///early.py', 'x = 1\n');
    const init = await client.request('initialize', initializeParams({ encodings: ['utf-16'] }));
    assert.equal(init.capabilities.positionEncoding, 'utf-16');
    await client.notify('initialized', {});
    await expectError(client.request('initialize', initializeParams()), ErrorCodes.InvalidRequest);
    const status = await client.status();
    assert.deepEqual(status.documents, [], 'a didOpen sent before initialize must be dropped');
  });
});

// ---- text synchronisation ------------------------------------------------------------------

describe('text synchronisation', () => {
  test('applies incremental and full edits at UTF-16 positions', async (t) => {
    const { client } = await serve(t, { init: { encodings: ['utf-16'] } });
    const uri = 'file:///work/edits.py';
    // Line 0 "a😀b😀c" (CRLF): a=0, 😀=1-2, b=3, 😀=4-5, c=6 in UTF-16 units.
    // Line 1 "中文x" (CRLF), line 2 "old" ending in a lone CR, line 3 "end", line 4 "".
    let text = 'a😀b😀c\r\n中文x\r\nold\rend\n';
    await open(client, uri, text);
    await expectDocument(client, uri, 1, text, 'didOpen');

    // Deleting units 3-4 removes "b" (1 byte); counting the emoji as one unit
    // would remove an emoji (4 bytes) instead.
    await change(client, uri, 2, [{ range: range(0, 3, 0, 4), text: '' }]);
    text = 'a😀😀c\r\n中文x\r\nold\rend\n';
    await expectDocument(client, uri, 2, text, 'delete after an emoji');

    // Positions inside a surrogate pair snap to the start of the character.
    // First: 0-2 ends inside the first emoji -> deletes "a" only.
    // Then on "😀😀c": 1-3 starts inside the first emoji (-> 0) and ends inside
    // the second (-> 2) -> deletes the first emoji. Changes apply in order.
    await change(client, uri, 3, [
      { range: range(0, 0, 0, 2), text: '' },
      { range: range(0, 1, 0, 3), text: '' },
    ]);
    text = '😀c\r\n中文x\r\nold\rend\n';
    await expectDocument(client, uri, 3, text, 'positions inside surrogate pairs');

    // CJK characters are one UTF-16 unit and three UTF-8 bytes.
    await change(client, uri, 4, [
      { range: range(1, 1, 1, 2), text: '' }, // removes 文
      { range: range(1, 1, 1, 1), text: '😀' }, // "中😀x"
    ]);
    text = '😀c\r\n中😀x\r\nold\rend\n';
    await expectDocument(client, uri, 4, text, 'CJK');

    // A character past the line end clamps to the line end, before the line
    // terminator (CRLF on line 0, a lone CR on line 2).
    await change(client, uri, 5, [
      { range: range(0, 2, 0, 50), text: '' }, // removes "c", keeps "\r\n"
      { range: range(2, 1, 2, 99), text: '' }, // "old" -> "o", keeps "\r"
    ]);
    text = '😀\r\n中😀x\r\no\rend\n';
    await expectDocument(client, uri, 5, text, 'character past the line end');

    // A range across a CRLF: from after the emoji on line 0 to after 中 on line 1.
    await change(client, uri, 6, [{ range: range(0, 2, 1, 1), text: '+' }]);
    text = '😀+😀x\r\no\rend\n';
    await expectDocument(client, uri, 6, text, 'range across CRLF');

    // Full replacement, then an incremental change relative to the new text.
    await change(client, uri, 7, [
      { text: '全新 😀\n' },
      { range: range(0, 3, 0, 5), text: '' }, // the emoji after "全新 "
      { range: range(1, 0, 1, 0), text: 'tail' }, // the empty last line
    ]);
    text = '全新 \ntail';
    await expectDocument(client, uri, 7, text, 'full replacement');

    await client.notify('textDocument/didClose', { textDocument: { uri } });
    const status = await client.status();
    assert.equal(status.documents.find((d) => d.uri === uri), undefined, 'didClose removes the document');
  });

  test('counts bytes when utf-8 was negotiated', async (t) => {
    const { client, initResult } = await serve(t, { init: { encodings: ['utf-8', 'utf-16'] } });
    assert.equal(initResult.capabilities.positionEncoding, 'utf-8');
    const uri = 'file:///work/bytes.py';
    // "é" is bytes 0-1, "😀" bytes 2-5, "x" byte 6.
    let text = 'é😀x\n中y\n';
    await open(client, uri, text);
    await expectDocument(client, uri, 1, text, 'didOpen');

    // Bytes 2-6 are the emoji (in UTF-16 they would be "x" and beyond).
    await change(client, uri, 2, [{ range: range(0, 2, 0, 6), text: '' }]);
    text = 'éx\n中y\n';
    await expectDocument(client, uri, 2, text, 'delete by byte offsets');

    // Byte 1 is inside "é": it snaps to 0, so 1-2 deletes "é".
    await change(client, uri, 3, [{ range: range(0, 1, 0, 2), text: '' }]);
    text = 'x\n中y\n';
    await expectDocument(client, uri, 3, text, 'position inside a 2-byte character');

    // "中" is bytes 0-2 of line 1; 3-99 is "y" clamped to the line end.
    await change(client, uri, 4, [{ range: range(1, 3, 1, 99), text: 'ü' }]);
    text = 'x\n中ü\n';
    await expectDocument(client, uri, 4, text, 'CJK and clamping in bytes');
  });

  test('refuses an edit outside the document and keeps serving', async (t) => {
    const { client } = await serve(t);
    const uri = 'file:///work/short.py';
    const text = 'one\r\ntwo';
    await open(client, uri, text, { version: 5 });
    await expectDocument(client, uri, 5, text, 'didOpen');

    await change(client, uri, 6, [{ range: range(7, 0, 7, 1), text: 'zzz' }]);
    const err = await client.waitFor(isLog(1, uri, 'outside the document'),
      'window/logMessage (type 1) about the edit outside the document');
    assert.equal(err.params.type, 1);
    await expectDocument(client, uri, 5, text, 'after the refused edit');

    // The whole didChange is refused when any one of its changes is bad.
    await change(client, uri, 7, [
      { range: range(0, 0, 0, 0), text: 'AAAA' },
      { range: range(2, 0, 2, 0), text: 'B' },
    ]);
    await client.waitFor((m) => isLog(1, uri, 'outside the document')(m) && m !== err,
      'a second window/logMessage about the partly bad didChange');
    await expectDocument(client, uri, 5, text, 'after the partly bad didChange');

    // Still serving: a good edit applies.
    await change(client, uri, 8, [{ range: range(1, 3, 1, 3), text: '!' }]);
    await expectDocument(client, uri, 8, 'one\r\ntwo!', 'a good edit afterwards');
  });
});

// ---- completion requests: latency, cancellation, supersession, progress ---------------------------

describe('completion requests', () => {
  const uri = 'file:///work/main.py';
  const text = 'import os\nos.path.\n';

  test('inline completion answers {items: []} after the simulated latency', async (t) => {
    const { client } = await serve(t);
    await open(client, uri, text);
    const started = Date.now();
    const result = await client.request('textDocument/inlineCompletion',
      inlineParams(uri, { position: { line: 1, character: 8 } }));
    const elapsed = Date.now() - started;
    assert.deepEqual(result, { items: [] });
    assert.ok(elapsed >= LATENCY_MS - 100, `answered after ${elapsed} ms, before the ${LATENCY_MS} ms latency`);
    assert.ok(elapsed < LATENCY_MS + 5000, `answered after ${elapsed} ms`);
  });

  for (const method of ['textDocument/inlineCompletion', 'textDocument/completion']) {
    test(`${method} cancelled by the client fails fast with -32800`, async (t) => {
      const { client } = await serve(t);
      await open(client, uri, text);
      const source = new CancellationTokenSource();
      const token = `cancel-${method}`;
      const pending = client.request(method, inlineParams(uri, { workDoneToken: token }), source.token);
      // The request is running on the server once its progress has begun.
      await client.waitFor(isProgress(token, 'begin'), `$/progress begin for ${token}`);
      const cancelledAt = Date.now();
      source.cancel();
      await expectError(pending, LSPErrorCodes.RequestCancelled);
      const took = Date.now() - cancelledAt;
      assert.ok(took < PROMPT_MS, `the cancelled request was answered ${took} ms after $/cancelRequest`);

      const before = Date.now();
      const status = await client.status();
      assert.ok(Date.now() - before < PROMPT_MS, `astfill.status took ${Date.now() - before} ms after a cancel`);
      assert.equal(status.requestsInFlight, 0);
    });
  }

  test('a newer inline completion for the same document supersedes the older one', async (t) => {
    const { client } = await serve(t);
    await open(client, uri, text);
    const started = Date.now();
    const first = client.request('textDocument/inlineCompletion', inlineParams(uri));
    const second = client.request('textDocument/inlineCompletion', inlineParams(uri, { position: { line: 1, character: 3 } }));
    await expectError(first, LSPErrorCodes.RequestCancelled, 'superseded');
    assert.ok(Date.now() - started < PROMPT_MS, `the superseded request took ${Date.now() - started} ms to fail`);
    assert.deepEqual(await second, { items: [] });
  });

  test('didChange during an inline completion fails it with -32801 (ContentModified)', async (t) => {
    const { client } = await serve(t);
    await open(client, uri, text);
    const pending = client.request('textDocument/inlineCompletion', inlineParams(uri, { workDoneToken: 'cm' }));
    await client.waitFor(isProgress('cm', 'begin'), '$/progress begin for the inline completion');
    const changedAt = Date.now();
    await change(client, uri, 2, [{ range: range(0, 0, 0, 0), text: '#' }]);
    await expectError(pending, LSPErrorCodes.ContentModified);
    assert.ok(Date.now() - changedAt < PROMPT_MS, 'ContentModified should be answered at once');
    await expectDocument(client, uri, 2, '#' + text, 'the edit itself');
  });

  test('work-done progress: begin, increasing reports, end before the response', async (t) => {
    const { client } = await serve(t);
    await open(client, uri, text);
    const pending = client.request('textDocument/inlineCompletion', inlineParams(uri, { workDoneToken: 'tok-1' }));
    const id = pending.id;
    assert.notEqual(id, undefined, 'the request id');
    assert.deepEqual(await pending, { items: [] });

    const log = client.log;
    const responseAt = log.indexOf(isResponse(id));
    assert.ok(responseAt >= 0, 'the response is in the log');
    const progress = log.messages
      .map((m, i) => ({ m, i }))
      .filter(({ m }) => isProgress('tok-1')(m));
    const kinds = progress.map(({ m }) => m.params.value.kind);
    assert.ok(progress.length >= 3, `expected begin, report(s), end; got ${JSON.stringify(kinds)}`);

    const begin = progress[0].m.params.value;
    assert.equal(begin.kind, 'begin', `first progress is begin: ${JSON.stringify(kinds)}`);
    assert.equal(typeof begin.title, 'string');
    assert.ok(begin.title.length > 0, 'begin has a title');

    const end = progress.at(-1);
    assert.equal(end.m.params.value.kind, 'end', `last progress is end: ${JSON.stringify(kinds)}`);
    assert.ok(end.i < responseAt, 'the end notification arrives before the response');

    const reports = progress.slice(1, -1).map(({ m }) => m.params.value);
    assert.ok(reports.length >= 1, 'at least one report');
    let last = begin.percentage ?? -1;
    for (const r of reports) {
      assert.equal(r.kind, 'report', `between begin and end only reports: ${JSON.stringify(kinds)}`);
      assert.equal(typeof r.percentage, 'number', 'report has a percentage');
      assert.ok(r.percentage > last, `percentages increase: ${reports.map((x) => x.percentage)}`);
      assert.ok(r.percentage <= 100);
      last = r.percentage;
    }
    assert.ok(progress.every(({ i }) => i < responseAt), 'no progress for the token after the response');
  });

  test('work-done progress still ends when the request is cancelled', async (t) => {
    const { client } = await serve(t);
    await open(client, uri, text);
    const source = new CancellationTokenSource();
    const pending = client.request('textDocument/inlineCompletion', inlineParams(uri, { workDoneToken: 'tok-2' }), source.token);
    await client.waitFor(isProgress('tok-2', 'begin'), '$/progress begin for tok-2');
    source.cancel();
    await expectError(pending, LSPErrorCodes.RequestCancelled);
    await client.waitFor(isProgress('tok-2', 'end'), '$/progress end for the cancelled request', PROMPT_MS);
    const endAt = client.log.indexOf(isProgress('tok-2', 'end'));
    const responseAt = client.log.indexOf(isResponse(pending.id));
    assert.ok(endAt < responseAt, 'the end notification comes before the error response');
  });

  test('invalid params, unknown methods and unknown documents', async (t) => {
    const { client } = await serve(t);
    await open(client, uri, text);
    await expectError(
      client.request('textDocument/completion', { textDocument: { uri }, position: { line: 'x', character: 0 } }),
      ErrorCodes.InvalidParams, 'params.position.line');
    await expectError(client.request('astfill/nope', {}), ErrorCodes.MethodNotFound);
    await expectError(
      client.request('textDocument/completion', { textDocument: { uri }, position: { line: 40, character: 0 } }),
      ErrorCodes.InvalidParams);
    await expectError(
      client.request('textDocument/inlineCompletion', inlineParams(uri, { position: { line: 40, character: 0 } })),
      ErrorCodes.InvalidParams);
    await expectError(
      client.request('textDocument/inlineCompletion', inlineParams('file:///work/closed.py')),
      ErrorCodes.InvalidParams, 'not open');
    await expectError(
      client.request('textDocument/completion', { textDocument: { uri: 'file:///work/closed.py' }, position: { line: 0, character: 0 } }),
      ErrorCodes.InvalidParams, 'not open');
    // None of these left anything running.
    assert.equal((await client.status()).requestsInFlight, 0);
  });
});

// ---- configuration and workspace folders -------------------------------------------------

describe('workspace', () => {
  test('didChangeConfiguration updates settings and warns about bad ones', async (t) => {
    const { client } = await serve(t);
    await client.notify('workspace/didChangeConfiguration', {
      settings: { astfill: { maxTokens: 32, languages: { python: false }, bogus: 1 } },
    });
    let status = await client.status();
    assert.equal(status.settings.maxTokens, 32);
    assert.equal(status.settings.languages.python, false);
    const warning = await client.waitFor(isLog(2, 'astfill.bogus'), 'a warning (type 2) about astfill.bogus');
    assert.equal(warning.params.type, 2);

    await client.notify('workspace/didChangeConfiguration', { settings: { astfill: { maxTokens: 'many' } } });
    await client.waitFor(isLog(2, 'astfill.maxTokens'), 'a warning (type 2) about astfill.maxTokens');
    status = await client.status();
    assert.equal(status.settings.maxTokens, 32, 'a bad value leaves the setting as it was');
    assert.equal(status.settings.languages.python, false);

    await client.notify('workspace/didChangeConfiguration', {
      settings: { astfill: { index: { maxFileKB: 64, includeDirs: ['include', 'third_party'], denyPaths: ['*.secret'] } } },
    });
    status = await client.status();
    assert.deepEqual(status.settings.index,
      { enable: true, maxFileKB: 64, includeDirs: ['include', 'third_party'], denyPaths: ['*.secret'] });
    await client.notify('workspace/didChangeConfiguration', {
      settings: { astfill: { index: { maxFileKB: 0, includeDirs: 'include', denyPaths: [1], color: 'red' } } },
    });
    await client.waitFor(isLog(2, 'astfill.index.maxFileKB'), 'a warning about astfill.index.maxFileKB');
    await client.waitFor(isLog(2, 'astfill.index.includeDirs'), 'a warning about astfill.index.includeDirs');
    await client.waitFor(isLog(2, 'astfill.index.denyPaths'), 'a warning about astfill.index.denyPaths');
    await client.waitFor(isLog(2, 'astfill.index.color'), 'a warning about astfill.index.color');
    status = await client.status();
    assert.deepEqual(status.settings.index,
      { enable: true, maxFileKB: 64, includeDirs: ['include', 'third_party'], denyPaths: ['*.secret'] });
  });

  test('settings in initializationOptions.astfill apply at initialize', async (t) => {
    const { client } = await serve(t, { init: { initializationOptions: { astfill: { maxTokens: 10 } } } });
    assert.equal((await client.status()).settings.maxTokens, 10);
  });

  test('workspace folders from rootUri and didChangeWorkspaceFolders', async (t) => {
    const { client } = await serve(t, { init: { rootUri: 'file:///home/u/proj' } });
    let status = await client.status();
    assert.equal(status.workspaceFolders.length, 1, JSON.stringify(status.workspaceFolders));
    assert.equal(status.workspaceFolders[0].uri, 'file:///home/u/proj');
    assert.equal(status.workspaceFolders[0].name, 'proj');

    await client.notify('workspace/didChangeWorkspaceFolders', {
      event: { added: [{ uri: 'file:///srv/a', name: 'a' }, { uri: 'file:///srv/b', name: 'b' }], removed: [] },
    });
    status = await client.status();
    assert.deepEqual(status.workspaceFolders.map((f) => f.uri).sort(),
      ['file:///home/u/proj', 'file:///srv/a', 'file:///srv/b']);

    await client.notify('workspace/didChangeWorkspaceFolders', {
      event: { added: [], removed: [{ uri: 'file:///home/u/proj', name: 'proj' }, { uri: 'file:///srv/a', name: 'a' }] },
    });
    status = await client.status();
    assert.deepEqual(status.workspaceFolders, [{ uri: 'file:///srv/b', name: 'b' }]);
  });
});

// ---- lifecycle --------------------------------------------------------------------------

describe('lifecycle', () => {
  test('shutdown, then requests are refused, then exit ends with code 0', async (t) => {
    const { client, proc } = await serve(t);
    assert.equal(await client.request('shutdown'), null);
    await expectError(client.status(), ErrorCodes.InvalidRequest);
    await client.notify('exit');
    const { code, signal } = await waitForExit(proc);
    assert.equal(signal, null);
    assert.equal(code, 0, 'exit after shutdown -> code 0');
  });

  test('exit without shutdown ends with code 1', async (t) => {
    const { client, proc } = await serve(t);
    await client.notify('exit');
    const { code } = await waitForExit(proc);
    assert.equal(code, 1);
  });

  test('exit before initialize ends with code 1', async (t) => {
    const { client, proc } = await serve(t, { initialize: false });
    await client.notify('exit');
    const { code } = await waitForExit(proc);
    assert.equal(code, 1);
  });

  test('a request in flight when stdin closes is still answered, then the process exits', async (t) => {
    const { proc, client } = await serve(t);
    await open(client, 'file:///work/eof.py', 'x = 1\n');
    const pending = client.request('textDocument/inlineCompletion', inlineParams('file:///work/eof.py', { workDoneToken: 'eof' }));
    await client.waitFor(isProgress('eof', 'begin'), 'the request to start');
    proc.stdin.end();
    assert.deepEqual(await pending, { items: [] });
    const { code } = await waitForExit(proc, 10_000, 'the daemon to exit after answering');
    assert.equal(code, 1, 'no exit notification -> code 1');
  });

  test('closing stdin without exit ends the process with code 1', async (t) => {
    const { proc, client } = await serve(t);
    await client.status();
    proc.stdin.end();
    const { code } = await waitForExit(proc, 10_000, 'the daemon to exit after stdin closed');
    assert.equal(code, 1);
  });
});

// Guard against a daemon that never answers at all: this is the first thing
// to fail with a clear message rather than every test timing out.
test('the daemon answers a status request', async (t) => {
  const { client } = await serve(t);
  const status = await withTimeout(client.status(), 5000, 'astfill.status');
  assert.equal(typeof status.version, 'string');
});
