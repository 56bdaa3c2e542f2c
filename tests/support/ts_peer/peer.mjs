// A small program on the official Weave TypeScript SDK (npm package `weave`, pinned in
// package.json), run by tests/support/ts_peer_test.py against the fake trace server.
//
// Environment (set by the test): WF_TRACE_SERVER_URL (the fake server), WANDB_BASE_URL (the
// same loopback address: the SDK derives its W&B host from it and would otherwise default to
// the hosted service), WANDB_API_KEY, WEFT_PEER_PROJECT (entity/project; with an entity the
// SDK never asks W&B's GraphQL for a default entity), HOME (a scratch directory, so no
// ~/.netrc or ~/.config/wandb/settings of the machine is read).
//
// Every TCP connection and every fetch to anything but loopback is refused before it
// leaves the process (and makes the peer fail): this machine must not talk to other hosts.
//
// Prints one JSON line: what it did and the counts the server should end up with.
import net from 'node:net';
import { createRequire } from 'node:module';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const blocked = [];

function refuse(what) {
  blocked.push(what);
  return new Error(`ts_peer: refused a connection to a non-loopback host (${what})`);
}

const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const host = new URL(url).hostname;
  if (!LOOPBACK.has(host)) return Promise.reject(refuse(host));
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

const require = createRequire(import.meta.url);
const weave = require('weave');

function check(cond, what) {
  if (!cond) throw new Error(`ts_peer: check failed: ${what}`);
}

const project = process.env.WEFT_PEER_PROJECT || 'weft-peer/ts-peer';
const client = await weave.init(project);
let calls = 0;
const counted = fn => async (...args) => {
  calls++;
  return fn(...args);
};

// Nested calls: a root with three children.
const child = weave.op(async function child(x) {
  return { value: x * 2, label: `v${x}` };
});
const parent = weave.op(async function parent(n) {
  let total = 0;
  for (let i = 0; i < n; i++) total += (await counted(child)(i)).value;
  return { total };
});

// An object with an op attribute (a ref-bearing object), returned by an op, then used as
// `self` of its own op.
class PeerModel extends weave.WeaveObject {
  constructor(temperature) {
    super({ name: 'peer-model', description: 'a model made by the TS peer' });
    this.temperature = temperature;
    this.predict = weave.op(this, async function predict(question) {
      return `answer to ${question} at ${this.temperature}`;
    });
  }
}
const makeModel = weave.op(async function makeModel(temperature) {
  return new PeerModel(temperature);
});

// A published plain object, passed to an op (its input becomes the object's ref).
const useConfig = weave.op(async function useConfig(config) {
  return config.threshold * 2;
});

// A dataset (a table of rows and an object pointing at it); a row passed to an op.
const score = weave.op(async function score(row) {
  return { correct: row.q === 'a' };
});

// An image (a file upload, inline in the inputs).
const describeImage = weave.op(async function describeImage(image) {
  return 'an image';
});

// An exception.
const fails = weave.op(async function fails(reason) {
  throw new Error(`boom: ${reason}`);
});

const root = await counted(parent)(3);
check(root.total === 6, 'parent total');

const model = await counted(makeModel)(0.25);
const answer = await weave.withAttributes({ peer: 'ts' }, () => counted(model.predict)('why'));
check(answer === 'answer to why at 0.25', `predict: ${answer}`);

const configJson = JSON.stringify({ kind: 'config', threshold: 0.5, nested: { list: [1, 2.5, 'x'] } });
const config = JSON.parse(configJson); // publish() marks it (with __savedRef)
const configRef = await client.publish(config, 'peer-config');
check((await counted(useConfig)(config)) === 1, 'useConfig');
const configBack = await weave.ObjectRef.fromUri(configRef.uri()).get();
check(JSON.stringify(configBack) === configJson, `config read back: ${JSON.stringify(configBack)}`);

const dataset = new weave.Dataset({
  name: 'peer-dataset',
  description: 'two rows',
  rows: [
    { id: '0', q: 'a' },
    { id: '1', q: 'b' },
  ],
});
const datasetRef = await dataset.save();
const graded = await counted(score)(dataset.getRow(0));
check(graded.correct === true, 'score');
const datasetBack = await datasetRef.get();
check(datasetBack.length === 2 && datasetBack.getRow(1).q === 'b', 'dataset read back');

const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
check((await counted(describeImage)(weave.weaveImage({ data: png, imageType: 'png' }))) === 'an image', 'image');

let threw = false;
try {
  await counted(fails)('on purpose');
} catch (e) {
  threw = String(e.message).includes('boom');
}
check(threw, 'the exception reached the caller');

await client.waitForBatchProcessing();
check(blocked.length === 0, `blocked: ${blocked.join(', ')}`);

const ops = 8; // child, parent, makeModel, predict, useConfig, score, describeImage, fails
console.log(
  JSON.stringify({
    project,
    expected: {
      calls,
      ops,
      objects: 3, // peer-model, peer-config, peer-dataset
      tables: 1,
      rows: 2,
      files: ops + 1, // each op's source, and the image
    },
    refs: {
      config: configRef.uri(),
      dataset: datasetRef.uri(),
    },
  }),
);
