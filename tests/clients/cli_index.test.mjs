// `astfill index` and `astfill query` on a tiny generated Python project:
// counts in the JSON summary, incremental runs (nothing changed, one file
// edited, one removed), each query's answer, and the errors and exit codes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, waitForBinary } from './helpers.mjs';

const FILES = {
  'pkg/shapes.py': `"""Shapes and their areas."""


class Shape:
    """A plane figure."""

    def area(self) -> float:
        return 0.0

    def name(self) -> str:
        return "shape"


def make_shape() -> Shape:
    return Shape()
`,
  'pkg/util.py': `def helper(x: int) -> int:
    """Doubles x."""
    return 2 * x


TOLERANCE = 1e-9
`,
  'main.py': `from pkg.shapes import Shape, make_shape
from pkg import util


def main():
    shape = make_shape()
    print(shape.area(), util.helper(3))
`,
};
// Shape, area, name, make_shape, helper, TOLERANCE, main.
const SYMBOLS = 7;

let dir, project, database;

// Runs astfill; stdout, stderr and the exit status. The cache directory is
// the test's own, so that nothing lands in the user's.
function astfill(...args) {
  const r = spawnSync(BIN, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function index(...extra) {
  const r = astfill('index', '--json', '--database', database, ...extra, project);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'no progress bar and no warnings when stderr is not a terminal');
  return JSON.parse(r.stdout);
}

function query(...args) {
  const r = astfill('query', project, ...args, '--database', database);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

before(async () => {
  await waitForBinary();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'astfill-cli-index-'));
  project = path.join(dir, 'project');
  database = path.join(dir, 'db', 'index.db');
  for (const [name, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(project, name)), { recursive: true });
    fs.writeFileSync(path.join(project, name), text);
  }
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('astfill index', () => {
  test('a first run parses every file and counts what it stored', () => {
    const s = index();
    assert.equal(s.root, fs.realpathSync(project));
    assert.equal(s.database, database);
    assert.deepEqual(
      [s.files, s.parsed, s.unchanged, s.removed, s.failed, s.symbols],
      [3, 3, 0, 0, 0, SYMBOLS],
    );
    const bytes = Object.values(FILES).reduce((n, text) => n + Buffer.byteLength(text), 0);
    const lines = Object.values(FILES).reduce((n, text) => n + text.split('\n').length - 1, 0);
    assert.equal(s.bytes, bytes);
    assert.equal(s.lines, lines);
    assert.ok(s.seconds > 0);
    assert.equal(s.database_bytes, fs.statSync(database).size);
  });

  test('a second run parses nothing', () => {
    const s = index();
    assert.deepEqual([s.files, s.parsed, s.unchanged, s.symbols], [3, 0, 3, SYMBOLS]);
  });

  test('editing one file reparses exactly that file', () => {
    fs.appendFileSync(path.join(project, 'pkg/util.py'), '\n\ndef triple(x):\n    return 3 * x\n');
    const s = index();
    assert.deepEqual([s.files, s.parsed, s.unchanged, s.symbols], [3, 1, 2, SYMBOLS + 1]);
  });

  test('a removed file leaves the index', () => {
    fs.writeFileSync(path.join(project, 'extra.py'), 'def extra():\n    pass\n');
    const added = index();
    assert.deepEqual([added.files, added.parsed, added.symbols], [4, 1, SYMBOLS + 2]);
    fs.rmSync(path.join(project, 'extra.py'));
    const s = index();
    assert.deepEqual([s.files, s.parsed, s.removed, s.symbols], [3, 0, 1, SYMBOLS + 1]);
  });

  test('the human summary names the folder and the counts', () => {
    const r = astfill('index', '--database', database, project);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^indexed .*project in [0-9.]+ s: 0 files parsed, 3 unchanged/);
    assert.match(r.stdout, /index: 3 files, 8 symbols/);
  });

  test('errors name the path and exit with 1; bad options exit with 2', () => {
    const missing = path.join(dir, 'no-such-folder');
    let r = astfill('index', missing);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`no-such-folder': no such file or directory`));

    r = astfill('index', path.join(project, 'main.py'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /main\.py' is not a directory/);

    r = astfill('index', '--database', path.join(project, 'main.py', 'index.db'), project);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /main\.py/);
    assert.doesNotMatch(r.stderr, /warn/, 'refused before SQLite tries, without warnings');

    r = astfill('index', '--threads', 'many', project);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--threads/);
    assert.equal(astfill('index').status, 2);
  });
});

describe('astfill query', () => {
  test('definition: where a name is defined', () => {
    const [helper, ...rest] = query('definition', 'helper');
    assert.equal(rest.length, 0);
    assert.equal(helper.path, 'pkg/util.py');
    assert.equal(helper.kind, 'function');
    assert.equal(helper.signature, 'def helper(x: int) -> int');
    assert.equal(helper.doc, 'Doubles x.');
    assert.deepEqual(helper.range.start, { line: 0, character: 0 });
    assert.deepEqual(helper.name_range, { start: { line: 0, character: 4 }, end: { line: 0, character: 10 } });
    assert.deepEqual(query('definition', 'nothing_by_this_name'), []);
  });

  test('definition --file: the file being edited ranks first', () => {
    fs.writeFileSync(path.join(project, 'other.py'), 'def helper():\n    pass\n');
    try {
      assert.deepEqual(query('definition', 'helper').map((s) => s.path), ['other.py', 'pkg/util.py']);
      assert.deepEqual(
        query('definition', 'helper', '--file', 'pkg/util.py').map((s) => s.path),
        ['pkg/util.py', 'other.py'],
      );
    } finally {
      fs.rmSync(path.join(project, 'other.py'));
    }
  });

  test('members: a class\'s methods, in order', () => {
    const members = query('members', 'Shape');
    assert.deepEqual(members.map((s) => [s.name, s.kind, s.container]), [
      ['area', 'method', 'Shape'],
      ['name', 'method', 'Shape'],
    ]);
  });

  test('imports: what a file imports and where each lands', () => {
    const imports = query('imports', 'main.py');
    assert.deepEqual(imports.map((i) => [i.module, i.names, i.relative, i.resolved_path]), [
      ['pkg.shapes', ['Shape', 'make_shape'], false, 'pkg/shapes.py'],
      ['pkg', ['util'], false, 'pkg/util.py'],
    ]);
    // A file given from the current folder, as a shell completes it.
    const absolute = astfill('query', project, 'imports', path.join(project, 'main.py'), '--database', database);
    assert.deepEqual(JSON.parse(absolute.stdout), imports);
  });

  test('similar: chunks like the lines around FILE:LINE, from other files', () => {
    const chunks = query('similar', 'main.py:6', '--k', '1');
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0].path, 'pkg/shapes.py');
    assert.equal(chunks[0].start_line, 0);
    assert.ok(chunks[0].score > 0);
    assert.match(chunks[0].text, /def make_shape/);
    assert.ok(query('similar', 'main.py:1').every((c) => c.path !== 'main.py'));
  });

  test('prefix: definitions by the start of their name', () => {
    assert.deepEqual(query('prefix', 'ma').map((s) => s.name), ['main', 'make_shape']);
    assert.deepEqual(query('prefix', 'zz'), []);
  });

  test('a changed file is seen without running index first', () => {
    fs.appendFileSync(path.join(project, 'main.py'), '\n\ndef late_addition():\n    pass\n');
    assert.deepEqual(query('definition', 'late_addition').map((s) => s.path), ['main.py']);
  });

  test('bad arguments print the usage and exit with 2; a missing folder exits with 1', () => {
    for (const args of [
      [project, 'nonsense', 'x'],
      [project, 'definition'],
      [project, 'similar', 'main.py'],
      [project, 'similar', 'main.py:zero'],
      [project, 'imports', '/etc/passwd'],
    ]) {
      const r = astfill('query', ...args, '--database', database);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /usage: astfill query PATH QUERY ARG/);
    }
    const r = astfill('query', path.join(dir, 'gone'), 'prefix', 'a');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /gone': no such file or directory/);
  });
});
