// Raw byte transcripts against `astfill serve` on stdio: no client library,
// just the bytes we write and the frames we parse back. Each case checks the
// exact error the daemon answers and that the next valid request is served.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  frame,
  isLog,
  isResponse,
  killAll,
  killProcess,
  notification,
  request,
  spawnDaemon,
  readFrames,
  startRaw,
  tempFile,
  waitForExit,
} from './helpers.mjs';

after(killAll);

const STATUS = { command: 'astfill.status' };
const status = (id) => request(id, 'workspace/executeCommand', STATUS);
const INIT = {
  processId: null,
  rootUri: null,
  capabilities: { general: { positionEncodings: ['utf-16'] } },
};

// A daemon that has been through initialize + initialized.
async function initialized(t, args = []) {
  const s = await startRaw(args);
  t.after(() => killProcess(s.proc));
  await s.send(Buffer.concat([frame(request(0, 'initialize', INIT)), frame(notification('initialized', {}))]));
  const init = await s.log.waitFor(isResponse(0), 'the initialize response');
  assert.ok(init.result?.capabilities, `initialize result: ${JSON.stringify(init)}`);
  return s;
}

// Waits for the response with `id`; checks it is an error with `code` whose
// message contains every fragment.
async function expectErrorResponse(log, id, code, ...fragments) {
  const msg = await log.waitFor(isResponse(id), `an error response with id ${JSON.stringify(id)} and code ${code}`);
  assert.equal(msg.jsonrpc, '2.0');
  assert.ok(msg.error, `expected an error for id ${JSON.stringify(id)}, got ${JSON.stringify(msg)}`);
  assert.equal(msg.result, undefined, 'an error response has no result');
  assert.equal(msg.error.code, code, `error code in ${JSON.stringify(msg)}`);
  for (const f of fragments) {
    assert.ok(msg.error.message.includes(f), `error message ${JSON.stringify(msg.error.message)} should mention ${JSON.stringify(f)}`);
  }
  return msg;
}

// The next valid request is still answered, and with a result.
async function expectServed(s, id) {
  await s.send(frame(status(id)));
  const msg = await s.log.waitFor(isResponse(id), `the answer to astfill.status #${id} (the daemon should still serve)`);
  assert.ok(msg.result, `astfill.status #${id} should succeed: ${JSON.stringify(msg)}`);
  return msg;
}

const errorsWithNullId = (log) => log.messages.filter((m) => m.id === null && m.error);

describe('malformed input', () => {
  test('a body that is not JSON -> -32700 with id null', async (t) => {
    const s = await initialized(t);
    await s.send(frame('{bad}'));
    const msg = await expectErrorResponse(s.log, null, -32700, 'invalid JSON');
    assert.deepEqual(Object.keys(msg).sort(), ['error', 'id', 'jsonrpc']);
    await expectServed(s, 1);
  });

  test('a header without Content-Length -> -32700, and the next message is served', async (t) => {
    const s = await initialized(t);
    // The body of the bad frame is a shutdown request: it must not be executed.
    const lost = JSON.stringify(request(99, 'shutdown'));
    await s.send(Buffer.concat([Buffer.from(`Content-Type: x\r\n\r\n${lost}`), frame(status(2))]));
    await expectErrorResponse(s.log, null, -32700, 'no Content-Length');
    await s.log.waitFor(isResponse(2), 'the answer to the message right after the bad header');
    assert.ok(s.log.messages.find(isResponse(2)).result, 'astfill.status succeeds');
    assert.equal(s.log.indexOf(isResponse(99)), -1, 'the body of the unframed message was not executed');
    await expectServed(s, 3);
  });

  test('a non-numeric Content-Length -> -32700', async (t) => {
    const s = await initialized(t);
    const body = JSON.stringify(status(98));
    await s.send(Buffer.concat([Buffer.from(`Content-Length: abc\r\n\r\n${body}`), frame(status(4))]));
    await expectErrorResponse(s.log, null, -32700, 'invalid Content-Length');
    await s.log.waitFor(isResponse(4), 'the answer to the message after the bad Content-Length');
    assert.equal(s.log.indexOf(isResponse(98)), -1, 'the badly framed body was not executed');
    await expectServed(s, 5);
  });

  test('a body over --max-message-bytes -> -32600, skipped, and the next message is served', async (t) => {
    const s = await initialized(t, ['--max-message-bytes', '1000']);
    const big = request(97, 'workspace/executeCommand', { command: 'astfill.status', arguments: ['x'.repeat(5000)] });
    const bigFrame = frame(big);
    assert.ok(bigFrame.length > 5000);
    await s.send(Buffer.concat([bigFrame, frame(status(6))]));
    await expectErrorResponse(s.log, null, -32600, 'exceeds the limit');
    await s.log.waitFor(isResponse(6), 'the answer to the message after the oversized one');
    assert.equal(s.log.indexOf(isResponse(97)), -1, 'the oversized request was not executed');
    await expectServed(s, 7);
  });

  const invalid = [
    { name: 'a JSON array (batch)', body: '[1,2]', id: null, fragment: 'batches' },
    { name: 'a JSON number', body: '42', id: null },
    { name: 'a message without "jsonrpc"', body: '{"id":11,"method":"shutdown"}', id: 11 },
    { name: '"method" that is a number', body: '{"jsonrpc":"2.0","id":12,"method":5}', id: 12 },
    { name: '"params" that is a string', body: '{"jsonrpc":"2.0","id":13,"method":"shutdown","params":"x"}', id: 13 },
  ];
  for (const c of invalid) {
    test(`${c.name} -> -32600`, async (t) => {
      const s = await initialized(t);
      await s.send(frame(c.body));
      await expectErrorResponse(s.log, c.id, -32600, ...(c.fragment ? [c.fragment] : []));
      // Not one of these was executed as a shutdown: the daemon still serves.
      await expectServed(s, 20);
    });
  }

  test('an unknown notification is ignored without any answer', async (t) => {
    const s = await initialized(t);
    await s.log.waitFor(isResponse(0), 'initialize');
    const before = s.log.messages.length;
    await s.send(Buffer.concat([
      frame(notification('astfill/unknownNotification', { x: 1 })),
      frame(notification('$/unknownNotification', { x: 1 })),
      frame(notification('astfill/noParams')),
      frame(status(30)),
    ]));
    await s.log.waitFor(isResponse(30), 'the answer after the unknown notifications');
    const added = s.log.messages.slice(before);
    assert.deepEqual(added.map((m) => m.id), [30], `nothing but the status answer: ${JSON.stringify(added)}`);
  });
});

describe('stream handling', () => {
  test('messages split into 1-byte writes are all answered, in order', async (t) => {
    const s = await initialized(t);
    const bytes = Buffer.concat([frame(status(40)), frame(status(41)), frame(status(42))]);
    for (let i = 0; i < bytes.length; i++) await s.send(bytes.subarray(i, i + 1));
    await s.log.waitFor(isResponse(42), 'the answer to the last 1-byte-written request');
    const ids = s.log.messages.filter((m) => m.id !== undefined && m.id !== 0).map((m) => m.id);
    assert.deepEqual(ids, [40, 41, 42]);
    assert.ok(s.log.messages.filter((m) => m.id >= 40).every((m) => m.result), 'all succeed');
  });

  test('several messages coalesced in one write are all answered, in order', async (t) => {
    const s = await initialized(t);
    const ids = [50, 51, 'fifty-two', 53, 54];
    await s.send(Buffer.concat(ids.map((id) => frame(status(id)))));
    await s.log.waitFor(isResponse(54), 'the answer to the last coalesced request');
    const got = s.log.messages.filter((m) => m.id !== undefined && m.id !== 0).map((m) => m.id);
    assert.deepEqual(got, ids);
  });

  test('invalid UTF-8 in a document is replaced with U+FFFD and reported', async (t) => {
    const s = await initialized(t);
    const uri = 'file:///raw/bad-utf8.py';
    const head = Buffer.from(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"${uri}","languageId":"python","version":1,"text":"ab`);
    const tail = Buffer.from('cd"}}}');
    const body = Buffer.concat([head, Buffer.from([0xff, 0xfe]), tail]);
    await s.send(frame(body));
    const warning = await s.log.waitFor(isLog(2, 'not valid UTF-8'), 'window/logMessage (type 2) about invalid UTF-8');
    assert.ok(warning.params.message.includes(uri), `the warning names the document: ${warning.params.message}`);
    const st = await expectServed(s, 60);
    const doc = st.result.documents.find((d) => d.uri === uri);
    assert.ok(doc, `the document is open: ${JSON.stringify(st.result.documents)}`);
    // "ab" + U+FFFD + U+FFFD + "cd": each bad byte becomes 3 bytes.
    assert.equal(doc.bytes, Buffer.byteLength('ab\uFFFD\uFFFDcd'));
    assert.equal(doc.bytes, 10);
    assert.equal(doc.version, 1);
  });
});

describe('encoding', () => {
  test('Content-Length counts bytes and a Content-Type header is accepted', async (t) => {
    const s = await initialized(t);
    const uri = 'file:///raw/café/日本.py';
    const open = Buffer.from(JSON.stringify(notification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'python', version: 3, text: 'x = "😀"\n' },
    })));
    const withType = Buffer.concat([
      Buffer.from(`Content-Length: ${open.length}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n`),
      open,
    ]);
    await s.send(withType);
    // The answer contains non-ASCII text: our parser reads exactly
    // Content-Length bytes, so a character count would break the next frame.
    const st = await expectServed(s, 80);
    assert.deepEqual(st.result.documents.map((d) => [d.uri, d.version, d.bytes]),
      [[uri, 3, Buffer.byteLength('x = "😀"\n')]]);
    await expectServed(s, 81);
    assert.deepEqual(s.log.messages.filter((m) => m.frameError), []);
  });

  // JSON text exchanged between systems must be UTF-8 (RFC 8259 §8.1) and LSP
  // bodies are utf-8 encoded: the daemon must not echo raw invalid bytes from
  // its input (a method name, a uri) into what it writes.
  test('replies stay valid UTF-8 when a message carries invalid UTF-8 outside document text', async (t) => {
    const s = await initialized(t);
    const badMethod = Buffer.concat([
      Buffer.from('{"jsonrpc":"2.0","id":90,"method":"astfill/x'), Buffer.from([0xff]), Buffer.from('"}'),
    ]);
    const badUri = Buffer.concat([
      Buffer.from('{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///raw/bad'),
      Buffer.from([0xfe]),
      Buffer.from('.py","languageId":"python","version":1,"text":"x"}}}'),
    ]);
    await s.send(Buffer.concat([frame(badMethod), frame(badUri)]));
    const answer = await s.log.waitFor(isResponse(90), 'an answer to the request with an invalid UTF-8 method name');
    assert.ok(answer.error && [-32700, -32600, -32601].includes(answer.error.code),
      `an error answer: ${JSON.stringify(answer)}`);
    await expectServed(s, 91);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const bad = [];
    s.log.parser.bodies.forEach((body, i) => {
      try {
        decoder.decode(body);
      } catch {
        const at = body.findIndex((b) => b >= 0x80);
        bad.push(`frame ${i}: ${body.toString('latin1').slice(Math.max(0, at - 60), at + 20).replace(/[\x80-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`)}`);
      }
    });
    assert.deepEqual(bad, [], 'every body the daemon writes must be valid UTF-8');
  });
});

// ---- a whole session ---------------------------------------------------------------------

const SESSION_URI = 'file:///raw/session.py';
function sessionBytes() {
  return Buffer.concat([
    frame(request(1, 'initialize', INIT)),
    frame(notification('initialized', {})),
    frame(notification('textDocument/didOpen', {
      textDocument: { uri: SESSION_URI, languageId: 'python', version: 1, text: 'def f():\n    return 1\n' },
    })),
    frame(request(2, 'textDocument/inlineCompletion', {
      textDocument: { uri: SESSION_URI },
      position: { line: 1, character: 4 },
      context: { triggerKind: 2 },
    })),
    frame(request(3, 'shutdown')),
    frame(notification('exit')),
  ]);
}

// The answers to a complete session, checked in order and by shape.
function checkSession(log) {
  const responses = log.messages.filter((m) => m.id !== undefined && m.method === undefined);
  assert.deepEqual(responses.map((m) => m.id), [1, 2, 3], `one response per request, in order: ${JSON.stringify(responses)}`);
  const [init, inline, shutdown] = responses;
  assert.equal(init.jsonrpc, '2.0');
  assert.equal(init.result.capabilities.positionEncoding, 'utf-16');
  assert.equal(init.result.serverInfo.name, 'astfill');
  // The inline completion is either computed ({items: []}, no model) or, as the
  // shutdown arrives while it runs, cancelled; either way it gets one answer.
  if (inline.error) {
    assert.equal(inline.error.code, -32800, `inline completion error: ${JSON.stringify(inline)}`);
    assert.ok(/shut/i.test(inline.error.message), `cancelled because of the shutdown: ${inline.error.message}`);
  } else {
    assert.deepEqual(inline.result, { items: [] });
  }
  assert.deepEqual(shutdown, { jsonrpc: '2.0', id: 3, result: null });
  return { inline };
}

describe('complete sessions', () => {
  test('a whole session written in one go, then stdin closed, exits 0', async (t) => {
    const s = await startRaw();
    t.after(() => killProcess(s.proc));
    await s.send(sessionBytes());
    s.proc.stdin.end();
    const { code } = await waitForExit(s.proc);
    await s.log.waitForClose('the daemon to close stdout');
    assert.equal(code, 0, `exit code (stderr: ${s.proc.stderrText()})`);
    const { inline } = checkSession(s.log);
    t.diagnostic(`inline completion answer: ${JSON.stringify(inline)}`);
  });

  test('the same session replayed from a file on stdin exits 0', async (t) => {
    const file = tempFile('session.lsp', sessionBytes());
    const fd = fs.openSync(file, 'r');
    let proc;
    try {
      proc = await spawnDaemon(['serve'], { stdio: [fd, 'pipe', 'pipe'] });
    } finally {
      fs.closeSync(fd);
    }
    t.after(() => killProcess(proc));
    const log = readFrames(proc.stdout, 'output of the replayed session');
    const { code } = await waitForExit(proc);
    await log.waitForClose('the daemon to close stdout');
    assert.equal(code, 0, `exit code (stderr: ${proc.stderrText()})`);
    checkSession(log);
  });

  test('a file that ends without shutdown/exit: answers, then exit code 1', async (t) => {
    const file = tempFile('partial.lsp', Buffer.concat([
      frame(request(1, 'initialize', INIT)),
      frame(notification('initialized', {})),
      frame(status(2)),
    ]));
    const fd = fs.openSync(file, 'r');
    let proc;
    try {
      proc = await spawnDaemon(['serve'], { stdio: [fd, 'pipe', 'pipe'] });
    } finally {
      fs.closeSync(fd);
    }
    t.after(() => killProcess(proc));
    const log = readFrames(proc.stdout, 'output of the partial session');
    const { code } = await waitForExit(proc);
    await log.waitForClose('the daemon to close stdout');
    assert.equal(code, 1);
    const ids = log.messages.filter((m) => m.id !== undefined).map((m) => m.id);
    assert.deepEqual(ids, [1, 2]);
  });
});

test('no stray frames with id null outside the malformed cases', async (t) => {
  const s = await initialized(t);
  await expectServed(s, 70);
  assert.deepEqual(errorsWithNullId(s.log), []);
});
