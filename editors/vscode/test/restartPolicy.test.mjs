// When a dead daemon is restarted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartPolicy, windowText } from '../out/restartPolicy.js';

test('five restarts in three minutes, then it stays down', () => {
  const p = new RestartPolicy();
  for (let i = 1; i <= 5; ++i) assert.deepEqual(p.onUnexpectedExit(i * 1000), { restart: true, recentExits: i });
  assert.deepEqual(p.onUnexpectedExit(6000), { restart: false, recentExits: 6 });
});

test('exits older than the window are forgotten', () => {
  const p = new RestartPolicy(2, 60_000);
  assert.equal(p.onUnexpectedExit(0).restart, true);
  assert.equal(p.onUnexpectedExit(10_000).restart, true);
  assert.equal(p.onUnexpectedExit(20_000).restart, false);
  // 65 s: the exit at 0 s has left the window, the ones at 10 s and 20 s have not.
  assert.deepEqual(p.onUnexpectedExit(65_000), { restart: false, recentExits: 3 });
  assert.deepEqual(p.onUnexpectedExit(200_000), { restart: true, recentExits: 1 });
});

test('a restart the user asks for starts the count over', () => {
  const p = new RestartPolicy(1, 60_000);
  p.onUnexpectedExit(0);
  assert.equal(p.onUnexpectedExit(1).restart, false);
  p.reset();
  assert.equal(p.onUnexpectedExit(2).restart, true);
});

test('the window in words', () => {
  assert.equal(windowText(180_000), '3 minutes');
  assert.equal(windowText(60_000), '1 minute');
  assert.equal(windowText(90_000), '90 seconds');
});
