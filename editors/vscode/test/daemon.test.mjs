// Finding the binary; recognising the daemon's progress and model messages;
// the reader tap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findBinary } from '../out/binary.js';
import { daemonEvent } from '../out/daemonEvents.js';
import { tapReader } from '../out/messageTap.js';

test('the binary: the setting, else PATH; a miss names what was tried and the setting', () => {
  const exists = (f) => f === '/opt/bin/astfill' || f === '/usr/local/bin/astfill';
  assert.deepEqual(findBinary('/opt/bin/astfill', '/usr/bin', exists), { ok: true, path: '/opt/bin/astfill' });
  assert.deepEqual(findBinary('', '/usr/bin:/usr/local/bin', exists), { ok: true, path: '/usr/local/bin/astfill' });
  const missing = findBinary('/nope/astfill', '/usr/local/bin', exists);
  assert.equal(missing.ok, false);
  assert.deepEqual(missing.tried, ['/nope/astfill']);
  assert.match(missing.message, /"\/nope\/astfill" \(the astfill\.path setting\) is not an executable file/);
  const none = findBinary('', '/a:/b', () => false);
  assert.deepEqual(none.tried, ['/a/astfill', '/b/astfill']);
  assert.match(none.message, /astfill\.path is not set and there is no "astfill" on PATH/);
});

test('index progress by token; other progress is not ours', () => {
  const progress = (token, value) => daemonEvent({ jsonrpc: '2.0', method: '$/progress', params: { token, value } });
  assert.deepEqual(progress('astfill/index/1', { kind: 'begin', title: 'Indexing', percentage: 0 }),
    { kind: 'index-begin', token: 'astfill/index/1', percentage: 0 });
  assert.deepEqual(progress('astfill/index/1', { kind: 'report', percentage: 42 }),
    { kind: 'index-report', token: 'astfill/index/1', percentage: 42 });
  assert.deepEqual(progress('astfill/index/1', { kind: 'end' }), { kind: 'index-end', token: 'astfill/index/1' });
  assert.equal(progress('other/1', { kind: 'begin' }), undefined);
  assert.equal(progress(7, { kind: 'begin' }), undefined);
});

test('the model loaded or not, from window/logMessage', () => {
  const log = (message) => daemonEvent({ method: 'window/logMessage', params: { type: 1, message } });
  assert.equal(log('cannot load the model /x.gguf: no such file').kind, 'model-failed');
  assert.equal(log('model loaded: /x.gguf (qwen2)').kind, 'model-loaded');
  assert.equal(log('something else'), undefined);
  assert.equal(daemonEvent({ id: 1, result: null }), undefined);
  assert.equal(daemonEvent(null), undefined);
});

test('the tap shows each message to the observer and passes it on, even if the observer throws', () => {
  let listener;
  const reader = {
    onError: () => {}, onClose: () => {}, onPartialMessage: () => {},
    listen(cb) { listener = cb; return { dispose() {} }; },
    dispose() {},
  };
  const seen = [];
  const passed = [];
  const tapped = tapReader(reader, (m) => { seen.push(m); if (m.boom) throw new Error('observer bug'); });
  tapped.listen((m) => passed.push(m));
  listener({ a: 1 });
  listener({ boom: true });
  assert.deepEqual(seen, [{ a: 1 }, { boom: true }]);
  assert.deepEqual(passed, [{ a: 1 }, { boom: true }]);
  assert.equal(tapped.onClose, reader.onClose);
});

test("the daemon's log lines keep their level and lose their time", async () => {
  const { daemonLogLine } = await import('../out/daemonEvents.js');
  assert.deepEqual(daemonLogLine('15:14:24.203 info  [21334] stdio: initialized'),
    { level: 'info', text: '[21334] stdio: initialized' });
  assert.deepEqual(daemonLogLine('15:14:24.203 debug [1] x'), { level: 'debug', text: '[1] x' });
  assert.deepEqual(daemonLogLine('15:14:24.203 error [1] cannot load'), { level: 'error', text: '[1] cannot load' });
  assert.deepEqual(daemonLogLine('usage: astfill serve'), { level: 'info', text: 'usage: astfill serve' });
});
