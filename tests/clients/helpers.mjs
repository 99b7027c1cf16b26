// Shared helpers for the protocol-level tests of `astfill serve`.
//
// Everything here synchronises on events (a message arriving, a process
// exiting, a socket closing) and every wait carries a timeout that fails the
// test with a message saying what was awaited. Nothing sleeps for a fixed time.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  SocketMessageReader,
  SocketMessageWriter,
} from 'vscode-jsonrpc/node.js';

// The binary under test: $ASTFILL_BIN (CTest sets it), else the release build
// of this checkout.
export const BIN = process.env.ASTFILL_BIN
  ? path.resolve(process.env.ASTFILL_BIN)
  : fileURLToPath(new URL('../../build/cli/astfill', import.meta.url));

// Default timeout for a single wait (a response, a notification, an exit).
export const WAIT_MS = 10_000;

// ---- Timeouts -------------------------------------------------------------------

// Resolves like `promise`, or rejects after `ms` with an error naming `what`.
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- Processes --------------------------------------------------------------------

const spawned = new Set();

// The binary may be replaced while a rebuild is in progress: wait (on file
// system events, with a deadline) until it exists again.
export async function waitForBinary(ms = 30_000) {
  if (fs.existsSync(BIN)) return;
  const dir = path.dirname(BIN);
  await withTimeout(
    new Promise((resolve) => {
      let watcher;
      const check = () => {
        if (fs.existsSync(BIN)) {
          watcher?.close();
          clearInterval(poll);
          resolve();
        }
      };
      try {
        watcher = fs.watch(dir, check);
      } catch {
        // The directory itself may be missing during a clean rebuild.
      }
      // fs.watch can miss renames on some file systems; re-check periodically.
      const poll = setInterval(check, 250);
      check();
    }),
    ms,
    `the astfill binary at ${BIN} to exist (is it being rebuilt?)`,
  );
}

// Spawns the daemon. Returns the child process with extra fields:
//   exited: Promise<{code, signal}> settled when the process exits,
//   stderrText(): everything written to stderr so far.
// Every process spawned here is killed by killAll().
// `serve` without --model would load the bundled demo model; tests get a
// daemon without one (completions empty) unless they name a model or ask
// for the bundled one with options.bundledModel.
export async function spawnDaemon(args, options = {}) {
  await waitForBinary();
  if (args[0] === 'serve' && !options.bundledModel && !args.includes('--model') && !args.includes('--no-model'))
    args = ['serve', '--no-model', ...args.slice(1)];
  // Index databases go to a cache directory of the test's own, never ~/.cache.
  const env = { ...process.env, XDG_CACHE_HOME: options.cacheDir ?? tempDir('cache'), ...(options.env ?? {}) };
  const proc = spawn(BIN, args, { stdio: options.stdio ?? ['pipe', 'pipe', 'pipe'], env });
  spawned.add(proc);
  let stderr = '';
  proc.stderr?.setEncoding('utf8');
  // Always drain stderr so the daemon never blocks on a full pipe.
  proc.stderr?.on('data', (chunk) => {
    if (stderr.length < 1 << 20) stderr += chunk;
  });
  // Writing to a daemon that already exited must not crash the test runner.
  proc.stdin?.on('error', () => {});
  proc.exited = new Promise((resolve, reject) => {
    proc.once('exit', (code, signal) => {
      spawned.delete(proc);
      resolve({ code, signal });
    });
    proc.once('error', (err) => {
      spawned.delete(proc);
      reject(err);
    });
  });
  proc.exited.catch(() => {});
  proc.stderrText = () => stderr;
  return proc;
}

// Waits for `proc` to exit; returns {code, signal}.
export function waitForExit(proc, ms = WAIT_MS, what = 'the daemon to exit') {
  return withTimeout(proc.exited, ms, `${what} (stderr: ${tail(proc.stderrText?.() ?? '')})`);
}

export function isAlive(proc) {
  return proc.exitCode === null && proc.signalCode === null;
}

// Kills a process (SIGKILL) if it is still running and waits for it to go.
export async function killProcess(proc) {
  if (!proc || !isAlive(proc)) return;
  proc.kill('SIGKILL');
  await withTimeout(proc.exited, WAIT_MS, 'a killed daemon to exit').catch(() => {});
}

const tempDirs = new Set();

// Kills every daemon still running and removes the temporary files.
export async function killAll() {
  await Promise.all([...spawned].map((p) => killProcess(p)));
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function tail(text, n = 600) {
  return text.length > n ? '...' + text.slice(-n) : text;
}

// A new empty directory, removed by killAll().
export function tempDir(label = 'dir') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `astfill-test-${label}-`));
  tempDirs.add(dir);
  return dir;
}

export function tempFile(name, contents) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'astfill-test-'));
  tempDirs.add(dir);
  const file = path.join(dir, name);
  fs.writeFileSync(file, contents);
  return file;
}

// The random-model writer: $ASTFILL_WRITE_MODEL (CTest sets it), else the
// build of this checkout.
export const WRITE_MODEL = process.env.ASTFILL_WRITE_MODEL ??
  new URL('../../build/tests/engine/write_random_model', import.meta.url).pathname;

// Writes a tiny random-weight qwen2 model (its text is noise) to `file`;
// fails the test, with the writer's stderr, if it cannot.
export function writeTinyModel(file) {
  const w = spawnSync(WRITE_MODEL, [file, '--arch', 'qwen2'], { encoding: 'utf8' });
  assert.equal(w.status, 0, `writing the model with ${WRITE_MODEL}: ${w.stderr}`);
  return file;
}

// Writes `files` ({relative path: text}) under `root`, making the folders.
export function writeFiles(root, files) {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
}

// ---- Waiting on a growing list of messages ---------------------------------------

// Every message received, in arrival order, with waiters on predicates.
export class MessageLog {
  constructor(label = 'messages') {
    this.label = label;
    this.messages = [];
    this.waiters = [];
    this.closed = false;
    this.closeWaiters = [];
  }

  push(msg) {
    this.messages.push(msg);
    for (const w of [...this.waiters]) {
      if (w.predicate(msg)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(msg);
      }
    }
  }

  markClosed() {
    this.closed = true;
    for (const w of this.closeWaiters.splice(0)) w();
  }

  // The first message (already received or still to come) that matches.
  waitFor(predicate, what, ms = WAIT_MS) {
    const found = this.messages.find(predicate);
    if (found) return Promise.resolve(found);
    let waiter;
    const p = new Promise((resolve) => {
      waiter = { predicate, resolve };
      this.waiters.push(waiter);
    });
    return withTimeout(p, ms, `${what} (${this.label} so far: ${this.summary()})`).finally(() => {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) this.waiters.splice(i, 1);
    });
  }

  waitForClose(what, ms = WAIT_MS) {
    if (this.closed) return Promise.resolve();
    return withTimeout(new Promise((resolve) => this.closeWaiters.push(resolve)), ms, what);
  }

  indexOf(predicate) {
    return this.messages.findIndex(predicate);
  }

  notifications(method) {
    return this.messages.filter((m) => m.method === method && m.id === undefined);
  }

  summary() {
    const last = this.messages.slice(-8).map((m) => JSON.stringify(m).slice(0, 200));
    return `${this.messages.length} message(s)${last.length ? ': ' + last.join(' | ') : ''}`;
  }
}

export const isLog = (type, ...fragments) => (m) =>
  m.method === 'window/logMessage' &&
  (type === undefined || m.params?.type === type) &&
  fragments.every((f) => String(m.params?.message).includes(f));

export const isProgress = (token, kind) => (m) =>
  m.method === '$/progress' && m.params?.token === token && (!kind || m.params?.value?.kind === kind);

export const isResponse = (id) => (m) => m.method === undefined && m.id === id;

// ---- JSON-RPC client (vscode-jsonrpc) -----------------------------------------------

// Passes messages through to the connection and records each one, in arrival
// order, in a MessageLog (responses included, which lets tests check that a
// notification came before a response).
class TapReader {
  constructor(inner, log) {
    this.inner = inner;
    this.log = log;
  }
  get onError() { return this.inner.onError; }
  get onClose() { return this.inner.onClose; }
  get onPartialMessage() { return this.inner.onPartialMessage; }
  listen(callback) {
    return this.inner.listen((msg) => {
      this.log.push(msg);
      callback(msg);
    });
  }
  dispose() { this.inner.dispose(); }
}

// Records every message written, so a test can learn the id vscode-jsonrpc
// gave a request (the connection writes synchronously inside sendRequest).
class TapWriter {
  constructor(inner) {
    this.inner = inner;
    this.sent = [];
  }
  get onError() { return this.inner.onError; }
  get onClose() { return this.inner.onClose; }
  write(msg) {
    this.sent.push(msg);
    return this.inner.write(msg);
  }
  end() { this.inner.end(); }
  dispose() { this.inner.dispose(); }
}

// A vscode-jsonrpc connection plus the log of everything it received.
export class Client {
  constructor(reader, writer, label) {
    this.log = new MessageLog(label);
    this.writer = new TapWriter(writer);
    this.conn = createMessageConnection(new TapReader(reader, this.log), this.writer);
    // Notifications go to the log; no handler is needed for them to be seen,
    // but registering a catch-all keeps vscode-jsonrpc from logging them.
    this.conn.onNotification(() => {});
    this.conn.onUnhandledProgress(() => {});
    this.conn.onClose(() => this.log.markClosed());
    this.conn.onError(() => {});
    this.conn.listen();
  }

  // Sends a request; the promise settles with its result, rejects with a
  // ResponseError, or fails after `ms` with a message naming the method.
  // The returned promise has `id`: the JSON-RPC id of the request sent.
  request(method, params, token, ms = WAIT_MS) {
    const p = token === undefined
      ? this.conn.sendRequest(method, params)
      : this.conn.sendRequest(method, params, token);
    const sent = this.writer.sent.at(-1);
    const id = sent && sent.method === method ? sent.id : undefined;
    const timed = withTimeout(p, ms, `the response to '${method}'`);
    timed.id = id;
    return timed;
  }

  notify(method, params) {
    return this.conn.sendNotification(method, params);
  }

  waitFor(predicate, what, ms) {
    return this.log.waitFor(predicate, what, ms);
  }

  status(ms = WAIT_MS) {
    return this.request('workspace/executeCommand', { command: 'astfill.status' }, undefined, ms);
  }

  dispose() {
    try {
      this.conn.dispose();
    } catch {
      // already gone
    }
  }
}

export function stdioClient(proc, label = 'stdio messages') {
  return new Client(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin), label);
}

export function socketClient(socket, label = 'socket messages') {
  return new Client(new SocketMessageReader(socket), new SocketMessageWriter(socket), label);
}

export function initializeParams({ encodings, rootUri = null, initializationOptions, workDoneProgress = true } = {}) {
  const capabilities = { window: { workDoneProgress } };
  if (encodings) capabilities.general = { positionEncodings: encodings };
  const params = {
    processId: process.pid,
    clientInfo: { name: 'astfill-node-tests', version: '1' },
    rootUri,
    capabilities,
  };
  if (initializationOptions !== undefined) params.initializationOptions = initializationOptions;
  return params;
}

// Spawns `astfill serve ARGS` on stdio, connects a client and (unless
// initialize === false) runs initialize + initialized.
export async function startStdio(args = [], { initialize = true, init = {} } = {}) {
  const proc = await spawnDaemon(['serve', ...args]);
  const client = stdioClient(proc);
  let initResult;
  if (initialize) {
    initResult = await client.request('initialize', initializeParams(init));
    await client.notify('initialized', {});
  }
  return { proc, client, initResult };
}

// ---- TCP --------------------------------------------------------------------------

// The port `proc` (an `astfill serve` on 127.0.0.1:0) prints as 'listening
// on 127.0.0.1:PORT'; rejects, with its stderr, if it exits first. `who` names
// it in the errors ('daemon', 'server').
export function listeningPort(proc, who = 'daemon') {
  proc.stdout.setEncoding('utf8');
  let out = '';
  return withTimeout(
    new Promise((resolve, reject) => {
      proc.stdout.on('data', (chunk) => {
        out += chunk;
        const m = /listening on 127\.0\.0\.1:(\d+)\r?\n/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proc.exited.then(({ code, signal }) =>
        reject(new Error(`${who} exited (code ${code}, signal ${signal}) before listening: ${proc.stderrText()}`)));
    }),
    WAIT_MS,
    `the ${who} to print 'listening on 127.0.0.1:PORT'`,
  );
}

// Spawns `astfill serve --listen 127.0.0.1:0 ARGS` and reads the port it prints.
export async function startTcpServer(args = []) {
  const proc = await spawnDaemon(['serve', '--listen', '127.0.0.1:0', ...args]);
  return { proc, port: await listeningPort(proc, 'daemon') };
}

// Spawns `astfill serve --http 127.0.0.1:0 ARGS` and reads the port it prints.
export async function startHttpServer(args = [], options = {}) {
  const proc = await spawnDaemon(['serve', '--http', '127.0.0.1:0', ...args], options);
  const port = await listeningPort(proc, 'server');
  return { proc, port, url: `http://127.0.0.1:${port}` };
}

// Opens a TCP connection; resolves once connected. The socket gets `closedPromise`,
// a promise settled when the socket closes (peer close, error or destroy).
export function connectTcp(port) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.closedPromise = new Promise((res) => socket.once('close', res));
      socket.on('error', () => {});
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    }),
    WAIT_MS,
    `a TCP connection to 127.0.0.1:${port}`,
  );
}

export function waitForSocketClose(socket, what = 'the server to close the connection', ms = WAIT_MS) {
  return withTimeout(socket.closedPromise, ms, what);
}

// ---- Raw framing --------------------------------------------------------------------

// One LSP frame: "Content-Length: N\r\n\r\n" + body (string, object or Buffer).
export function frame(body) {
  const bytes = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, 'ascii'), bytes]);
}

// Incremental parser for the daemon's output: feed chunks, get bodies back.
export class FrameParser {
  constructor() {
    this.buf = Buffer.alloc(0);
    this.bodies = []; // every body as the raw bytes received, in order
  }

  // Returns the complete messages (parsed JSON) now available.
  push(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out = [];
    for (;;) {
      const headerEnd = this.buf.indexOf('\r\n\r\n');
      if (headerEnd < 0) break;
      const header = this.buf.subarray(0, headerEnd).toString('ascii');
      const m = /^Content-Length: (\d+)$/im.exec(header);
      if (!m) {
        // Not recoverable: report it as a message so the waiting test fails clearly.
        out.push({ frameError: `daemon wrote a frame header without Content-Length: ${JSON.stringify(header)}` });
        this.buf = Buffer.alloc(0);
        break;
      }
      const length = Number(m[1]);
      const start = headerEnd + 4;
      if (this.buf.length < start + length) break;
      const raw = Buffer.from(this.buf.subarray(start, start + length));
      this.buf = this.buf.subarray(start + length);
      this.bodies.push(raw);
      try {
        out.push(JSON.parse(raw.toString('utf8')));
      } catch (e) {
        out.push({ frameError: `daemon wrote a body that is not JSON (${e.message}): ${raw.toString('utf8').slice(0, 200)}` });
      }
    }
    return out;
  }

  get pending() {
    return this.buf.length;
  }
}

// Attaches a FrameParser to a readable stream; returns a MessageLog of what it reads.
export function readFrames(stream, label = 'daemon output') {
  const log = new MessageLog(label);
  const parser = new FrameParser();
  stream.on('data', (chunk) => {
    for (const msg of parser.push(chunk)) log.push(msg);
  });
  stream.on('end', () => log.markClosed());
  stream.on('close', () => log.markClosed());
  log.parser = parser;
  return log;
}

// Writes bytes to a stream and resolves when they have been handed to the OS.
export function writeBytes(stream, bytes) {
  return withTimeout(
    new Promise((resolve, reject) => stream.write(bytes, (err) => (err ? reject(err) : resolve()))),
    WAIT_MS,
    'a write to the daemon',
  );
}

// A daemon on stdio driven with raw bytes: `send` writes exactly what it is
// given, `log` holds the parsed frames the daemon wrote, in order.
export async function startRaw(args = []) {
  const proc = await spawnDaemon(['serve', ...args]);
  const log = readFrames(proc.stdout);
  return { proc, log, send: (bytes) => writeBytes(proc.stdin, bytes) };
}

export const request = (id, method, params) =>
  params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
export const notification = (method, params) =>
  params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params };

// CPython's own parser (Debian's /usr/bin/python3) judges Python text: the
// language's front end, not the tree-sitter grammar astfill's guard uses.
// Returns null when `source` parses, else the SyntaxError's message.
export function cpythonSyntaxError(source) {
  const r = spawnSync('/usr/bin/python3', ['-c',
    'import ast, sys\ntry:\n    ast.parse(sys.stdin.read())\nexcept SyntaxError as e:\n    print(f"{e.msg} (line {e.lineno})")'],
  { input: source, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 could not judge: ${r.stderr}`);
  return r.stdout.trim() || null;
}
