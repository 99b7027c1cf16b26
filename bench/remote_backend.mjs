#!/usr/bin/env node
// The remote backend's cost on loopback (issue 20): the same line-completion
// tasks run by `astfill batch` locally and with `--backend` pointing at an
// `astfill serve --http` on 127.0.0.1 with the same model, constraints on
// (every streamed token checked here). Prints JSON: per side the mean and
// median time per completion, exact matches with the code cut out; the
// share of answers that agree; re-requests per completion (the server's
// completion_requests counter over the remote run, less one per task).
//
//   node bench/remote_backend.mjs [--model PATH] [--root DIR] [--tasks N] [--threads N]
// Defaults: the bundled demo model, Debian's python3-numpy sources, 30 tasks, 2 threads.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const BIN = process.env.ASTFILL_BIN ?? path.join(here, '..', 'build', 'cli', 'astfill');
const model = args.model ?? path.join(here, '..', 'models', 'astfill-demo-q8_0.gguf');
const root = args.root ?? '/usr/lib/python3/dist-packages/numpy';
const count = Number(args.tasks ?? 30);
const threads = String(args.threads ?? 2);

// Line tasks: the cursor after a code line's indentation and up to 4 more
// characters; the middle is the rest of the line. Deterministic.
function tasks() {
  const files = [];
  (function walk(d) {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'tests') walk(p);
      else if (e.isFile() && e.name.endsWith('.py') && fs.statSync(p).size < 60000) files.push(p);
    }
  })(root);
  const out = [];
  const step = Math.max(1, Math.floor(files.length / count));
  for (let i = 0; i < files.length && out.length < count; i += step) {
    const text = fs.readFileSync(files[i], 'utf8');
    const lines = text.split('\n');
    const candidates = lines.map((l, n) => [l, n]).filter(([l]) => /^\s+[A-Za-z_]/.test(l) && l.trim().length > 12 &&
      !/["'#]/.test(l));
    if (candidates.length === 0) continue;
    const [line, n] = candidates[Math.floor(candidates.length / 2)];
    const indent = line.length - line.trimStart().length;
    const cut = indent + 4;
    const before = lines.slice(0, n).join('\n') + '\n' + line.slice(0, cut);
    const after = '\n' + lines.slice(n + 1).join('\n');
    out.push({ id: out.length, path: path.relative(root, files[i]), prefix: before, suffix: after, middle: line.slice(cut) });
  }
  return out;
}

function batch(taskFile, outFile, extra) {
  const r = spawnSync(BIN, ['batch', '--root', root, '--input', taskFile, '--output', outFile, '--model', model,
    '--threads', threads, '--max-tokens', '48', ...extra], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache } });
  if (r.status !== 0) throw new Error(`astfill batch failed: ${r.stderr}`);
  return fs.readFileSync(outFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).sort((a, b) => a.id - b.id);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'astfill-bench-remote-'));
const cache = path.join(dir, 'cache');
try {
  const all = tasks();
  const taskFile = path.join(dir, 'tasks.jsonl');
  fs.writeFileSync(taskFile, all.map(({ middle, ...t }) => JSON.stringify(t)).join('\n') + '\n');

  const server = spawn(BIN, ['serve', '--http', '127.0.0.1:0', '--model', model, '--threads', threads],
    { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, XDG_CACHE_HOME: cache } });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (c) => {
      out += c;
      const m = /listening on 127\.0\.0\.1:(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    server.on('exit', (code) => reject(new Error(`the server exited (${code})`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const counter = async () => (await (await fetch(`${url}/health`)).json()).completion_requests;

  // The remote run first: the index the batch builds is then warm for both
  // (the remote one builds it), and neither run gains from going second.
  const before = await counter();
  const remote = batch(taskFile, path.join(dir, 'remote.jsonl'), ['--backend', url]);
  const requests = (await counter()) - before;
  const local = batch(taskFile, path.join(dir, 'local.jsonl'), []);
  // What the constraints change remotely: the same server, no checks here.
  const unconstrained = batch(taskFile, path.join(dir, 'remote-unconstrained.jsonl'), ['--backend', url, '--no-constraints']);
  server.kill('SIGTERM');

  // Does CPython accept the file with the answer in place? (Non-empty answers only.)
  const whole = (r) => spawnSync('/usr/bin/python3', ['-c', 'import ast, sys\nast.parse(sys.stdin.read())'],
    { input: all[r.id].prefix + r.completion + all[r.id].suffix }).status === 0;
  const stats = (results) => {
    const answered = results.filter((r) => r.completion !== '');
    const ms = results.map((r) => r.elapsed_ms).sort((a, b) => a - b);
    const exact = results.filter((r) => r.completion === all[r.id].middle).length;
    return {
      mean_ms: +(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(1),
      median_ms: +ms[Math.floor(ms.length / 2)].toFixed(1),
      exact_match: +(exact / results.length).toFixed(3),
      empty: results.length - answered.length,
      whole_python: answered.length ? +(answered.filter(whole).length / answered.length).toFixed(3) : null,
      rejected_candidates: results.reduce((a, r) => a + (r.rejected_candidates ?? 0), 0),
      // Remotely, prefill happens on the server: prefill_ms is 0 and decode_ms holds the whole exchange.
      mean_prefill_ms: +(results.reduce((a, r) => a + r.prefill_ms, 0) / results.length).toFixed(1),
      mean_decode_ms: +(results.reduce((a, r) => a + r.decode_ms, 0) / results.length).toFixed(1),
      mean_generated_tokens: +(results.reduce((a, r) => a + r.generated_tokens, 0) / results.length).toFixed(1),
    };
  };
  const same = remote.filter((r) => r.completion === local[r.id].completion).length;
  console.log(JSON.stringify({
    bench: 'remote_backend',
    model: path.basename(model),
    tasks: all.length,
    threads: Number(threads),
    local: stats(local),
    remote: stats(remote),
    remote_unconstrained: stats(unconstrained),
    same_completion: +(same / all.length).toFixed(3),
    requests: requests,
    re_requests_per_completion: +((requests - all.length) / all.length).toFixed(3),
    added_ms_per_completion: +(stats(remote).mean_ms - stats(local).mean_ms).toFixed(1),
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
  }, null, 2));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
