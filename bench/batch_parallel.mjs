#!/usr/bin/env node
// `astfill batch --parallel N` against one task at a time (issue 17): the
// same tasks, the same model, context on, run twice into fresh outputs; the
// wall time of each run and whether every task's result is the same (its
// completion, prompt tokens, context and end; a 60 s time cap, so that no
// task is cut by time). Tasks are cursors half-way through statements in
// function bodies of a small project copied from Python's standard library
// (what the bundled demo model was trained on).
// Prints JSON.
//
//   node bench/batch_parallel.mjs [--tasks 300] [--parallel 4] [--threads 2] [--max-tokens 32]
//                                 [--files 12] [--model PATH] [--rounds 1]
// --parallel takes a list (1,2,3,4): each count runs once per round, the
// counts alternating within a round (so that a change in the machine's load
// spreads over all of them); a count of 1 always runs, as the reference the
// others' results and times are compared with. Times per count: every
// round's and the median.
// Defaults: the bundled demo model. ASTFILL_BIN picks the binary.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
if (args.includes('--help')) {
  console.log('usage: node bench/batch_parallel.mjs [--tasks N] [--parallel N[,N...]] [--threads N] [--max-tokens N] ' +
              '[--files N] [--model PATH] [--rounds N]');
  process.exit(0);
}
const taskCount = Number(option('--tasks', 300));
const counts = [...new Set([1, ...String(option('--parallel', '4')).split(',').map(Number)])];
if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--parallel takes counts from 1 up, like 1,2,4');
const rounds = Number(option('--rounds', 1));
const threads = option('--threads', '2');
const maxTokens = option('--max-tokens', '32');
const fileCount = Number(option('--files', 12));
const model = option('--model', null);
const here = path.dirname(fileURLToPath(import.meta.url));
const bin = process.env.ASTFILL_BIN ?? path.join(here, '..', 'build', 'cli', 'astfill');

// A project of standard-library modules of middling size, sorted by name.
const stdlib = ['/usr/lib/python3.11', '/usr/lib/python3'].find((d) => fs.existsSync(d));
if (!stdlib) throw new Error('no Python standard library under /usr/lib to build tasks from');
const candidates = fs.readdirSync(stdlib).filter((f) => f.endsWith('.py')).sort()
  .map((f) => ({ f, size: fs.statSync(path.join(stdlib, f)).size })).filter((c) => c.size > 8e3 && c.size < 40e3);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'astfill-bench-batch-'));
const root = path.join(dir, 'project');
fs.mkdirSync(path.join(root, 'lib'), { recursive: true });
const step = Math.max(1, Math.floor(candidates.length / fileCount));
const files = [];
for (let i = 0; i < candidates.length && files.length < fileCount; i += step) {
  fs.copyFileSync(path.join(stdlib, candidates[i].f), path.join(root, 'lib', candidates[i].f));
  files.push(`lib/${candidates[i].f}`);
}

// Cursors: the first non-blank character of indented lines that start a
// statement, spread evenly over all files' lines.
const positions = [];
for (const file of files) {
  const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
  lines.forEach((line, n) => {
    const indent = line.length - line.trimStart().length;
    if (indent >= 4 && /^[a-z_]\w* = |^return |^if |^for /.test(line.trimStart())) {
      // Half-way through the statement: the model continues it.
      const column = indent + Math.max(1, Math.floor((line.length - indent) / 2));
      positions.push({ path: file, line: n, character: column });
    }
  });
}
const stride = positions.length / taskCount;
const tasks = [];
for (let i = 0; i < taskCount && Math.floor(i * stride) < positions.length; ++i)
  tasks.push({ id: i, ...positions[Math.floor(i * stride)] });
const input = path.join(dir, 'tasks.jsonl');
fs.writeFileSync(input, tasks.map((t) => JSON.stringify(t)).join('\n') + '\n');

let runs = 0;
const run = (n) => {
  const output = path.join(dir, `results-${n}-${runs++}.jsonl`);
  const argv = ['batch', '--root', root, '--input', input, '--output', output, '--threads', threads,
    '--max-tokens', maxTokens, '--timeout-ms', '60000', '--no-kv-persist', '--parallel', String(n), ...(model ? ['--model', model] : [])];
  const t0 = performance.now();
  const r = spawnSync(bin, argv, { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: path.join(dir, `cache-${runs}`) } });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`astfill batch --parallel ${n} failed: ${r.stderr}`);
  const results = fs.readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return { seconds, results };
};
const times = new Map(counts.map((n) => [n, []]));
const outputs = new Map();
for (let round = 0; round < rounds; ++round)
  for (const n of round % 2 ? [...counts].reverse() : counts) {
    const r = run(n);
    times.get(n).push(Number(r.seconds.toFixed(2)));
    if (!outputs.has(n)) outputs.set(n, r.results);
  }
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const key = (r) => JSON.stringify([r.id, r.completion, r.prompt_tokens, r.context, r.end, r.error]);
const one = outputs.get(1);
const sequential = median(times.get(1));
const sum = (rs, f) => rs.reduce((a, r) => a + (r[f] ?? 0), 0);
const byCount = {};
for (const n of counts) {
  const results = outputs.get(n);
  const differing = one.filter((r, i) => key(r) !== key(results[i] ?? {})).map((r) => r.id);
  byCount[n] = {
    seconds: times.get(n),
    median_s: Number(median(times.get(n)).toFixed(2)),
    speedup: Number((sequential / median(times.get(n))).toFixed(3)),
    same_results: differing.length === 0 && one.length === results.length,
    differing_ids: differing.slice(0, 20),
  };
}
console.log(JSON.stringify({
  tasks: tasks.length,
  files: files.length,
  model: model ?? 'bundled demo model',
  threads: Number(threads),
  max_tokens: Number(maxTokens),
  rounds,
  cores: os.cpus().length,
  load_average: os.loadavg().map((x) => Number(x.toFixed(2))),
  parallel: byCount,
  prompt_tokens: sum(one, 'prompt_tokens'),
  generated_tokens: sum(one, 'generated_tokens'),
  nonempty: one.filter((r) => r.completion).length,
}, null, 2));
fs.rmSync(dir, { recursive: true, force: true });
