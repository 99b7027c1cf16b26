// `astfill complete` and `astfill batch` with a tiny random-weight model (its
// text is noise; what is tested is the plumbing): JSON details, the single
// line mode, batch results for both task shapes, resuming a batch, and bad
// tasks named in the output without stopping the run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, cpythonSyntaxError, waitForBinary, writeFiles, writeTinyModel } from './helpers.mjs';

const FILES = {
  'pkg/__init__.py': '',
  'pkg/shapes.py': 'class Circle:\n    def __init__(self, r):\n        self.r = r\n\n    def area(self):\n' +
    '        return 3.14 * self.r ** 2\n\n\ndef make_circle(r):\n    return Circle(r)\n',
  'pkg/main.py': 'from . import shapes\n\n\ndef report(r):\n    c = shapes.make_circle(r)\n    print(c.area())\n',
};

let dir, project, model;

function astfill(...args) {
  const r = spawnSync(BIN, args, {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  await waitForBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'astfill-cli-complete-'));
  project = path.join(dir, 'project');
  writeFiles(project, FILES);
  model = path.join(dir, 'tiny.gguf');
  writeTinyModel(model);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('astfill complete', () => {
  test('prints a completion and, with --json, how it was made', () => {
    const r = astfill('complete', '--root', project, '--file', 'pkg/main.py', '--line', '5', '--character', '4',
      '--model', model, '--threads', '1', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.file, 'pkg/main.py');
    assert.equal(typeof out.completion, 'string');
    assert.ok(!out.completion.includes('\n'), 'a cursor inside a line gets one line');
    assert.equal(out.mode, 'single-line');
    assert.ok(out.prompt_tokens > 50, JSON.stringify(out));
    assert.ok(out.generated_tokens >= 0 && out.generated_tokens <= 64);
    // Speculation's account: a pass per generated token at most, fewer when drafts were taken.
    assert.ok(out.forward_passes <= out.generated_tokens, JSON.stringify(out));
    assert.equal(out.forward_passes + out.accepted_draft_tokens >= out.generated_tokens - 1, true, JSON.stringify(out));
    assert.ok(Number.isInteger(out.drafts_cut_by_syntax) && out.drafts_cut_by_syntax >= 0, JSON.stringify(out));
    assert.equal(out.reused_tokens, 0);
    // The workspace parsed the file once when it opened it; the completion
    // itself parsed the whole document no more (it was handed the tree).
    assert.equal(out.document_parses, 0, JSON.stringify(out));
    // The imported module's API reached the prompt.
    assert.ok(out.context.imports.items + out.context.definitions.items >= 1, JSON.stringify(out.context));

    const plain = astfill('complete', '--root', project, '--file', 'pkg/main.py', '--line', '5', '--character', '4',
      '--model', model, '--threads', '1', '--no-context');
    assert.equal(plain.status, 0, plain.stderr);
    assert.ok(plain.stdout.endsWith('\n'));
  });

  test('errors name what is wrong', () => {
    let r = astfill('complete', '--root', project, '--file', 'pkg/main.py', '--line', '500', '--character', '0',
      '--model', model);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 500 is past the end of 'pkg\/main.py'/);
    r = astfill('complete', '--root', project, '--file', 'pkg/main.py', '--line', '0', '--character', '0',
      '--model', path.join(dir, 'missing.gguf'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /missing\.gguf/);
    r = astfill('complete', '--root', project, '--line', '0');
    assert.equal(r.status, 2);
  });
});

test('without --model it completes with the bundled demo model', () => {
  // The value of an assignment: a place where the tiny model is known to
  // write something. The answer must not be empty, and CPython's own parser
  // must accept the completed file.
  const before = 'value = ';
  const after = '\n';
  fs.writeFileSync(path.join(project, 'pkg/calc.py'), before + after);
  const r = astfill('complete', '--root', project, '--file', 'pkg/calc.py', '--line', '0', '--character', '8',
    '--threads', '1', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.prompt_tokens > 0);
  assert.ok(out.completion.trim().length > 0, `an empty answer: ${JSON.stringify(out)}`);
  const completed = before + out.completion + after;
  assert.equal(cpythonSyntaxError(completed), null, `CPython refuses ${JSON.stringify(completed)}`);
});

describe('astfill batch', () => {
  test('completes both task shapes, reports bad tasks, and resumes', () => {
    const tasks = path.join(dir, 'tasks.jsonl');
    const results = path.join(dir, 'results.jsonl');
    const text = FILES['pkg/main.py'];
    const cut = text.indexOf('shapes.make_circle') + 'shapes.'.length;
    fs.writeFileSync(tasks, [
      { id: 'a', path: 'pkg/main.py', prefix: text.slice(0, cut), suffix: text.slice(cut) },
      { id: 'b', path: 'pkg/main.py', line: 5, character: 4 },
      { id: 3, path: 'pkg/notes.txt', line: 0, character: 0 },
      { id: 'd', path: 'pkg/main.py', prefix: 'x = ' },
    ].map((t) => JSON.stringify(t)).join('\n') + '\n');
    let r = astfill('batch', '--root', project, '--input', tasks, '--output', results, '--model', model,
      '--threads', '1', '--max-tokens', '8');
    assert.equal(r.status, 0, r.stderr);
    // Every line is strict UTF-8 JSON (what Python's json and jq read).
    const strict = new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(results));
    let lines = strict.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.id), ['a', 'b', 3, 'd']);
    for (const l of lines.slice(0, 2)) {
      for (const key of ['completion', 'elapsed_ms', 'prompt_tokens', 'reused_tokens', 'generated_tokens'])
        assert.ok(key in l, `${key} in ${JSON.stringify(l)}`);
      assert.ok(l.generated_tokens <= 8);
    }
    // After `shapes.` the API constraint restricted the member name.
    assert.ok(lines[0].restricted_steps >= 1 || lines[0].generated_tokens === 0, JSON.stringify(lines[0]));
    assert.match(lines[2].error, /not in a language/);
    assert.match(lines[3].error, /prefix.*suffix/);
    assert.match(r.stderr, /2 completed, 0 already done, 2 failed/);

    // A rerun skips every id already in the output.
    r = astfill('batch', '--root', project, '--input', tasks, '--output', results, '--model', model, '--threads', '1');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /0 completed, 4 already done/);
    lines = fs.readFileSync(results, 'utf8').trim().split('\n');
    assert.equal(lines.length, 4);

    fs.writeFileSync(tasks, '{"id": 1, "path": "a.py"}\nnot json\n');
    r = astfill('batch', '--root', project, '--input', tasks, '--output', results, '--model', model);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /tasks\.jsonl:2: expected a JSON object/);
  });
  test('--parallel writes what one task after another writes, in input order', () => {
    // Twelve tasks on four paths, without cross-file context (the next test
    // has it).
    const tasks = path.join(dir, 'parallel-tasks.jsonl');
    const lines = [];
    for (let i = 0; i < 12; i++) {
      const file = ['pkg/main.py', 'pkg/shapes.py', `pkg/extra${i % 2}.py`][i % 3];
      const text = FILES[file] ?? `import os\n\n\ndef f(x):\n    return x + ${i}\n`;
      const cut = Math.min(text.length, 5 + 7 * i);
      lines.push(JSON.stringify({ id: `t${i}`, path: file, prefix: text.slice(0, cut), suffix: text.slice(cut) }));
    }
    fs.writeFileSync(tasks, lines.join('\n') + '\n');
    const run = (parallel) => {
      const results = path.join(dir, `parallel-${parallel}.jsonl`);
      const r = astfill('batch', '--root', project, '--input', tasks, '--output', results, '--model', model,
        '--threads', '1', '--max-tokens', '12', '--no-context', '--no-kv-persist', '--parallel', String(parallel));
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /12 completed, 0 already done, 0 failed/);
      return fs.readFileSync(results, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    };
    const one = run(1), four = run(4);
    assert.deepEqual(four.map((l) => l.id), one.map((l) => l.id));
    const same = (l) => [l.id, l.completion, l.prompt_tokens, l.generated_tokens, l.end];
    assert.deepEqual(four.map(same), one.map(same));
  });

  test('with context, a task sees the disk and its own text, never another running task\'s', () => {
    // Task a rewrites pkg/shapes.py with one more function; task b completes
    // after `shapes.` in pkg/main.py, whose context shows the API of the
    // shapes.py it imports: the disk's, however the tasks run.
    const shapes = FILES['pkg/shapes.py'] + '\n\ndef zebra_stripes(count, width, colour):\n    """Stripes."""\n' +
      '    return [colour] * count * width\n';
    const main = FILES['pkg/main.py'];
    const cut = main.indexOf('make_circle');
    const a = { id: 'a', path: 'pkg/shapes.py', prefix: shapes.slice(0, shapes.length - 5), suffix: shapes.slice(-5) };
    const b = { id: 'b', path: 'pkg/main.py', prefix: main.slice(0, cut), suffix: main.slice(cut) };
    const run = (name, list, parallel) => {
      const tasks = path.join(dir, `context-${name}.jsonl`), results = path.join(dir, `context-${name}-out.jsonl`);
      fs.writeFileSync(tasks, list.map((t) => JSON.stringify(t)).join('\n') + '\n');
      const r = astfill('batch', '--root', project, '--input', tasks, '--output', results, '--model', model,
        '--threads', '1', '--max-tokens', '6', '--no-kv-persist', '--parallel', String(parallel));
      assert.equal(r.status, 0, r.stderr);
      return fs.readFileSync(results, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    };
    const [alone] = run('b-alone', [b], 1);
    const one = run('one', [a, b], 1), two = run('two', [a, b], 2);
    assert.ok(alone.context.definitions.tokens > 0, `b's context shows what it uses: ${JSON.stringify(alone.context)}`);
    const seen = (l) => [l.id, l.prompt_tokens, l.context, l.completion, l.end];
    assert.deepEqual(seen(one[1]), seen(alone), 'b after a, one at a time');
    assert.deepEqual(seen(two[1]), seen(alone), 'b beside a (a still running or open)');
    assert.deepEqual(two.map(seen), one.map(seen));
    // A task's imports are its text's, resolved against the disk, also for a file the disk lacks.
    const [fresh] = run('fresh', [{ id: 'c', path: 'pkg/fresh.py', prefix: 'from . import shapes\n\n\ndef f():\n    y = ',
      suffix: '\n' }], 1);
    assert.ok(fresh.context.imports.tokens > 0, `c's imports: ${JSON.stringify(fresh.context)}`);
  });
});
