// End to end in a real VS Code, offline: code-server 4.100.3 (VS Code 1.100.3)
// with the packaged extension installed, driven by Playwright through Debian's
// Chromium, on a generated Python project and a tiny random-weight model:
// ghost text (type, Escape, trigger, Tab, the saved file), Fill at Cursor, a
// daemon killed and restarted, settings reaching the daemon, a missing binary;
// images (issue 19) on a tiny random Qwen2.5-VL pair: Attach Image and Image
// to Code from the Command Palette, a pasted screenshot, Shift+drops (a
// browser's File, an Explorer URI, an unreadable one), and a drop's and a
// paste's edit switched with VS Code's widget, the text typed before kept.
//
// Every wait is on an event or a DOM condition with a deadline; nothing sleeps
// for a fixed time. Screenshots and each session's astfill output go to
// $ASTFILL_E2E_ARTIFACTS (default e2e/artifacts/); the ghost-text screenshot
// also to docs/images/vscode-ghost-text.png when ASTFILL_UPDATE_SCREENSHOT=1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const extensionDir = path.resolve(here, '..');
const repo = path.resolve(extensionDir, '../..');
// The binaries under test: $ASTFILL_BIN and $ASTFILL_WRITE_MODEL (CTest sets
// them), else the release build of this checkout.
const BIN = path.resolve(process.env.ASTFILL_BIN ?? path.join(repo, 'build/cli/astfill'));
const WRITE_MODEL = path.resolve(process.env.ASTFILL_WRITE_MODEL ?? path.join(repo, 'build/tests/engine/write_random_model'));
// The tiny VL pair's writer: $ASTFILL_WRITE_VL_FIXTURE, else beside write_random_model's build.
const WRITE_VL = path.resolve(process.env.ASTFILL_WRITE_VL_FIXTURE ??
  path.join(path.dirname(WRITE_MODEL), '../vision/write_vl_fixture'));
const CHROMIUM = process.env.ASTFILL_CHROMIUM ?? '/usr/bin/chromium';
const CODE_SERVER = path.join(here, 'node_modules/.bin/code-server');
const VSIX = path.join(extensionDir, 'astfill.vsix');
const ARTIFACTS = path.resolve(process.env.ASTFILL_E2E_ARTIFACTS ?? path.join(here, 'artifacts'));
const SCREENSHOT_FOR_DOCS = path.join(repo, 'docs/images/vscode-ghost-text.png');

// The fixture: the cursor goes to the end of the file, after "result = ad",
// and the test types "d". With seed 1 the random model completes there.
const APP_PY = 'def add(a, b):\n    return a + b\n\n\ndef scale(values, factor):\n' +
  '    return [v * factor for v in values]\n\n\nresult = ad';
const MODEL_SEED = '1';
// For astfill: Fill at Cursor: a placeholder body.
const UTIL_PY = 'def double(x):\n    pass\n\n\nprint(double(2))\n';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'astfill-vscode-e2e-'));
const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  if (!process.env.ASTFILL_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
});

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Resolves once `file` exists and its text satisfies `ok` (checked on every
// change the file system reports, and every 100 ms in case it misses one).
function waitForFile(file, ok, ms, what) {
  const read = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
  let watcher, poll;
  return withTimeout(new Promise((resolve) => {
    const check = () => {
      if (ok(read())) resolve();
    };
    try {
      watcher = fs.watch(path.dirname(file), check);
    } catch {
      // The folder is not there yet: the poll covers it.
    }
    poll = setInterval(check, 100);
    check();
  }), ms, what)
    .catch((e) => assert.fail(`${e.message}; ${path.basename(file)} ends with ${JSON.stringify(read().slice(-80))}`))
    .finally(() => {
      watcher?.close();
      clearInterval(poll);
    });
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.error ?? r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// The .vsix is built when missing or older than the extension's sources.
function packageExtension() {
  const sources = ['package.json', 'package-lock.json', 'tsconfig.json',
    ...fs.readdirSync(path.join(extensionDir, 'src')).map((f) => path.join('src', f))];
  const built = fs.existsSync(VSIX) ? fs.statSync(VSIX).mtimeMs : 0;
  if (sources.every((f) => fs.statSync(path.join(extensionDir, f)).mtimeMs < built)) return;
  run('npm', ['run', '--silent', 'package'], { cwd: extensionDir });
}

// Starts code-server on a free port; resolves with its URL once it listens.
async function startCodeServer(userData, folder, logName) {
  const config = path.join(tmp, 'code-server.yaml');
  fs.writeFileSync(config, 'auth: none\n');
  const proc = spawn(CODE_SERVER, ['--auth', 'none', '--bind-addr', '127.0.0.1:0', '--disable-telemetry',
    '--disable-update-check', '--disable-workspace-trust', '--user-data-dir', userData, '--extensions-dir', extensions,
    '--config', config, folder], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      process.kill(-proc.pid, 'SIGTERM');
      await withTimeout(exited, 10_000, 'code-server to exit').catch(() => process.kill(-proc.pid, 'SIGKILL'));
    }
    fs.writeFileSync(path.join(ARTIFACTS, logName), log);
  });
  const url = await withTimeout(new Promise((resolve, reject) => {
    const onData = (chunk) => {
      log += chunk;
      const m = /HTTP server listening on (http:\/\/\S+)/.exec(log);
      if (m) resolve(m[1]);
    };
    proc.stdout.setEncoding('utf8').on('data', onData);
    proc.stderr.setEncoding('utf8').on('data', onData);
    exited.then((code) => reject(new Error(`code-server exited (${code}) before listening:\n${log}`)));
  }), 60_000, 'code-server to listen');
  return url;
}

let model, extensions, env, browser;

// VS Code's user settings for a session: the extension's, and only the ghost
// text (no suggestion list that would take the Tab key, no welcome pages).
function userSettings(astfill) {
  return {
    'astfill.path': BIN,
    'astfill.model': model,
    'astfill.maxTokens': 12,
    'astfill.timeoutMs': 30000,
    'astfill.threads': 1,
    ...astfill,
    'editor.quickSuggestions': { other: false, comments: false, strings: false },
    'editor.suggestOnTriggerCharacters': false,
    'editor.wordBasedSuggestions': 'off',
    'editor.inlineSuggest.enabled': true,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'chat.commandCenter.enabled': false,
  };
}

// The file behind the astfill output channel of the session in `userData`.
function astfillLog(userData) {
  const logs = path.join(userData, 'logs');
  const sessions = fs.existsSync(logs) ? fs.readdirSync(logs).sort() : [];
  return path.join(logs, sessions.at(-1) ?? 'none', 'exthost1', 'astfill.astfill', 'astfill.log');
}

// A fresh VS Code (code-server + a browser page) on a fresh copy of the
// project, with these astfill settings; resolves once the workbench is up.
// `files`: more files for the project ({name: text or bytes}); `editor`: more
// user settings.
async function openVSCode(name, astfill, files = {}, editor = {}) {
  const project = path.join(tmp, name, 'project');
  fs.mkdirSync(project, { recursive: true });
  fs.writeFileSync(path.join(project, 'app.py'), APP_PY);
  fs.writeFileSync(path.join(project, 'util.py'), UTIL_PY);
  for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(project, file), content);
  const userData = path.join(tmp, name, 'user-data');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'),
    JSON.stringify({ ...userSettings(astfill), ...editor }, null, 2));
  const url = await startCodeServer(userData, project, `${name}-code-server.log`);
  cleanups.push(() => {
    const log = astfillLog(userData);
    if (fs.existsSync(log)) fs.copyFileSync(log, path.join(ARTIFACTS, `${name}-astfill.log`));
  });
  const page = await browser.newPage({ viewport: { width: 1100, height: 620 } });
  cleanups.push(() => page.close());
  page.setDefaultTimeout(60_000);
  await page.goto(`${url}?folder=${encodeURIComponent(project)}`);
  await page.locator('.monaco-workbench').waitFor();
  return { page, project, userData };
}

// Runs a command from the Command Palette by its title.
async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

// The daemon this extension started for `project`: the process running the
// astfill binary with the project as its working directory.
function daemonPids(project) {
  const exe = fs.realpathSync(BIN);
  const pids = [];
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/exe`) === exe && fs.readlinkSync(`/proc/${pid}/cwd`) === project)
        pids.push(Number(pid));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

// Drops on the last line of `editor`'s text what a Shift+drag brings: `file`
// ({bytes, name, type}: a File, as a browser gives a file dragged in from
// outside) and/or `uriList` (text/uri-list; {host} stands for the page's
// host, code-server's remote authority). The events a browser fires:
// dragenter, dragover and drop at one point, bubbling up from the line to the
// editor's own listeners, the Shift key down (without it the workbench takes
// the drop and opens the file as an editor).
async function dropFile(page, editor, { file, uriList }) {
  const line = editor.locator('.view-line').last();
  const box = await line.boundingBox();
  const at = { x: Math.round(box.x + box.width / 2), y: Math.round(box.y + box.height / 2) };
  const taken = await line.evaluate((target, { file, uriList, at }) => {
    const data = new DataTransfer();
    if (file)
      data.items.add(new File([Uint8Array.from(atob(file.b64), (c) => c.charCodeAt(0))], file.name, { type: file.type }));
    if (uriList) data.setData('text/uri-list', uriList.replace('{host}', location.host));
    const fire = (kind) => target.dispatchEvent(new DragEvent(kind, {
      dataTransfer: data, clientX: at.x, clientY: at.y, shiftKey: true, bubbles: true, cancelable: true,
    }));
    fire('dragenter');
    const taken = !fire('dragover');
    fire('drop');
    return taken;
  }, { file: file && { b64: file.bytes.toString('base64'), name: file.name, type: file.type }, uriList, at });
  assert.ok(taken, 'the editor takes the drag (its dragover handler cancels the event, so a drop follows)');
}

const ghostText = async (editor) =>
  (await editor.locator('.ghost-text-decoration').allTextContents()).join('').replace(/\u00a0/g, ' ');

before(async () => {
  for (const [what, file] of [['astfill', BIN], ['write_random_model', WRITE_MODEL], ['write_vl_fixture', WRITE_VL],
    ['chromium', CHROMIUM],
    ['code-server (npm ci in editors/vscode/e2e)', CODE_SERVER]])
    assert.ok(fs.existsSync(file), `${what} not found at ${file}`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  packageExtension();
  model = path.join(tmp, 'tiny.gguf');
  run(WRITE_MODEL, [model, '--arch', 'qwen2', '--seed', MODEL_SEED]);
  // Everything code-server and the daemon write stays in the test's folder.
  env = { ...process.env, HOME: path.join(tmp, 'home'), XDG_CACHE_HOME: path.join(tmp, 'cache'),
    XDG_CONFIG_HOME: path.join(tmp, 'config'), XDG_DATA_HOME: path.join(tmp, 'data') };
  fs.mkdirSync(env.HOME);
  extensions = path.join(tmp, 'extensions');
  run(CODE_SERVER, ['--user-data-dir', path.join(tmp, 'install'), '--extensions-dir', extensions,
    '--install-extension', VSIX], { env });
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  cleanups.push(() => browser.close());
});

test('ghost text: typing shows it, Escape hides it, Tab accepts it into the file; restarts; settings', { timeout: 180_000 }, async (t) => {
  const { page, project, userData } = await openVSCode('ghost', {});

  // The status bar names the model once the daemon has loaded it.
  await page.locator('.statusbar-item', { hasText: 'astfill: tiny.gguf' }).waitFor({ timeout: 90_000 });

  // Open app.py with Quick Open; the cursor to the end, after "result = ad".
  await page.keyboard.press('Control+P');
  const quickInput = page.locator('.quick-input-widget input');
  await quickInput.waitFor();
  await quickInput.fill('app.py');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'app.py' }).first().waitFor();
  await page.keyboard.press('Enter');
  const editor = page.locator('.editor-instance .monaco-editor').first();
  await editor.locator('.view-line', { hasText: 'result = ad' }).waitFor();
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+End');

  // Type, wait for the ghost text.
  await page.keyboard.type('d');
  const ghost = editor.locator('.ghost-text-decoration').first();
  await ghost.waitFor({ timeout: 90_000 });
  const shown = await ghostText(editor);
  assert.ok(shown.length > 0, 'the ghost text is not empty');
  await page.screenshot({ path: path.join(ARTIFACTS, 'vscode-ghost-text.png') });
  if (process.env.ASTFILL_UPDATE_SCREENSHOT === '1')
    fs.copyFileSync(path.join(ARTIFACTS, 'vscode-ghost-text.png'), SCREENSHOT_FOR_DOCS);

  // Escape dismisses it; asking again brings the same text back.
  await page.keyboard.press('Escape');
  await ghost.waitFor({ state: 'detached' });
  await runCommand(page, 'Trigger Inline Suggestion');
  await ghost.waitFor();
  assert.equal(await ghostText(editor), shown);

  // Tab accepts; save; the file on disk ends with what was shown.
  await page.keyboard.press('Tab');
  await ghost.waitFor({ state: 'detached' });
  await page.keyboard.press('Control+S');
  const file = path.join(project, 'app.py');
  const want = APP_PY + 'd' + shown;
  await waitForFile(file, (text) => text === want, 30_000,
    `app.py to be saved ending with the accepted completion ${JSON.stringify(shown)}`);

  // What happened reached the daemon's local statistics (docs/stats.md): the
  // suggestion Escape hid was dismissed (read from the next one shown), the
  // one Tab took was accepted whole.
  const store = path.join(env.XDG_CACHE_HOME, 'astfill', 'stats.db');
  let stats;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    const r = spawnSync(BIN, ['stats', '--json', '--database', store], { encoding: 'utf8' });
    stats = r.status === 0 ? JSON.parse(r.stdout).all : r.stderr;
    if (stats.accepted >= 1 && stats.dismissed >= 1) break;
  }
  assert.ok(stats.accepted >= 1 && stats.dismissed >= 1 && stats.shown >= 2, `statistics: ${JSON.stringify(stats)}`);
  assert.ok(stats.acceptedChars >= shown.length, `statistics: ${JSON.stringify(stats)}`);
  await runCommand(page, 'astfill: Show Suggestion Statistics');
  await page.locator('.view-line', { hasText: 'astfill suggestions: local statistics' }).first().waitFor();
  await page.keyboard.press('Control+W');

  // astfill: Fill at Cursor on `pass` asks the daemon (astfill.fill) and applies
  // the WorkspaceEdit it returns: with seed 1 the random model replaces `pass`.
  await page.keyboard.press('Control+P');
  await quickInput.waitFor();
  await quickInput.fill('util.py:2:5');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'util.py' }).first().waitFor();
  await page.keyboard.press('Enter');
  const utilEditor = page.locator('.editor-instance .monaco-editor').first();
  await utilEditor.locator('.view-line', { hasText: 'def double' }).waitFor();
  await runCommand(page, 'astfill: Fill at Cursor');
  const filled = utilEditor.locator('.view-line').nth(1).filter({ hasNotText: 'pass' });
  await filled.waitFor({ timeout: 90_000 });
  t.diagnostic(`fill: line 2 is now ${JSON.stringify((await filled.textContent()).replace(/\u00a0/g, ' ').slice(0, 40))}…`);
  assert.match((await filled.textContent()).replace(/\u00a0/g, ' '), /^ {4}\S/, 'the body stays indented');
  assert.equal(await page.locator('.notification-toast', { hasText: 'the fill failed' }).count(), 0);

  // The daemon dies: the extension says so and starts a new one, which loads
  // the model again.
  const [pid] = daemonPids(project);
  assert.ok(pid, 'the daemon process is found');
  process.kill(pid, 'SIGKILL');
  await page.locator('.notification-toast', { hasText: 'the daemon stopped unexpectedly; restarting it' }).waitFor();
  await page.locator('.statusbar-item', { hasText: 'astfill: tiny.gguf' }).waitFor();
  const restarted = daemonPids(project);
  assert.equal(restarted.length, 1);
  assert.notEqual(restarted[0], pid);

  // A changed setting reaches the running daemon: a model that cannot be
  // loaded is reported, naming the setting to fix.
  fs.mkdirSync(path.join(project, '.vscode'));
  fs.writeFileSync(path.join(project, '.vscode', 'settings.json'),
    JSON.stringify({ 'astfill.model': '/nonexistent/model.gguf' }));
  await page.locator('.notification-toast', { hasText: 'cannot load the model' }).filter({ hasText: 'astfill.model' })
    .waitFor();
  await page.locator('.statusbar-item', { hasText: 'astfill' }).filter({ has: page.locator('.codicon-warning') })
    .waitFor();

  // astfill: Toggle turns completions off (astfill.enable), and the status bar says so.
  await runCommand(page, 'astfill: Toggle');
  await page.locator('.statusbar-item', { hasText: 'astfill' }).filter({ has: page.locator('.codicon-circle-slash') })
    .waitFor();
  await waitForFile(astfillLog(userData), (text) => text.includes('settings updated: {"enable":false'), 30_000,
    'the daemon to be told astfill.enable is false');
});

test('a missing binary: the message names the path tried and the setting', { timeout: 120_000 }, async () => {
  const { page } = await openVSCode('missing', { 'astfill.path': '/nonexistent/astfill' });
  await page.locator('.notification-toast', { hasText: '"/nonexistent/astfill" (the astfill.path setting)' }).waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, 'vscode-missing-binary.png') });
});

// Images (issue 19). The VL pair's LM (seed 1, weight scale 0.1) writes text,
// so Image to Code has code to insert. Each way in is checked at both ends:
// the daemon's log says what it received (attached image NAME / image to
// code: N bytes of code for NAME), and the editor shows what came back.
const FORM_PY = 'class Form:\n    def render(self):\n        \n';

test('images: Attach Image, Image to Code, a pasted screenshot and dropped images reach the daemon and come back',
  { timeout: 300_000 }, async (t) => {
    const vl = path.join(tmp, 'vl');
    fs.mkdirSync(vl);
    const [vlLm, vlMm, picture] = [path.join(vl, 'lm.gguf'), path.join(vl, 'mm.gguf'), path.join(vl, 'form.png')];
    run(WRITE_VL, [vlLm, vlMm, picture, '1', '0.1']);
    const png = fs.readFileSync(picture);
    const { page, project, userData } = await openVSCode('images', {
      'astfill.vision.model': vlLm, 'astfill.vision.mmproj': vlMm, 'astfill.vision.maxImageTokens': 8,
    }, { 'form.py': FORM_PY, 'form.png': png }, {
      // Which of the extension's two edits a paste applies (the other is
      // offered beside it): the code.
      'editor.pasteAs.preferences': ['astfill.image.code'],
      // And of a drop: the attach edit.
      'editor.dropIntoEditor.preferences': ['astfill.image.attach'],
    });
    await page.locator('.statusbar-item', { hasText: 'astfill: tiny.gguf' }).waitFor({ timeout: 90_000 });
    const log = astfillLog(userData);
    const logged = (what, ms = 120_000) => waitForFile(log, (text) => what.test(text), ms, `the daemon's log to match ${what}`);

    // form.py, the cursor at the end of its third line (inside render).
    const quickInput = page.locator('.quick-input-widget input');
    await page.keyboard.press('Control+P');
    await quickInput.waitFor();
    await quickInput.fill('form.py:3:9');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'form.py' }).first().waitFor();
    await page.keyboard.press('Enter');
    const editor = page.locator('.editor-instance .monaco-editor').first();
    await editor.locator('.view-line', { hasText: 'def render' }).waitFor();

    // The file dialog (VS Code's simple dialog in a browser, titled as the
    // extension asks): once it lists its folder, the image's path, Enter. The
    // dialog may still rewrite its input as it loads: the path is typed again
    // until it stays.
    const pick = async (title, file) => {
      await page.locator('.quick-input-widget', { hasText: title }).waitFor();
      await page.locator('.quick-input-list .monaco-list-row').first().waitFor();
      for (let attempt = 1; ; ++attempt) {
        await quickInput.fill(file);
        try {
          await page.waitForFunction((f) => document.querySelector('.quick-input-widget input')?.value === f, file,
            { timeout: 2_000 });
          break;
        } catch (e) {
          if (attempt === 5) throw new Error(`the file dialog keeps ${JSON.stringify(await quickInput.inputValue())}`);
        }
      }
      await page.keyboard.press('Enter');
    };

    // astfill: Attach Image -> astfill.image.attach; the answer in the status bar.
    await runCommand(page, 'astfill: Attach Image');
    await pick('astfill: attach an image to this file', path.join(project, 'form.png'));
    await page.locator('.statusbar-item', { hasText: 'form.png attached; completions in this file see it' })
      .waitFor({ timeout: 120_000 });
    await logged(/attached image form\.png to file:\/\/\S*form\.py/);
    assert.equal(await page.locator('.notification-toast', { hasText: 'was not attached' }).count(), 0);

    // astfill: Image to Code -> astfill.image.toCode; its WorkspaceEdit goes in at the cursor.
    await runCommand(page, 'astfill: Image to Code');
    await pick('astfill: write code for this image', path.join(project, 'form.png'));
    await page.locator('.quick-input-widget', { hasText: 'What to write' }).waitFor();
    await page.keyboard.press('Enter');  // no instruction
    await logged(/image to code: [1-9]\d* bytes of code for form\.png at file:\/\/\S*form\.py/);
    await page.keyboard.press('Control+S');
    const file = path.join(project, 'form.py');
    const head = 'class Form:\n    def render(self):\n        ';
    await waitForFile(file, (text) => text.startsWith(head) && text.length > FORM_PY.length + 1, 60_000,
      'form.py to be saved with the code for the image');
    const coded = fs.readFileSync(file, 'utf8');
    t.diagnostic(`image to code inserted ${JSON.stringify(coded.slice(head.length, head.length + 60))}…`);
    assert.ok(coded.endsWith('\n'), 'the line after the cursor stays');
    assert.ok(!coded.includes('<|'), `no control-token text: ${JSON.stringify(coded)}`);
    assert.equal(await page.locator('.notification-toast', { hasText: 'no code for the image' }).count(), 0);

    // A pasted screenshot: clipboard bytes (image/png), sent as a data: URI;
    // the code edit (editor.pasteAs.preferences) inserts its code at the cursor.
    await page.keyboard.press('Control+End');
    const beforePaste = coded.length;
    await page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'screenshot.png', { type: 'image/png' }));
      document.activeElement.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, png.toString('base64'));
    await logged(/image to code: [1-9]\d* bytes of code for pasted image [0-9a-f]{8} at file:\/\/\S*form\.py/);
    await page.keyboard.press('Control+S');
    await waitForFile(file, (text) => text.startsWith(coded) && text.length > beforePaste, 60_000,
      'form.py to be saved with the pasted image\'s code after the earlier text');
    assert.ok(!fs.readFileSync(file, 'utf8').includes('<|'));

    // Dropped images: the drag events a Shift+drop fires at the editor's text
    // (dragenter, dragover, drop, Shift held), the attach edit applied
    // (editor.dropIntoEditor.preferences). First a file dragged in from
    // outside the browser: a File, which a browser gives no path, here also
    // named in the uri-list by a vscode-local: URI, which the daemon cannot
    // read; its bytes go as a data: URI.
    const dropLog = (text) => text.split('\n').filter((l) => l.includes('image drop:'));
    await dropFile(page, editor, { file: { bytes: png, name: 'dropped.png', type: 'image/png' },
      uriList: 'vscode-local:/home/someone/Pictures/dropped.png' });
    await page.locator('.statusbar-item', { hasText: /pasted image [0-9a-f]{8} attached( \(described before\))?; completions in this file see it/ })
      .waitFor({ timeout: 120_000 });
    await logged(/attached image pasted image [0-9a-f]{8} to file:\/\/\S*form\.py/);
    await logged(new RegExp(`image drop: dropped\\.png \\(image/png, vscode-local:\\S*dropped\\.png\\) offered as ${png.length} bytes as a data: URI`));
    await logged(/image drop: attaching dropped\.png in file:\/\/\S*form\.py: done/);
    // Only the chosen edit ran: no code was written for the dropped image.
    const codeFor = (text) => text.split('\n').filter((l) => /image to code: .* for pasted image/.test(l)).length;
    assert.equal(codeFor(fs.readFileSync(log, 'utf8')), 1, 'only the paste asked for code');

    // Then an image from VS Code's Explorer: the uri-list names it as the
    // browser knows it, vscode-remote://HOST/PATH, which reaches the extension
    // host as file:///PATH: a file the daemon can read, sent by path.
    await dropFile(page, editor, { uriList: `vscode-remote://{host}${path.join(project, 'form.png')}` });
    await waitForFile(log, (text) => (text.match(/attached image form\.png to file:\/\/\S*form\.py/g) ?? []).length === 2,
      120_000, 'the daemon to attach form.png a second time, dropped by path');
    await logged(/image drop: form\.png \(image\/png, file:\/\/\S*form\.png\) offered as the file \//);

    // A file: URI in a browser's drop is a file of the browser's machine
    // (vscode-local: to the extension host) and, without its bytes, one that
    // nothing here can read: choosing the edit says so, naming it.
    await dropFile(page, editor, { uriList: 'file:///nowhere/on/this/machine/shot.png' });
    await logged(/image drop: attaching shot\.png chosen; it cannot be sent/, 60_000);
    t.diagnostic(`drops: ${JSON.stringify(dropLog(fs.readFileSync(log, 'utf8')))}`);
    // The notifications (all of them: a toast may be hidden again): that one
    // error, naming the URI, and no edit VS Code failed to apply (as when the
    // chosen-edit file system answered a stat wrong).
    await runCommand(page, 'Notifications: Show Notifications');
    const center = page.locator('.notifications-center');
    await center.locator('.notification-list-item', { hasText: 'the image was not attached' })
      .filter({ hasText: 'vscode-local:/nowhere/on/this/machine/shot.png' }).waitFor({ timeout: 30_000 });
    const notifications = await center.innerText();
    assert.equal(notifications.match(/the image was not attached/g)?.length, 1, notifications);
    assert.ok(!/Error applying edit|no code for the image/.test(notifications), notifications);
    await runCommand(page, 'Notifications: Hide Notifications');

    // Switching a drop's or a paste's edit afterwards with its widget (the
    // button under the edit, then the other choice): VS Code first undoes the
    // applied edit (model.undo()). An edit that changed no text (an attach)
    // left no undo step of its own, and that undo took back the user's
    // previous edit instead. Here a line typed just before: it must survive
    // the switch, and the other edit must run.
    const typed = 'typed_before_the_drop = 41';
    const typeLine = async (text) => {
      await editor.locator('.view-line').last().click({ position: { x: 2, y: 2 } });
      await page.keyboard.press('Control+End');
      await page.keyboard.press('Enter');
      await page.keyboard.type(text);
      await editor.locator('.view-line', { hasText: text }).waitFor();
    };
    const switchTo = async (choice) => {
      await editor.locator('.post-edit-widget').waitFor({ timeout: 30_000 });
      await editor.locator('.post-edit-widget .monaco-button').click();
      // The list takes the keyboard (a block over the page takes the mouse):
      // down to the choice, Enter.
      const row = page.locator('.action-widget .monaco-list-row', { hasText: choice });
      await row.waitFor();
      for (let i = 0; !(await row.getAttribute('class')).includes('focused'); ++i) {
        assert.ok(i < 4, `the drop/paste widget's list never focuses ${choice}`);
        await page.keyboard.press('ArrowDown');
      }
      await page.keyboard.press('Enter');
    };
    // Saves form.py; its text once written (the editor's tab no longer dirty)
    // and as `ok` wants it.
    const saved = async (what, ok) => {
      await page.keyboard.press('Control+S');
      await page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout: 30_000 });
      let text;
      await waitForFile(file, (t) => t.startsWith('class Form:') && ok(text = t), 30_000, what);
      return text;
    };
    await typeLine(typed);
    const logLines = (re) => (fs.readFileSync(log, 'utf8').match(re) ?? []).length;
    const codeBefore = logLines(/image to code: [1-9]\d* bytes of code for pasted image/g);
    await dropFile(page, editor, { file: { bytes: png, name: 'switched.png', type: 'image/png' } });
    await logged(/image drop: attaching switched\.png in file:\/\/\S*form\.py: done/);
    let text = await saved('form.py with the line typed and the drop', (t) => t.includes(typed));
    assert.ok(text.includes('# astfill: context: the image switched.png\n'), text);
    await switchTo('astfill: write code for the image');
    await logged(/image drop: writing code for switched\.png in file:\/\/\S*form\.py: done/);
    const attachedText = text;
    text = await saved('form.py with the code for the drop', (t) => t !== attachedText);
    assert.ok(text.includes(typed), `the line typed before the drop is still there after switching its edit:\n${text}`);
    assert.ok(text.includes('# astfill: code for the image switched.png\n') && !text.includes('context: the image switched.png'),
      text);
    assert.equal(logLines(/image to code: [1-9]\d* bytes of code for pasted image/g), codeBefore + 1, 'the code edit ran');

    // A paste (the code edit preferred), switched to attach and back: the
    // attach edit writes a comment line, so the switch back undoes that line,
    // not the line typed before the paste.
    const typed2 = 'typed_before_the_paste = 42';
    await typeLine(typed2);
    const attachedBefore = logLines(/attached image pasted image [0-9a-f]{8} to/g);
    await page.evaluate((b64) => {
      const data = new DataTransfer();
      data.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'again.png', { type: 'image/png' }));
      document.activeElement.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, png.toString('base64'));
    await waitForFile(log, () => logLines(/image to code: [1-9]\d* bytes of code for pasted image/g) === codeBefore + 2,
      120_000, 'the paste\'s code');
    await switchTo('astfill: attach the pasted image as context');
    await waitForFile(log, () => logLines(/attached image pasted image [0-9a-f]{8} to/g) === attachedBefore + 1,
      120_000, 'the switched paste to attach the image');
    // (The widget is back once VS Code has applied the edit.)
    await editor.locator('.post-edit-widget').waitFor({ timeout: 30_000 });
    const codedText = text;
    text = await saved('form.py after the paste switched to attach', (t) => t !== codedText);
    assert.ok(text.includes(typed2), text);
    assert.ok(text.includes('# astfill: context: the pasted image\n'), text);
    await switchTo('astfill: write code for the pasted image');
    await waitForFile(log, () => logLines(/image to code: [1-9]\d* bytes of code for pasted image/g) === codeBefore + 3,
      120_000, 'the paste switched back to code');
    await editor.locator('.post-edit-widget').waitFor({ timeout: 30_000 });
    const pasteAttached = text;
    text = await saved('form.py after the paste switched back to code', (t) => t !== pasteAttached);
    assert.ok(text.includes(typed2) && text.includes(typed),
      `the lines typed before the drop and the paste are still there after switching their edits:\n${text}`);
    assert.ok(!text.includes('context: the pasted image'), text);
    t.diagnostic(`after the switches: ${JSON.stringify(text.slice(-300))}`);

    await page.screenshot({ path: path.join(ARTIFACTS, 'vscode-images.png') });
  });
