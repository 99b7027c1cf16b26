// `astfill serve --http` with a tiny random-weight model (its text is noise;
// what is tested is the protocol): OpenAI's npm client against
// /v1/completions (plain, streamed, logprobs, stop strings), llama.cpp's
// /completion and /infill shapes, astfill's extension with a project root,
// the errors (bad JSON, bad fields, unknown routes, a body over the cap), the
// concurrency cap (429) with a client that goes away mid-stream, and the token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { killAll, spawnDaemon, startHttpServer, tempDir, waitForExit, WAIT_MS, writeTinyModel } from './helpers.mjs';

let dir, model;

async function post(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

before(() => {
  dir = tempDir('http');
  model = path.join(dir, 'tiny.gguf');
  writeTinyModel(model);
});

after(killAll);

describe('astfill serve --http', () => {
  let server, client;
  before(async () => {
    server = await startHttpServer(['--model', model, '--threads', '1']);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: WAIT_MS });
  });

  test('GET /health and /v1/models name the loaded model', async () => {
    const health = await (await fetch(`${server.url}/health`)).json();
    assert.equal(health.status, 'ok');
    assert.equal(health.model, 'tiny.gguf');
    assert.equal(typeof health.completion_requests, 'number');
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id), ['tiny.gguf']);
  });

  test('the OpenAI client completes, with logprobs in the legacy shape', async () => {
    const r = await client.completions.create({ model: 'tiny.gguf', prompt: 'def add(a, b):', max_tokens: 5,
      logprobs: 3, temperature: 0 });
    assert.equal(r.object, 'text_completion');
    const [choice] = r.choices;
    assert.equal(choice.finish_reason, 'length');
    assert.equal(r.usage.completion_tokens, 5);
    const lp = choice.logprobs;
    assert.equal(lp.tokens.length, 5);
    assert.equal(lp.tokens.join(''), choice.text);
    assert.equal(lp.token_logprobs.length, 5);
    assert.equal(lp.top_logprobs.length, 5);
    for (const [i, top] of lp.top_logprobs.entries()) {
      assert.ok(Object.keys(top).length >= 1 && Object.keys(top).length <= 3, JSON.stringify(top));
      assert.ok(lp.token_logprobs[i] <= 0);
    }
    // text_offset: each token's byte offset in the text (ASCII here or not, increasing).
    assert.equal(lp.text_offset[0], 0);
    for (let i = 1; i < 5; ++i) assert.ok(lp.text_offset[i] >= lp.text_offset[i - 1]);
    // Greedy: the same question gets the same answer.
    const again = await client.completions.create({ model: 'tiny.gguf', prompt: 'def add(a, b):', max_tokens: 5 });
    assert.equal(again.choices[0].text, choice.text);
  });

  test('a streamed answer is the same text, in SSE chunks, ending in [DONE]', async () => {
    const whole = await client.completions.create({ prompt: 'import os\n', max_tokens: 8, model: 'x' });
    const stream = await client.completions.create({ prompt: 'import os\n', max_tokens: 8, model: 'x', stream: true });
    let text = '';
    let finish = null;
    let chunks = 0;
    for await (const chunk of stream) {
      ++chunks;
      text += chunk.choices[0].text;
      if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
    }
    assert.equal(text, whole.choices[0].text);
    assert.equal(finish, 'length');
    assert.ok(chunks >= 2, `${chunks} chunks`);
    // The raw stream ends with data: [DONE].
    const raw = await fetch(`${server.url}/v1/completions`, {
      method: 'POST', body: JSON.stringify({ prompt: 'import os\n', max_tokens: 2, stream: true }),
    });
    assert.match(raw.headers.get('content-type'), /text\/event-stream/);
    assert.match(await raw.text(), /data: \[DONE\]\n\n$/);
  });

  test('a stop string cuts the answer before it, also when streamed', async () => {
    const whole = await client.completions.create({ prompt: 'x = ', max_tokens: 12, model: 'x' });
    const text = whole.choices[0].text;
    assert.ok(text.length >= 4, `'${text}'`);
    const stop = text.slice(2, 4);
    const cut = text.slice(0, text.indexOf(stop));
    const r = await client.completions.create({ prompt: 'x = ', max_tokens: 12, model: 'x', stop: [stop] });
    assert.equal(r.choices[0].text, cut);
    assert.equal(r.choices[0].finish_reason, 'stop');
    const stream = await client.completions.create({ prompt: 'x = ', max_tokens: 12, model: 'x', stop: stop,
      stream: true });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0].text;
    assert.equal(streamed, cut);
  });

  test("llama.cpp's /completion answers with n_probs in its shape", async () => {
    const r = await post(`${server.url}/completion`, { prompt: 'def f(x):', n_predict: 3, n_probs: 2 });
    assert.equal(r.status, 200);
    assert.equal(r.body.stop, true);
    assert.equal(r.body.tokens_predicted, 3);
    assert.equal(r.body.completion_probabilities.length, 3);
    const first = r.body.completion_probabilities[0];
    assert.equal(typeof first.id, 'number');
    assert.deepEqual(Buffer.from(first.bytes).toString('utf8'), first.token);
    assert.equal(first.top_logprobs.length, 2);
    assert.equal(r.body.completion_probabilities.map((p) => p.token).join(''), r.body.content);
    // The extras llama.vim and llama.vscode show.
    assert.equal(r.body.timings.predicted_n, 3);
    assert.equal(typeof r.body.timings.prompt_ms, 'number');
    assert.equal(typeof r.body.tokens_cached, 'number');
  });

  test("llama.cpp's /infill and a suffix go through the workspace, with a project root", async () => {
    const project = path.join(dir, 'project');
    fs.mkdirSync(path.join(project, 'pkg'), { recursive: true });
    fs.writeFileSync(path.join(project, 'pkg', '__init__.py'), '');
    fs.writeFileSync(path.join(project, 'pkg', 'shapes.py'),
      'class Circle:\n    def __init__(self, r):\n        self.r = r\n\n    def area(self):\n        return 3.14 * self.r ** 2\n');
    const body = { input_prefix: 'from pkg import shapes\n\nc = shapes.', input_suffix: '\n', n_predict: 8,
      input_extra: [{ filename: 'pkg/shapes.py', text: 'class Circle: ...\n' }],
      astfill: { root: project, path: 'pkg/main.py', constraints: 'syntax+api' } };
    const r = await post(`${server.url}/infill`, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(typeof r.body.content, 'string');
    assert.equal(r.body.stop, true);
    // With the API constraint, a member after `shapes.` is one the index knows (or nothing).
    if (r.body.content !== '') assert.match(r.body.content, /^(Circle)/, r.body.content);
    const o = await client.completions.create({ model: 'x', prompt: 'def f(x):\n    return ', suffix: '\n',
      max_tokens: 6 });
    assert.equal(typeof o.choices[0].text, 'string');
    const bad = await post(`${server.url}/infill`, { input_prefix: 'x', astfill: { root: path.join(dir, 'nope') } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.param, 'astfill.root');
  });

  test("llama.cpp's input_extra chunks enter the prompt as other files' context (llama.vim's ring buffer)", async () => {
    // Three files with the same text (each its own document, so no answer comes from the typed-through cache).
    const base = (name) => ({ input_prefix: 'def total(xs):\n    return ', input_suffix: '\n', n_predict: 2,
      astfill: { path: `${name}.py` } });
    const extra = 'def helper(values):\n    """Adds the values up, one by one, and returns the sum."""\n' +
      '    return sum(v for v in values)\n';
    const without = await post(`${server.url}/infill`, base('a1'));
    assert.equal(without.status, 200, JSON.stringify(without.body));
    const withExtra = await post(`${server.url}/infill`,
      { ...base('b1'), input_extra: [{ filename: 'lib/helpers.py', text: extra }] });
    assert.equal(withExtra.status, 200, JSON.stringify(withExtra.body));
    // The chunk's tokens (and its file name) are in the prompt; the same request without it has fewer.
    assert.ok(withExtra.body.tokens_evaluated > without.body.tokens_evaluated + 10,
      `${withExtra.body.tokens_evaluated} vs ${without.body.tokens_evaluated}`);
    // Chunks belong to their request: the next one without them is back to the smaller prompt.
    const again = await post(`${server.url}/infill`, base('c1'));
    assert.ok(Math.abs(again.body.tokens_evaluated - without.body.tokens_evaluated) <= 2,
      `${again.body.tokens_evaluated} vs ${without.body.tokens_evaluated}`);
  });

  test('bad requests get OpenAI-shaped errors naming what was wrong; the server goes on', async () => {
    let r = await post(`${server.url}/v1/completions`, '{"prompt": ');
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid_json');
    r = await post(`${server.url}/v1/completions`, { prompt: 'x', max_tokens: 'many' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.param, 'max_tokens');
    assert.match(r.body.error.message, /max_tokens/);
    r = await post(`${server.url}/v1/completions`, { max_tokens: 3 });
    assert.equal(r.body.error.param, 'prompt');
    r = await post(`${server.url}/v1/completions`, { prompt: 'x', astfill: { constraints: 'some' } });
    assert.equal(r.body.error.param, 'astfill.constraints');
    r = await post(`${server.url}/v1/completions`, { prompt: 'x'.repeat(30000), max_tokens: 4000 });
    assert.equal(r.body.error.code, 'context_length_exceeded');
    await assert.rejects(client.completions.create({ model: 'x', prompt: 'x', max_tokens: -1 }),
      (e) => e.status === 400 && /max_tokens/.test(e.message));
    const missing = await fetch(`${server.url}/v2/nothing`);
    assert.equal(missing.status, 404);
    const wrongMethod = await fetch(`${server.url}/v1/completions`);
    assert.equal(wrongMethod.status, 405);
    const ok = await client.completions.create({ model: 'x', prompt: 'x', max_tokens: 1 });
    assert.equal(ok.choices.length, 1);
  });
});

describe('astfill serve --http limits', () => {
  test('a body over --max-message-bytes is refused with 413', async () => {
    const { url } = await startHttpServer(['--model', model, '--threads', '1', '--max-message-bytes', '1000']);
    const r = await post(`${url}/v1/completions`, { prompt: 'x'.repeat(2000) });
    assert.equal(r.status, 413);
    assert.equal(r.body.error.code, 'request_too_large');
  });

  test('past --max-concurrent a request gets 429; a client that goes away mid-stream frees its place', async () => {
    const { url } = await startHttpServer(['--model', model, '--threads', '1', '--max-concurrent', '1']);
    const controller = new AbortController();
    const long = await fetch(`${url}/v1/completions`, {
      method: 'POST', signal: controller.signal,
      body: JSON.stringify({ prompt: 'def f(x):', max_tokens: 4000, stream: true }),
    });
    const reader = long.body.getReader();
    await reader.read();  // the first event: the request is in flight
    const refused = await post(`${url}/v1/completions`, { prompt: 'x', max_tokens: 1 });
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.type, 'rate_limit_error');
    controller.abort();
    // The aborted stream is cancelled at its next token; then a request is answered.
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const r = await post(`${url}/v1/completions`, { prompt: 'x', max_tokens: 1 });
      if (r.status === 200) break;
      assert.equal(r.status, 429);
      assert.ok(Date.now() < deadline, 'the cancelled stream still holds its place');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  test('with a token every request but /health needs it; another address needs one to start', async () => {
    const { url } = await startHttpServer(['--model', model, '--threads', '1'],
      { env: { ASTFILL_HTTP_TOKEN: 'sesame' } });
    assert.equal((await fetch(`${url}/health`)).status, 200);
    const refused = await post(`${url}/v1/completions`, { prompt: 'x', max_tokens: 1 });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.type, 'authentication_error');
    const wrong = await post(`${url}/v1/completions`, { prompt: 'x', max_tokens: 1 }, { authorization: 'Bearer sesamf' });
    assert.equal(wrong.status, 401);
    const c = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sesame', maxRetries: 0 });
    const r = await c.completions.create({ model: 'x', prompt: 'x', max_tokens: 1 });
    assert.equal(r.choices.length, 1);

    const open = await spawnDaemon(['serve', '--http', '0.0.0.0:0', '--no-model'],
      { env: { ASTFILL_HTTP_TOKEN: '' } });
    const { code } = await waitForExit(open);
    assert.equal(code, 2);
    assert.match(open.stderrText(), /needs a token/);
  });
});
