// The remote backend (astfill.backend, --backend URL): the prompt is built
// here, the model runs on a server, every streamed token is checked here.
//  - against astfill's own `serve --http` on loopback (real HTTP, real
//    streaming, the same tiny random-weight model on both sides);
//  - against a local server that replays hand-written transcripts in vLLM's
//    shape (legacy logprobs) and llama.cpp's (/completion's
//    completion_probabilities, /v1/completions' chat-style content list): a
//    refused token is replaced by the best allowed alternative and the next
//    request carries the accepted text; a server that answers 500, one that
//    never answers, one that closes mid-stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import {
  BIN, cpythonSyntaxError, killAll, startHttpServer, tempDir, waitForBinary, writeFiles, writeTinyModel,
} from './helpers.mjs';

const FILES = {
  'pkg/__init__.py': '',
  'pkg/shapes.py': 'class Circle:\n    def __init__(self, r):\n        self.r = r\n\n    def area(self):\n' +
    '        return 3.14 * self.r ** 2\n',
  'pkg/main.py': 'from pkg import shapes\n\nc = shapes.\n\ndef g(x):\n    return \n',
};

let dir, project, model;

// `astfill complete --json` at (line, character) of pkg/main.py; async, so
// that the test's own server answers while it runs.
function complete(line, character, extra = []) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, ['complete', '--root', project, '--file', 'pkg/main.py', '--line', String(line),
      '--character', String(character), '--model', model, '--threads', '1', '--json', ...extra],
    { env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (c) => { stdout += c; });
    p.stderr.on('data', (c) => { stderr += c; });
    p.on('error', reject);
    p.on('exit', (status) => resolve({ status, stdout, stderr, json: status === 0 ? JSON.parse(stdout) : null }));
  });
}

// A server that answers request i with script[i](req, body, res); records bodies.
async function replayServer(script) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const parsed = JSON.parse(body);
      requests.push({ url: req.url, body: parsed, auth: req.headers.authorization });
      const step = script[Math.min(requests.length - 1, script.length - 1)];
      step(req, parsed, res);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, requests, url: `http://127.0.0.1:${server.address().port}` };
}

function sse(res, events, { done = true, end = true } = {}) {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(`data: ${JSON.stringify(e)}\n\n`);
  if (done) res.write('data: [DONE]\n\n');
  if (end) res.end();
}

// vLLM's streamed /v1/completions chunk with legacy logprobs.
const vllm = (token, top, finish = null) => ({
  id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm',
  choices: [{ index: 0, text: token, finish_reason: finish,
    logprobs: { tokens: [token], token_logprobs: [top[token] ?? -1], top_logprobs: [top], text_offset: [0] } }],
});
const vllmEnd = (finish) => ({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm',
  choices: [{ index: 0, text: '', finish_reason: finish, logprobs: null }] });

before(async () => {
  await waitForBinary();
  dir = tempDir('remote');
  project = path.join(dir, 'project');
  writeFiles(project, FILES);
  model = path.join(dir, 'tiny.gguf');
  writeTinyModel(model);
});

after(killAll);

describe('remote backend against astfill serve --http', () => {
  test("what streams back is the server's own greedy answer to the prompt sent; with constraints the answer stays whole",
    async () => {
    const { url: upstream } = await startHttpServer(['--model', model, '--threads', '1']);
    // A recording proxy in front of the server: the prompt the backend sends
    // is built here from the local tokenizer's text, so the server tokenizes
    // it afresh; what it streams back must be its greedy answer to that text.
    const sent = [];
    const proxy = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        sent.push(JSON.parse(body));
        const up = http.request(`${upstream}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode, r.headers);
          r.pipe(res);
        });
        up.on('error', () => res.destroy());
        up.end(body);
      });
    });
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const backend = ['--backend', `http://127.0.0.1:${proxy.address().port}`];
    let written = 0;
    try {
      for (const [line, character] of [[2, 11], [5, 11]]) {
        sent.length = 0;
        const remote = await complete(line, character, ['--max-tokens', '12', '--timeout-ms', '20000', '--no-constraints', ...backend]);
        assert.equal(remote.status, 0, remote.stderr);
        assert.equal(sent.length, 1, 'unconstrained: one request');
        assert.equal(sent[0].stream, true);
        // The same prompt asked directly, not streamed: the streamed text is
        // where the stop rule ended it, a prefix of the whole answer.
        const direct = await fetch(`${upstream}/v1/completions`, { method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: sent[0].prompt, max_tokens: 12, temperature: 0 }) }).then((r) => r.json());
        const whole = direct.choices[0].text;
        assert.ok(whole.startsWith(remote.json.raw), `at ${line}:${character}: streamed '${remote.json.raw}', asked '${whole}'`);
        assert.ok(remote.json.raw.length > 0 || remote.json.end !== 'token cap', JSON.stringify(remote.json));
        if (remote.json.raw.length > 0) written += 1;
        // Constrained: the checks run here on what streams back.
        const checked = await complete(line, character, ['--max-tokens', '12', '--timeout-ms', '20000', ...backend]);
        assert.equal(checked.status, 0, checked.stderr);
        // (`c = shapes.` is unfinished until something is written there.)
        if (checked.json.completion !== '') {
          const text = FILES['pkg/main.py'].split('\n');
          if (line !== 2) text[2] = 'c = shapes.Circle';
          text[line] = text[line].slice(0, character) + checked.json.completion + text[line].slice(character);
          assert.equal(cpythonSyntaxError(text.join('\n')), null, `'${checked.json.completion}' at ${line}:${character}`);
        }
      }
      assert.ok(written > 0, 'the model wrote something at one of the two places at least');
    } finally {
      proxy.close();
    }
  });
});

describe('remote backend against replayed transcripts', () => {
  test("vLLM's shape: a refused token is replaced by the best allowed alternative, and the next request carries it",
    async () => {
      const { server, requests, url } = await replayServer([
        // `)` after `return ` is refused by the syntax guard; `x` is allowed.
        (req, body, res) => sse(res, [vllm(')', { ')': -0.1, ']': -0.2, x: -1.5 })], { done: false, end: false }),
        (req, body, res) => sse(res, [vllm(' +', { ' +': -0.1 }), vllm(' 1', { ' 1': -0.1 }), vllmEnd('stop')]),
      ]);
      try {
        const r = await complete(5, 11, ['--backend', url, '--backend-model', 'qwen-coder', '--no-context']);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.json.completion, 'x + 1', r.stderr);
        assert.ok(r.json.rejected_candidates >= 2, JSON.stringify(r.json));
        assert.equal(requests.length, 2);
        assert.equal(r.json.remote_requests, 2, JSON.stringify(r.json));
        assert.equal(r.json.remote_error, undefined);
        const [first, second] = requests;
        assert.equal(first.url, '/v1/completions');
        assert.equal(first.body.stream, true);
        assert.equal(first.body.temperature, 0);
        assert.equal(first.body.logprobs, 20);
        assert.equal(first.body.model, 'qwen-coder');
        assert.equal(first.body.suffix, undefined);  // vLLM takes no suffix: FIM goes as the prompt
        assert.match(first.body.prompt, /<\|fim_middle\|>$/);
        assert.equal(second.body.prompt, first.body.prompt + 'x');
      } finally {
        server.close();
      }
    });

  test("llama.cpp's /completion shape (completion_probabilities) with --backend-api llamacpp", async () => {
    const entry = (token, logprob, top) => ({ id: 1, token, bytes: [...Buffer.from(token)], logprob,
      top_logprobs: top.map(([t, l]) => ({ id: 2, token: t, bytes: [...Buffer.from(t)], logprob: l })) });
    const { server, requests, url } = await replayServer([
      (req, body, res) => sse(res, [
        { content: ')', stop: false, completion_probabilities: [entry(')', -0.1, [[')', -0.1], ['y', -2]])] },
      ], { done: false, end: false }),
      (req, body, res) => sse(res, [
        { content: '\n', stop: false, completion_probabilities: [entry('\n', -0.1, [['\n', -0.1]])] },
        { content: '', stop: true, stop_type: 'eos' },
      ], { done: false }),
    ]);
    try {
      const r = await complete(5, 11, ['--backend', url, '--backend-api', 'llamacpp', '--no-context']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.json.completion, 'y', r.stderr);
      assert.equal(requests[0].url, '/completion');
      assert.equal(requests[0].body.n_probs, 20);
      assert.equal(requests[1].body.prompt, requests[0].body.prompt + 'y');
    } finally {
      server.close();
    }
  });

  test("llama.cpp's /v1/completions answers logprobs as a chat-style content list", async () => {
    const chunk = (token, top) => ({ choices: [{ index: 0, text: token, finish_reason: null, logprobs: { content: [
      { id: 1, token, bytes: [...Buffer.from(token)], logprob: -0.1,
        top_logprobs: top.map(([t, l]) => ({ id: 2, token: t, bytes: [...Buffer.from(t)], logprob: l })) }] } }] });
    const { server, requests, url } = await replayServer([
      (req, body, res) => sse(res, [chunk(']', [[']', -0.1], ['z', -3]])], { done: false, end: false }),
      (req, body, res) => sse(res, [vllmEnd('stop')]),
    ]);
    try {
      const r = await complete(5, 11, ['--backend', url, '--no-context']);
      assert.equal(r.json.completion, 'z', r.stderr);
      assert.equal(requests.length, 2);
    } finally {
      server.close();
    }
  });

  test('a secret-shaped string the server writes is cut before it starts, with or without constraints', async () => {
    const token = 'ghp_' + 'a1B2c3D4e5'.repeat(3) + 'f6G7h8';  // GitHub's shape: 36 characters after ghp_
    const pieces = ['(', '"', 'ghp_', ...token.slice(4).match(/.{1,9}/g), '")'];
    for (const flags of [[], ['--no-constraints']]) {
      const { server, url } = await replayServer([(req, body, res) =>
        sse(res, [...pieces.map((p) => vllm(p, { [p]: -0.1 })), vllmEnd('stop')])]);
      try {
        const r = await complete(5, 11, ['--backend', url, '--no-context', ...flags]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.json.secret_cut, true, JSON.stringify(r.json));
        assert.ok(!r.stdout.includes('ghp_'), r.stdout);
        assert.ok(!r.json.completion.includes('ghp_'));
      } finally {
        server.close();
      }
    }
  });

  test('no allowed candidate ends the completion there', async () => {
    const { server, requests, url } = await replayServer([
      (req, body, res) => sse(res, [vllm('x', { x: -0.1 }), vllm(')', { ')': -0.1, ']': -0.3 })],
        { done: false, end: false }),
    ]);
    try {
      const r = await complete(5, 11, ['--backend', url, '--no-context']);
      assert.equal(r.json.completion, 'x', r.stderr);
      assert.equal(r.json.end, 'no viable token');
      assert.equal(requests.length, 1);
    } finally {
      server.close();
    }
  });

  test('a server that answers 500, one that never answers, one that closes mid-stream', async () => {
    let s = await replayServer([(req, body, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'the GPU caught fire', type: 'server_error' } }));
    }]);
    try {
      const r = await complete(5, 11, ['--backend', s.url, '--no-context']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.json.completion, '');
      assert.match(r.stderr, /HTTP 500: the GPU caught fire/);
      assert.match(r.json.remote_error, /HTTP 500: the GPU caught fire/);
    } finally {
      s.server.close();
    }

    s = await replayServer([() => {}]);  // never answers
    try {
      const t0 = Date.now();
      const r = await complete(5, 11, ['--backend', s.url, '--no-context', '--timeout-ms', '400']);
      assert.equal(r.json.completion, '');
      assert.equal(r.json.end, 'time cap');
      assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
    } finally {
      s.server.closeAllConnections();
      s.server.close();
    }

    s = await replayServer([(req, body, res) => {
      sse(res, [vllm('x', { x: -0.1 })], { done: false, end: false });
      setTimeout(() => res.socket.destroy(), 20);
    }]);
    try {
      const r = await complete(5, 11, ['--backend', s.url, '--no-context']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.json.completion, 'x');
      assert.match(r.stderr, /closed the stream before it ended|failed/);
    } finally {
      s.server.close();
    }
  });

  test('plain http to another machine is refused; the token comes from the environment', async () => {
    const r = await complete(5, 11, ['--backend', 'http://10.1.2.3:8000', '--no-context']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /plain http to another machine/);
    const missing = await complete(5, 11, ['--backend', 'https://example.invalid', '--backend-token-env',
      'ASTFILL_TEST_NO_SUCH_VAR', '--no-context']);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /ASTFILL_TEST_NO_SUCH_VAR is not set/);
    const { server, requests, url } = await replayServer([(req, body, res) => sse(res, [vllmEnd('stop')])]);
    try {
      process.env.ASTFILL_TEST_BACKEND_TOKEN = 'sesame';
      const ok = await complete(5, 11, ['--backend', url, '--backend-token-env', 'ASTFILL_TEST_BACKEND_TOKEN',
        '--no-context']);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(requests[0].auth, 'Bearer sesame');
    } finally {
      delete process.env.ASTFILL_TEST_BACKEND_TOKEN;
      server.close();
    }
  });
});
