// The TypeScript side of bench/remote (weft-remote-bench runs it): the official Weave
// TypeScript SDK (npm package `weave`, the version tests/support/ts_peer pins) delivers
// the benchmark's workload to the loopback sink, and this prints one JSON line of timings.
//
//   node ts_bench.mjs --calls N --objects-per-call K --rows R [--concurrency C]
//
// The workload is weft-remote-bench's (bench/remote/driver_workload.cc): one dataset of R
// rows saved first, then N calls of one op `predict(model, question)` where `model` is one
// shared WeaveObject and the output is {"text": ..., "parts": [K fresh Part objects]}, each
// Part saved as its own object (a ref in the output). With concurrency 1 every call is
// awaited before the next starts, as application code calling `await predict(...)` does;
// with C > 1, C calls are kept in flight at once.
//
// Timed from just before the dataset is saved until client.waitForBatchProcessing()
// returns: by then every call's end has been acknowledged, and every object before it
// (an op's end waits for its output's objects).
//
// Environment (set by weft-remote-bench): WF_TRACE_SERVER_URL and WANDB_BASE_URL (the
// sink), WANDB_API_KEY, WEFT_BENCH_PROJECT (entity/project: with an entity the SDK never
// asks W&B for a default one), HOME (a scratch directory), NODE_PATH (where `weave` is
// installed). Every TCP connection and fetch to anything but loopback is refused before it
// leaves the process, and makes the run fail: this benchmark must not talk to other hosts.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const blocked = [];

function refuse(what) {
  blocked.push(what);
  return new Error(`ts_bench: refused a connection to a non-loopback host (${what})`);
}

const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (!LOOPBACK.has(new URL(url).hostname)) return Promise.reject(refuse(new URL(url).hostname));
  return realFetch(input, init);
};

const realConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const opts = typeof args[0] === 'object' && args[0] !== null && !Array.isArray(args[0]) ? args[0] : null;
  if (!(opts && opts.path)) {
    const host = opts ? opts.host : typeof args[1] === 'string' ? args[1] : 'localhost';
    if (host !== undefined && !LOOPBACK.has(host)) {
      const err = refuse(String(host));
      process.nextTick(() => this.destroy(err));
      return this;
    }
  }
  return realConnect.apply(this, args);
};

function parseArgs(argv) {
  const o = { calls: 2000, objectsPerCall: 2, rows: 100, concurrency: 1 };
  const names = { '--calls': 'calls', '--objects-per-call': 'objectsPerCall', '--rows': 'rows', '--concurrency': 'concurrency' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    const n = Number(argv[i + 1]);
    if (!key || !Number.isInteger(n) || n < 0) throw new Error(`ts_bench: bad option ${argv[i]} ${argv[i + 1]}`);
    o[key] = n;
  }
  o.concurrency = Math.max(1, o.concurrency);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
// NODE_PATH is honoured by require(), not by import: resolve the SDK the CommonJS way.
const require = createRequire(import.meta.url);
const weave = require('weave');
// The package's exports hide its package.json; read it next to the resolved entry point.
const sdkVersion = JSON.parse(
  fs.readFileSync(path.join(path.dirname(require.resolve('weave')), '..', 'package.json'), 'utf8'),
).version;

const project = process.env.WEFT_BENCH_PROJECT || 'weft-bench/ts';
const client = await weave.init(project, { printCallLink: false });

class BenchModel extends weave.WeaveObject {
  constructor() {
    super({ name: 'bench-model', description: 'the shared model of every call' });
    this.model_name = 'gpt-4o-mini';
    this.temperature = 0.2;
    this.system_prompt = 'You are a concise assistant.';
  }
}

class Part extends weave.WeaveObject {
  constructor(call, index) {
    super({ name: 'Part' });
    this.call = call;
    this.index = index;
    this.text = `part ${index} of call ${call}`;
    this.score = 0.5;
  }
}

const predict = weave.op(
  async function predict(model, question) {
    const parts = [];
    for (let k = 0; k < opts.objectsPerCall; k++) parts.push(new Part(Number(question.slice(9)), k));
    return { text: `answer to ${question} from ${model.model_name}`, parts };
  },
  { parameterNames: ['model', 'question'] },
);

const rows = [];
for (let i = 0; i < opts.rows; i++) rows.push({ id: i, question: `question ${i}`, expected: `answer ${i}` });
const dataset = new weave.Dataset({ name: 'bench-dataset', description: 'the benchmark dataset', rows });
const model = new BenchModel();

let syncMs = 0; // until predict() hands back its promise
let awaitMs = 0; // until that promise resolves (the call ended, its start and end queued)
async function oneCall(i) {
  const a = performance.now();
  const p = predict(model, `question ${i}`);
  syncMs += performance.now() - a;
  await p;
  awaitMs += performance.now() - a;
}

const cpu0 = process.cpuUsage();
const t0 = performance.now();
await dataset.save();
const tDataset = performance.now();
if (opts.concurrency === 1) {
  for (let i = 0; i < opts.calls; i++) await oneCall(i);
} else {
  let next = 0;
  const worker = async () => {
    while (next < opts.calls) await oneCall(next++);
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.calls) }, worker));
}
const tCalls = performance.now();
await client.waitForBatchProcessing();
const t1 = performance.now();
const cpu = process.cpuUsage(cpu0);

if (blocked.length > 0) throw new Error(`ts_bench: blocked: ${blocked.join(', ')}`);
const ms = x => Math.round(x * 1000) / 1000;
console.log(
  JSON.stringify({
    sdk: `weave ${sdkVersion}`,
    node: process.version,
    calls: opts.calls,
    objects_per_call: opts.objectsPerCall,
    rows: opts.rows,
    concurrency: opts.concurrency,
    wall_ms: ms(t1 - t0),
    dataset_ms: ms(tDataset - t0),
    calls_ms: ms(tCalls - tDataset),
    drain_ms: ms(t1 - tCalls),
    cpu_user_ms: ms(cpu.user / 1000),
    cpu_system_ms: ms(cpu.system / 1000),
    call_sync_ms: ms(syncMs),
    call_await_ms: ms(awaitMs),
  }),
);
