// LoRA adapters end to end (issue 18) with a tiny random-weight model: an
// adapter that `astfill tune` trains on a small project, in both formats,
// changes what `astfill logits` and `astfill generate` give, the same adapter
// at scale 0 gives the base model's output bit for bit, and a daemon whose
// workspace setting astfill.adapter names it completes differently than
// without, and like the base model again once the setting is cleared.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, killAll, killProcess, spawnDaemon, stdioClient, tempDir, waitForBinary, writeFiles, writeTinyModel } from './helpers.mjs';

after(killAll);

const FILES = {
  'pkg/__init__.py': '',
  'pkg/shapes.py': 'class Circle:\n    def __init__(self, r):\n        self.r = r\n\n    def area(self):\n' +
    '        return 3.14 * self.r ** 2\n\n\ndef make_circle(r):\n    return Circle(r)\n',
  'pkg/totals.py': 'def add_one(total):\n    total = total + 1\n    total = total * 2\n    return total\n\n\n' +
    'def add_two(total):\n    total = total + 2\n    total = total * 2\n    return total\n',
  'pkg/main.py': 'from . import shapes\n\n\ndef report(r):\n    c = shapes.make_circle(r)\n    print(c.area())\n',
};

const PROMPT = 'def add_three(total):\n    total = total + ';

let dir, project, model, peft, gguf, promptFile;

function astfill(...args) {
  const r = spawnSync(BIN, args, {
    timeout: 120_000,
    env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

before(async () => {
  await waitForBinary();
  dir = tempDir('adapter');
  project = path.join(dir, 'project');
  writeFiles(project, FILES);
  model = path.join(dir, 'tiny.gguf');
  writeTinyModel(model);
  // A few steps at a high learning rate: an adapter far from zero.
  const out = path.join(dir, 'tune');
  const r = astfill('tune', '--root', project, '--model', model, '--out', out, '--steps', '10', '--threads', '1',
    '--rank', '4', '--max-tokens', '128', '--lr', '0.05', '--format', 'both');
  assert.equal(r.status, 0, r.stderr);
  peft = path.join(out, 'adapter');
  gguf = path.join(out, 'adapter.gguf');
  assert.ok(fs.existsSync(path.join(peft, 'adapter_model.safetensors')));
  assert.ok(fs.existsSync(gguf));
  promptFile = path.join(dir, 'prompt.txt');
  fs.writeFileSync(promptFile, PROMPT);
});

// The last position's logits of PROMPT, as float32s.
function logits(...adapter) {
  const out = path.join(dir, `logits-${Math.random().toString(36).slice(2)}.bin`);
  const r = astfill('logits', '--model', model, '--threads', '1', '--text-file', promptFile, '--out', out, ...adapter);
  assert.equal(r.status, 0, r.stderr);
  const bytes = fs.readFileSync(out);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

function generate(...adapter) {
  const r = astfill('generate', '--model', model, '--threads', '1', '--prompt', PROMPT, '-n', '12', ...adapter);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function maxDifference(a, b) {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; ++i) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('astfill generate and logits with --adapter', () => {
  for (const [format, adapter] of [['PEFT', () => peft], ['GGUF', () => gguf]]) {
    test(`the ${format} adapter changes the logits and the output; at scale 0 it changes nothing`, () => {
      const base = logits();
      const tuned = logits('--adapter', adapter());
      const off = logits('--adapter', `${adapter()}:0`);
      assert.ok(maxDifference(base, tuned) > 0.1, `the adapter moved no logit by more than 0.1 (${maxDifference(base, tuned)})`);
      assert.deepEqual(Buffer.from(off.buffer, off.byteOffset, off.byteLength),
        Buffer.from(base.buffer, base.byteOffset, base.byteLength), 'scale 0 gives the base logits bit for bit');
      const text = generate();
      assert.notEqual(generate('--adapter', adapter()).toString('hex'), text.toString('hex'), 'the adapter changes the output');
      assert.equal(generate('--adapter', `${adapter()}:0`).toString('hex'), text.toString('hex'), 'scale 0: the base output');
    });
  }

  test('both formats of the same adapter give the same logits', () => {
    const a = logits('--adapter', peft);
    const b = logits('--adapter', gguf);
    assert.ok(maxDifference(a, b) < 1e-3, `PEFT and GGUF differ by ${maxDifference(a, b)}`);
  });
});

describe('astfill serve with the astfill.adapter setting', () => {
  test('the workspace adapter changes the completion; cleared, the base completion comes back', async (t) => {
    const proc = await spawnDaemon(['serve', '--index-threads', '1', '--model', model, '--threads', '1'],
      { cacheDir: path.join(dir, 'serve-cache') });
    const client = stdioClient(proc);
    t.after(async () => {
      client.dispose();
      await killProcess(proc);
    });
    client.conn.onRequest('window/workDoneProgress/create', () => null);
    const rootUri = pathToFileURL(project).href;
    await client.request('initialize', {
      processId: process.pid, rootUri, workspaceFolders: [{ uri: rootUri, name: 'proj' }],
      capabilities: { window: { workDoneProgress: true } },
    });
    await client.notify('initialized', {});
    await client.waitFor((m) => m.method === '$/progress' && m.params?.value?.kind === 'end' &&
                                String(m.params.token).startsWith('astfill/index/'), 'indexing to end', 60_000);
    const configure = (adapter) => client.notify('workspace/didChangeConfiguration', {
      settings: { astfill: { constraints: false, speculate: false, maxTokens: 12, timeoutMs: 60_000, adapter } } });
    const uri = pathToFileURL(path.join(project, 'pkg/new.py')).href;
    const text = 'from . import totals\n\n\ndef add_three(total):\n    total = total + \n';
    await client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
    const ask = async () => {
      const r = await client.request('textDocument/inlineCompletion', {
        textDocument: { uri }, position: { line: 4, character: 20 }, context: { triggerKind: 1 } }, undefined, 60_000);
      return JSON.stringify(r.items.map((i) => i.insertText));
    };
    const settingOf = async () => (await client.status()).settings.adapter;

    await configure('');
    const base = await ask();
    assert.notEqual(base, '[]', 'without constraints the random model writes something');
    await configure(peft);
    assert.deepEqual(await settingOf(), [peft]);
    const tuned = await ask();
    assert.notEqual(tuned, base, 'the adapter named by astfill.adapter changes the completion');
    await configure(`${peft}:0`);
    assert.equal(await ask(), base, 'at scale 0 the adapter gives the base completion');
    await configure('');
    assert.deepEqual(await settingOf(), []);
    assert.equal(await ask(), base, 'cleared: the base completion again, not the adapter\'s cached one');
    await configure(gguf);
    assert.equal(await ask(), tuned, 'the GGUF adapter completes as its PEFT copy does');
  });
});
