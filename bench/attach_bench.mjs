#!/usr/bin/env node
// From astfill.image.attach to the first inline completion that carries the
// image's description (issue 19), through `astfill serve` on stdio with a
// random Qwen2.5-VL pair as astfill.vision and its LM as the completion model.
//
//   node bench/attach_bench.mjs [--shapes small|3b] [--size WxH] [--max-image-tokens N]
//                               [--threads N] [--keep DIR] [--vl-layers N] [--two-loads]
//
// --shapes small (default): the tests' tiny pair (build/tests/vision/write_vl_fixture).
// --shapes 3b: the real tower (32 blocks of 1280, F16) and the 3B LM's shapes
// (36 layers of 2048, Q8_0, about 3.3 GB), written by
// `build/bench/bench_vision --write-vl DIR` (minutes; --keep DIR writes them
// there once and reuses them). --vl-layers N: an LM of N of the 3B's layers
// instead of 36 (a smaller --keep DIR's files keep their count). The
// completion model is the same LM file (Qwen2.5-Coder-3B has its shapes): the
// daemon loads it once and the vision model runs on it (workspace/images.h).
// --two-loads: the completion model is a copy of the LM file, so the daemon
// loads it twice, as it did before sharing (to compare peak RSS).
//
// Each document is opened, then: attach (timed until its answer), then an
// inline completion at the document's end (triggerKind 1, timeoutMs 600000,
// timed until its answer). Rows:
//   baseline        no image: the completion model's first answer (it is loaded before)
//   uncached_cold   the first attach: loads the vision model, runs the tower, writes the description
//   uncached_warm   another picture: the tower and the description, the model loaded
//   cached          the first picture again (in another document): the description from the cache
// Prints JSON: each row's attach_ms, completion_ms, total_ms, the answer's
// cached/towerRuns/imageTokens/lmShared, the description's length, the completion's
// items; the machine's load average before and after; the daemon's peak RSS
// (VmHWM).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { killAll, killProcess, spawnDaemon, stdioClient, tempDir } from '../tests/clients/helpers.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
if (args.includes('--help')) {
  console.log('usage: node bench/attach_bench.mjs [--shapes small|3b] [--size WxH] [--max-image-tokens N] ' +
              '[--threads N] [--keep DIR] [--vl-layers N] [--two-loads]');
  process.exit(0);
}
const shapes = option('--shapes', 'small');
if (shapes !== 'small' && shapes !== '3b') {
  console.error(`attach_bench: --shapes ${shapes}: expected small or 3b`);
  process.exit(2);
}
const [width, height] = option('--size', '448x448').split('x').map(Number);
if (!(width > 0 && height > 0)) {
  console.error('attach_bench: --size WxH, e.g. 448x448');
  process.exit(2);
}
const maxImageTokens = Number(option('--max-image-tokens', '256'));
const threads = Number(option('--threads', String(os.cpus().length)));
const vlLayers = option('--vl-layers', null);
const twoLoads = args.includes('--two-loads');
const build = fileURLToPath(new URL('../build/', import.meta.url));

// A PNG (RGB, 8 bits, filter 0) of a gradient; `seed` changes every pixel.
function png(w, h, seed) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; ++y) {
    const row = y * (w * 3 + 1);
    for (let x = 0; x < w; ++x) {
      raw[row + 1 + x * 3] = (x * 2 + seed * 37) & 255;
      raw[row + 2 + x * 3] = (y * 3 + seed * 11) & 255;
      raw[row + 3 + x * 3] = ((x ^ y) + seed * 5) & 255;
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;   // bit depth
  ihdr[9] = 2;   // RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
                        chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const run = (bin, argv) => {
  const t0 = performance.now();
  const r = spawnSync(bin, argv, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${bin} ${argv.join(' ')}: ${r.stderr || r.error}`);
  return { out: r.stdout, seconds: (performance.now() - t0) / 1000 };
};

const dir = option('--keep') ?? tempDir('attach-bench');
fs.mkdirSync(dir, { recursive: true });
let lm, mmproj, writeSeconds = 0;
if (shapes === 'small') {
  lm = path.join(dir, 'lm.gguf');
  mmproj = path.join(dir, 'mm.gguf');
  writeSeconds = run(process.env.ASTFILL_WRITE_VL_FIXTURE ?? path.join(build, 'tests/vision/write_vl_fixture'),
                     [lm, mmproj, path.join(dir, 'fixture.png')]).seconds;
} else {
  lm = path.join(dir, 'lm.gguf');
  mmproj = path.join(dir, 'mmproj.gguf');
  if (!(fs.existsSync(lm) && fs.existsSync(mmproj)))
    writeSeconds = run(process.env.ASTFILL_BENCH_VISION ?? path.join(build, 'bench/bench_vision'),
                       ['--write-vl', dir, ...(vlLayers ? ['--vl-layers', vlLayers] : [])]).seconds;
}
// The completion model: the LM file itself, or (--two-loads) a copy of it.
let completionModel = lm;
if (twoLoads) {
  completionModel = path.join(dir, 'completion-copy.gguf');
  fs.copyFileSync(lm, completionModel);
}
const pictures = [path.join(dir, 'first.png'), path.join(dir, 'second.png')];
pictures.forEach((p, i) => fs.writeFileSync(p, png(width, height, i)));

const loadavg = () => os.loadavg().map((x) => Math.round(x * 100) / 100);
const loadBefore = loadavg();
const proc = await spawnDaemon(['serve', '--model', completionModel, '--threads', String(threads), '--index-threads', '1']);
const client = stdioClient(proc);
const root = tempDir('attach-project');
const rootUri = pathToFileURL(root).href;
const LONG = 1_800_000;
await client.request('initialize', {
  processId: process.pid, rootUri, capabilities: {},
  initializationOptions: { astfill: { timeoutMs: 600_000,
                                      vision: { model: lm, mmproj, maxImageTokens } } },
}, undefined, LONG);
await client.notify('initialized', {});
const t0 = performance.now();
for (;;) {
  const s = await client.status(LONG);
  if (s.modelState === 'ready') break;
  if (String(s.modelState).startsWith('failed')) throw new Error(`the completion model: ${s.modelState}`);
  await new Promise((r) => setTimeout(r, 100));
}
const modelLoadMs = performance.now() - t0;

const text = 'class LoginForm:\n    """The form in the picture."""\n\n    def __init__(self):\n        self.';
const position = { line: 4, character: 13 };
let docs = 0;
async function row(name, picture) {
  const uri = pathToFileURL(path.join(root, `form_${docs++}.py`)).href;
  await client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
  const start = performance.now();
  let attached = null;
  if (picture) {
    attached = await client.request('workspace/executeCommand', {
      command: 'astfill.image.attach', arguments: [{ textDocument: { uri }, source: pathToFileURL(picture).href }],
    }, undefined, LONG);
  }
  const attachMs = performance.now() - start;
  const c = await client.request('textDocument/inlineCompletion',
    { textDocument: { uri }, position, context: { triggerKind: 1 } }, undefined, LONG);
  const totalMs = performance.now() - start;
  const r = {
    row: name, attach_ms: Math.round(attachMs), completion_ms: Math.round(totalMs - attachMs),
    total_ms: Math.round(totalMs), items: c.items.length, first_item_chars: c.items[0]?.insertText?.length ?? 0,
  };
  if (attached) {
    Object.assign(r, { cached: attached.cached, tower_runs: attached.towerRuns, image_tokens: attached.imageTokens,
                       lm_shared: attached.lmShared, description_chars: attached.description.length });
  }
  console.error(`attach_bench: ${JSON.stringify(r)}`);
  return r;
}

const rows = [];
try {
  rows.push(await row('baseline', null));
  rows.push(await row('uncached_cold', pictures[0]));
  rows.push(await row('uncached_warm', pictures[1]));
  rows.push(await row('cached', pictures[0]));
} finally {
  var peakRssMb = (() => {
    try {
      return Number(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)[1]) / 1024;
    } catch {
      return null;
    }
  })();
  client.dispose();
  await killProcess(proc);
  await killAll();
  if (twoLoads) fs.rmSync(completionModel, { force: true });
  if (!option('--keep')) fs.rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({
  shapes, vl_layers: vlLayers === null ? (shapes === '3b' ? 'as written' : null) : Number(vlLayers), two_loads: twoLoads,
  lm, mmproj, image: `${width}x${height}`, max_image_tokens: maxImageTokens, threads,
  write_seconds: Math.round(writeSeconds * 10) / 10, completion_model_ready_ms: Math.round(modelLoadMs),
  rows, daemon_peak_rss_mb: peakRssMb && Math.round(peakRssMb), loadavg_before: loadBefore, loadavg_after: loadavg(),
  cores: os.cpus().length,
}));
