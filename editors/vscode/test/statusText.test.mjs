// What the status bar item says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusText } from '../out/statusText.js';

const running = { daemon: 'running', enabled: true, indexing: [], model: '/models/qwen-0.5b.gguf', modelState: 'ready' };

test('ready: the model file name; the tooltip names the whole path', () => {
  const s = statusText(running);
  assert.equal(s.text, '$(sparkle) astfill: qwen-0.5b.gguf');
  assert.match(s.tooltip, /Model: \/models\/qwen-0\.5b\.gguf/);
  assert.match(s.tooltip, /Completions are on/);
  assert.match(s.tooltip, /Click to turn completions off/);
});

test('indexing: the mean percentage over the indexes', () => {
  assert.equal(statusText({ ...running, indexing: [40, 61] }).text, '$(sync~spin) astfill 50%');
});

test('off, no model, a failed model', () => {
  assert.equal(statusText({ ...running, enabled: false }).text, '$(circle-slash) astfill');
  assert.match(statusText({ ...running, enabled: false }).tooltip, /Click to turn completions on/);
  assert.match(statusText({ ...running, model: null, modelState: 'none' }).tooltip, /set astfill\.model/);
  const failed = statusText({ ...running, modelState: 'failed: cannot load the model' });
  assert.equal(failed.text, '$(warning) astfill');
  assert.match(failed.tooltip, /check astfill\.model/);
});

test('the daemon missing, stopped, starting', () => {
  assert.match(statusText({ ...running, daemon: 'missing' }).tooltip, /astfill\.path/);
  assert.match(statusText({ ...running, daemon: 'stopped' }).tooltip, /Restart the Daemon/);
  assert.equal(statusText({ ...running, daemon: 'starting' }).text, '$(loading~spin) astfill');
});
