// `astfill pull` and `astfill models` against a local HTTP server that answers
// the way Hugging Face does: the resolve URL redirects to the file's bytes and
// publishes the SHA-256 in X-Linked-Etag (quoted) and the size in
// X-Linked-Size; the bytes are served with Range support. The file is a tiny
// random-weight GGUF, so `models` and `--model NAME` have a real model to read.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BIN, waitForBinary, writeTinyModel } from './helpers.mjs';

let dir, cache, modelsDir, model, modelSha, server, base;
const requests = [];  // {url, range} for every request the server saw
let dropNextBlob = false;  // send half the bytes, then cut the connection

// Serves `model` at /blobs/<name>; /<org>/<repo>/resolve/main/<name> redirects
// there with HF's headers. Under /bad/ the published hash is wrong.
function handle(req, res) {
  requests.push({ url: req.url, range: req.headers.range });
  const resolve = req.url.match(/^\/(bad\/)?[^/]+\/[^/]+\/resolve\/main\/([^/]+\.gguf)$/);
  if (resolve) {
    const published = resolve[1] ? crypto.createHash('sha256').update('other bytes').digest('hex') : modelSha;
    res.writeHead(302, {
      Location: `/blobs/${resolve[2]}`,
      'X-Linked-Etag': `"${published}"`,
      'X-Linked-Size': String(model.length),
      'X-Repo-Commit': '0123456789abcdef0123456789abcdef01234567',
    });
    res.end();
    return;
  }
  if (!req.url.startsWith('/blobs/')) {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('Entry not found');
    return;
  }
  let start = 0;
  const range = req.headers.range?.match(/^bytes=(\d+)-$/);
  if (range) start = Number(range[1]);
  if (start >= model.length) {
    res.writeHead(416, { 'Content-Range': `bytes */${model.length}` });
    res.end();
    return;
  }
  const body = model.subarray(start);
  const headers = { 'Content-Length': String(body.length), 'Accept-Ranges': 'bytes' };
  if (range) headers['Content-Range'] = `bytes ${start}-${model.length - 1}/${model.length}`;
  res.writeHead(range ? 206 : 200, headers);
  if (dropNextBlob) {
    dropNextBlob = false;
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.socket.destroy(), 50));
    return;
  }
  res.end(body);
}

// Runs astfill without blocking the event loop (the server lives in this
// process). No proxy: requests must reach 127.0.0.1 directly.
function astfill(args, extraEnv = {}) {
  const env = { ...process.env, XDG_CACHE_HOME: cache, ...extraEnv };
  for (const v of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'])
    delete env[v];
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

// A port nothing listens on: bound, then closed.
async function closedPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

before(async () => {
  await waitForBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'astfill-cli-pull-'));
  cache = path.join(dir, 'cache');
  modelsDir = path.join(cache, 'astfill', 'models');
  const file = path.join(dir, 'tiny.gguf');
  writeTinyModel(file);
  model = fs.readFileSync(file);
  modelSha = crypto.createHash('sha256').update(model).digest('hex');
  server = http.createServer(handle);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('astfill pull', () => {
  test('downloads a file through the redirect and verifies its SHA-256', async () => {
    const url = `${base}/org/repo/resolve/main/tiny.gguf`;
    const r = await astfill(['pull', url]);
    assert.equal(r.status, 0, r.stderr);
    const dest = path.join(modelsDir, 'tiny.gguf');
    assert.equal(r.stdout.trim(), dest);
    assert.match(r.stderr, /SHA-256 verified/);
    assert.ok(fs.readFileSync(dest).equals(model), 'the file is byte-identical');
    assert.ok(!fs.existsSync(dest + '.part'));

    // Already there: nothing is downloaded again.
    const before = requests.length;
    const again = await astfill(['pull', url]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /already there/);
    assert.equal(requests.length, before);
  });

  test('hf:// names resolve against $ASTFILL_HF_ENDPOINT', async () => {
    const r = await astfill(['pull', 'hf://org/repo/hub.gguf'], { ASTFILL_HF_ENDPOINT: base });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(requests.some((q) => q.url === '/org/repo/resolve/main/hub.gguf'));
    assert.ok(fs.readFileSync(path.join(modelsDir, 'hub.gguf')).equals(model));
  });

  test('an interrupted download resumes with a Range request', async () => {
    const url = `${base}/org/repo/resolve/main/resumed.gguf`;
    const dest = path.join(modelsDir, 'resumed.gguf');
    dropNextBlob = true;
    const first = await astfill(['pull', url]);
    assert.equal(first.status, 1, 'the cut download fails');
    assert.match(first.stderr, /stopped after .*run the same command again to resume/);
    assert.ok(!fs.existsSync(dest), 'no file under the final name');
    const partial = fs.statSync(dest + '.part').size;
    assert.ok(partial > 0 && partial < model.length, `kept ${partial} of ${model.length} bytes`);

    const second = await astfill(['pull', url]);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /resumed, SHA-256 verified/);
    assert.ok(requests.some((q) => q.url === '/blobs/resumed.gguf' && q.range === `bytes=${partial}-`),
      JSON.stringify(requests.filter((q) => q.url.includes('resumed'))));
    assert.ok(fs.readFileSync(dest).equals(model), 'the resumed file is byte-identical');
    assert.ok(!fs.existsSync(dest + '.part'));
  });

  test('a checksum mismatch fails, names both hashes and leaves no file', async () => {
    const r = await astfill(['pull', `${base}/bad/org/repo/resolve/main/bad.gguf`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /checksum mismatch/);
    assert.match(r.stderr, new RegExp(`got ${modelSha}`));
    assert.match(r.stderr, /expected SHA-256 [0-9a-f]{64}/);
    assert.ok(!fs.existsSync(path.join(modelsDir, 'bad.gguf')));
    assert.ok(!fs.existsSync(path.join(modelsDir, 'bad.gguf.part')));
  });

  test('an HTTP error names the status and the URL', async () => {
    const url = `${base}/missing.gguf`;
    const r = await astfill(['pull', url]);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`HTTP 404 for ${url}`), r.stderr);
    assert.ok(!fs.existsSync(path.join(modelsDir, 'missing.gguf')));
  });

  test('an unreachable host gives an offline error naming it', async () => {
    const port = await closedPort();
    const r = await astfill(['pull', `http://127.0.0.1:${port}/org/repo/resolve/main/x.gguf`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot reach 127\.0\.0\.1 \(offline/);
    assert.match(r.stderr, /Couldn't connect|Failed to connect/);
  });

  test('a vision-language model comes with its vision tower, which models lists with it', async () => {
    const r = await astfill(['pull', 'qwen2.5-vl-3b:q4_k_m'], { ASTFILL_HF_ENDPOINT: base });
    assert.equal(r.status, 0, r.stderr);
    const lm = path.join(modelsDir, 'qwen2.5-vl-3b-q4_k_m.gguf');
    const tower = path.join(modelsDir, 'qwen2.5-vl-3b-q4_k_m.mmproj.gguf');
    assert.deepEqual(r.stdout.trim().split('\n'), [lm, tower]);
    assert.ok(requests.some((q) => q.url === '/ggml-org/Qwen2.5-VL-3B-Instruct-GGUF/resolve/main/Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf'));
    assert.ok(requests.some((q) => q.url === '/ggml-org/Qwen2.5-VL-3B-Instruct-GGUF/resolve/main/mmproj-Qwen2.5-VL-3B-Instruct-f16.gguf'));
    assert.equal((r.stderr.match(/SHA-256 verified/g) ?? []).length, 2, r.stderr);
    assert.ok(fs.readFileSync(tower).equals(model));

    const listed = JSON.parse((await astfill(['models', '--json'])).stdout);
    const vl = listed.find((m) => m.name === 'qwen2.5-vl-3b:q4_k_m');
    assert.ok(vl, JSON.stringify(listed));
    assert.equal(vl.mmproj, tower);
    assert.ok(!listed.some((m) => m.path === tower), 'the tower is no model of its own');

    // Pulled again: both are there, nothing is downloaded.
    const before = requests.length;
    const again = await astfill(['pull', 'qwen2.5-vl-3b:q4_k_m'], { ASTFILL_HF_ENDPOINT: base });
    assert.equal(again.status, 0, again.stderr);
    assert.equal((again.stderr.match(/already there/g) ?? []).length, 2, again.stderr);
    assert.equal(requests.length, before);
  });

  test('unknown names are a usage error that points at --list', async () => {
    const r = await astfill(['pull', 'no-such-model']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /'no-such-model' is not a known model.*--list/);
  });
});

describe('astfill models', () => {
  test('--json lists the pulled files with their GGUF header', async () => {
    const r = await astfill(['models', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const models = JSON.parse(r.stdout);
    const tiny = models.find((m) => m.name === 'tiny');
    assert.ok(tiny, r.stdout);
    assert.equal(tiny.path, path.join(modelsDir, 'tiny.gguf'));
    assert.equal(tiny.bytes, model.length);
    assert.equal(tiny.architecture, 'qwen2');
    assert.ok(tiny.parameters > 0 && tiny.block_count > 0, JSON.stringify(tiny));
    assert.ok(!models.some((m) => m.path.endsWith('.part')));
  });

  test('--model takes the name of a pulled model', async () => {
    const r = await astfill(['generate', '--model', 'tiny', '--prompt', 'def f():', '-n', '2', '--threads', '1']);
    assert.equal(r.status, 0, r.stderr);
    const missing = await astfill(['generate', '--model', 'not-pulled', '--prompt', 'x', '-n', '1']);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /not-pulled/);
  });
});
