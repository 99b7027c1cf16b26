// settings -> the daemon's `astfill` section; the daemon's command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonArgs, daemonSection, expandPath, DAEMON_KEYS, RESTART_KEYS } from '../out/settings.js';

const ctx = { home: '/home/u', workspaceFolder: '/ws' };
const reader = (values) => (key) => values[key];

test('nested keys become nested objects; editor-side keys stay out', () => {
  const section = daemonSection(reader({
    path: '/opt/astfill', threads: 4, 'trace.server': 'verbose',
    enable: false, maxTokens: 32, timeoutMs: 500, constraints: true, logLevel: 'debug',
    languages: { python: false },
    'context.prefixTokens': 512, 'context.suffixTokens': 128, 'context.crossFileTokens': 0,
    'index.enable': true, 'index.maxFileKB': 256, 'index.includeDirs': ['include'],
    model: '/models/m.gguf', fimTemplate: 'qwen',
  }), ctx);
  assert.deepEqual(section, {
    enable: false, maxTokens: 32, timeoutMs: 500, constraints: true, logLevel: 'debug',
    languages: { python: false },
    context: { prefixTokens: 512, suffixTokens: 128, crossFileTokens: 0 },
    index: { enable: true, maxFileKB: 256, includeDirs: ['include'] },
    model: '/models/m.gguf', fimTemplate: 'qwen',
  });
  for (const key of RESTART_KEYS) assert.ok(!DAEMON_KEYS.includes(key));
});

test('unset values are left out so the daemon keeps its defaults; an empty template too, an empty model is sent', () => {
  assert.deepEqual(daemonSection(reader({ model: '', fimTemplate: '', maxTokens: undefined, enable: null }), ctx), { model: '' });
});

test('the model path: ~, ${userHome}, ${workspaceFolder} and relative paths', () => {
  const model = (m) => daemonSection(reader({ model: m }), ctx).model;
  assert.equal(model('~/models/a.gguf'), '/home/u/models/a.gguf');
  assert.equal(model('${userHome}/a.gguf'), '/home/u/a.gguf');
  assert.equal(model('${workspaceFolder}/m/a.gguf'), '/ws/m/a.gguf');
  assert.equal(model('m/a.gguf'), '/ws/m/a.gguf');
  // A pulled model's name goes to the daemon as it is.
  assert.equal(model('qwen2.5-coder-1.5b:q8_0'), 'qwen2.5-coder-1.5b:q8_0');
  assert.equal(model('./a:b.gguf'), '/ws/a:b.gguf');
  assert.equal(expandPath('m/a.gguf', { home: '/h' }), 'm/a.gguf', 'no folder: left as given');
  assert.equal(expandPath('', ctx), '');
});

test('the section is a copy: editing it does not touch the configuration', () => {
  const langs = { python: false };
  const dirs = ['a'];
  const section = daemonSection(reader({ languages: langs, 'index.includeDirs': dirs }), ctx);
  section.languages.go = false;
  section.index.includeDirs.push('b');
  assert.deepEqual(langs, { python: false });
  assert.deepEqual(dirs, ['a']);
});

test('daemon arguments: --threads only for a positive integer', () => {
  assert.deepEqual(daemonArgs(0), ['serve']);
  assert.deepEqual(daemonArgs(undefined), ['serve']);
  assert.deepEqual(daemonArgs(2.5), ['serve']);
  assert.deepEqual(daemonArgs(3), ['serve', '--threads', '3']);
});

test('astfill.vision.* become the vision section, its paths expanded like the model', () => {
  const section = daemonSection(reader({
    'vision.model': '~/m/qwen2.5-vl.gguf', 'vision.mmproj': 'mmproj.gguf', 'vision.maxImageTokens': 64,
  }), ctx);
  assert.deepEqual(section, {
    vision: { model: '/home/u/m/qwen2.5-vl.gguf', mmproj: '/ws/mmproj.gguf', maxImageTokens: 64 },
  });
  assert.deepEqual(daemonSection(reader({ 'vision.model': 'qwen2.5-vl-3b:q8_0' }), ctx),
    { vision: { model: 'qwen2.5-vl-3b:q8_0' } });
});
