// astfill.image.attach and astfill.image.toCode through `astfill serve` on
// stdio (issue 19), with the tiny random Qwen2.5-VL pair
// ($ASTFILL_WRITE_VL_FIXTURE writes it and a test picture) as astfill.vision
// and a tiny random completion model: progress, the cached second attach, a
// completion after the attach (its prompt carries the description), toCode's
// WorkspaceEdit, and hostile images refused while the daemon keeps serving.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { isProgress, killAll, killProcess, spawnDaemon, stdioClient, tempDir, writeTinyModel } from './helpers.mjs';

after(killAll);

const WRITE_VL = process.env.ASTFILL_WRITE_VL_FIXTURE ??
  new URL('../../build/tests/vision/write_vl_fixture', import.meta.url).pathname;

test('attach with progress, cached by content; completions after it; toCode; hostile images', async (t) => {
  const dir = tempDir('images');
  const lm = path.join(dir, 'lm.gguf'), mm = path.join(dir, 'mm.gguf'), png = path.join(dir, 'form.png');
  const made = spawnSync(WRITE_VL, [lm, mm, png], { encoding: 'utf8' });
  assert.equal(made.status, 0, `write_vl_fixture: ${made.stderr}`);
  const truncated = path.join(dir, 'cut.png');
  fs.writeFileSync(truncated, fs.readFileSync(png).subarray(0, 100));
  const model = path.join(dir, 'tiny.gguf');
  writeTinyModel(model);

  const proc = await spawnDaemon(['serve', '--model', model, '--threads', '1', '--index-threads', '1']);
  const client = stdioClient(proc);
  t.after(async () => {
    client.dispose();
    await killProcess(proc);
  });
  const root = tempDir('project');
  const rootUri = pathToFileURL(root).href;
  const init = await client.request('initialize', {
    processId: process.pid, rootUri, capabilities: { window: { workDoneProgress: true } },
    initializationOptions: { astfill: { vision: { model: lm, mmproj: mm, maxImageTokens: 8 } } },
  });
  assert.ok(init.capabilities.executeCommandProvider.commands.includes('astfill.image.attach'));
  assert.ok(init.capabilities.executeCommandProvider.commands.includes('astfill.image.toCode'));
  await client.notify('initialized', {});
  const uri = pathToFileURL(path.join(root, 'form.py')).href;
  const text = 'class Form:\n    def render(self):\n        \n';
  await client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
  const exec = (command, arg, extra = {}) =>
    client.request('workspace/executeCommand', { command, arguments: [arg], ...extra }, undefined, 60_000);

  const first = await exec('astfill.image.attach', { textDocument: { uri }, source: pathToFileURL(png).href },
                           { workDoneToken: 'img-1' });
  assert.equal(first.name, 'image form.png');
  assert.equal(first.cached, false);
  assert.equal(first.towerRuns, 1);
  assert.ok(first.imageTokens > 0 && first.imageTokens <= 8);
  await client.waitFor(isProgress('img-1', 'begin'), 'the attach progress to begin');
  await client.waitFor(isProgress('img-1', 'end'), 'the attach progress to end');

  const dataUri = `data:image/png;base64,${fs.readFileSync(png).toString('base64')}`;
  const second = await exec('astfill.image.attach', { textDocument: { uri }, source: dataUri });
  assert.equal(second.cached, true);
  assert.equal(second.towerRuns, 1);
  assert.equal(second.hash, first.hash);
  assert.equal(second.description, first.description);

  // A completion after the attach runs with the description in its prompt.
  const position = { line: 2, character: 8 };
  const r = await client.request('textDocument/inlineCompletion', {
    textDocument: { uri }, position, context: { triggerKind: 1 } }, undefined, 60_000);
  assert.ok(Array.isArray(r.items));

  await assert.rejects(exec('astfill.image.attach', { textDocument: { uri }, source: pathToFileURL(truncated).href }),
    (e) => e.code === -32602 && /cut\.png/.test(e.message) && /PNG/.test(e.message));
  await assert.rejects(exec('astfill.image.attach', { textDocument: { uri }, source: 'data:image/png;base64,%%%' }),
    (e) => e.code === -32602 && /not valid base64/.test(e.message));

  const edit = await exec('astfill.image.toCode', {
    textDocument: { uri }, position, source: pathToFileURL(png).href, instruction: 'the fields' });
  assert.ok(edit.changes[uri], JSON.stringify(edit));
  for (const e of edit.changes[uri]) {
    assert.deepEqual(e.range, { start: position, end: position });
    assert.ok(!e.newText.includes('```'));
  }
  const status = await client.status();
  assert.equal(status.modelState, 'ready');
});
