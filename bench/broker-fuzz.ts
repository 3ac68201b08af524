/**
 * Fuzzes a live KafkaServer (Cluster + group handlers over the in-memory LogStore used by the
 * broker tests) with N mutated request frames (default 1 000 000) over several connections,
 * reconnecting whenever the server closes one. Checks at the end that the server still
 * answers a well-formed request and reports heap growth. Prints one JSON object; exits 1 if
 * the server stopped answering.   node --import tsx bench/broker-fuzz.ts [n] [seed]
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import {
  Cluster,
  clusterHandlers,
  GroupCoordinator,
  groupHandlers,
  KafkaServer,
  MemoryOffsetStore,
} from '../src/broker/index.js';
import { decodeResponse, encodeRequest } from '../src/protocol/index.js';
import { MemoryLogStore } from '../test/broker/support/memory-log.js';
import { buildCorpus, prng } from '../test/protocol/support/fuzz.js';

const total = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);
const CONNECTIONS = 32;

const node = { nodeId: 1, host: '127.0.0.1', port: 0 };
const logs = new MemoryLogStore();
const cluster = new Cluster({ logs, node, autoCreateTopics: false });
await cluster.createTopic('fuzz', 2);
const coordinator = new GroupCoordinator({ initialRebalanceDelayMs: 0 });
const server = new KafkaServer({
  port: 0,
  maxRequestBytes: 1024 * 1024,
  handlers: {
    ...clusterHandlers(cluster),
    ...groupHandlers({
      node,
      coordinator,
      offsets: new MemoryOffsetStore(),
      partitionExists: (t, p) => cluster.partitionExists(t, p),
    }),
  },
});
node.port = (await server.listen()).port;

const corpus = buildCorpus(2, seed);
const rnd = prng(seed);
const heap0 = process.memoryUsage().heapUsed;
let sent = 0;
let reconnects = 0;
let maxHeapMb = 0;

interface Conn {
  socket: Socket;
  closed: boolean;
  /** Settles on the next data or close event. */
  signal: Promise<void>;
  wake: () => void;
}

async function open(): Promise<Conn> {
  const socket = connect(node.port, '127.0.0.1');
  const c: Conn = { socket, closed: false, signal: Promise.resolve(), wake: () => {} };
  const arm = () => {
    c.signal = new Promise<void>((r) => {
      c.wake = r;
    });
  };
  arm();
  socket.on('error', () => {});
  socket.on('data', () => {
    c.wake();
    arm();
  });
  socket.on('close', () => {
    c.closed = true;
    c.wake();
  });
  await once(socket, 'connect');
  return c;
}

function mutate(src: Buffer): Buffer {
  const b = Buffer.from(src);
  const flips = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < flips; k++) {
    const p = 8 + Math.floor(rnd() * Math.max(1, b.length - 8));
    if (p < b.length) b[p] = Math.floor(rnd() * 256);
  }
  const cut = rnd() < 0.1 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
  const f = Buffer.alloc(4 + cut.length);
  f.writeInt32BE(rnd() < 0.02 ? 0x7fffffff : cut.length, 0);
  cut.copy(f, 4);
  return f;
}

const t0 = process.hrtime.bigint();
async function worker(count: number): Promise<void> {
  let c = await open();
  for (let i = 0; i < count; i++) {
    if (c.closed) {
      c = await open();
      reconnects++;
    }
    const signal = c.signal;
    c.socket.write(mutate(corpus[Math.floor(rnd() * corpus.length)] as Buffer));
    sent++;
    // Wait for the answer or the close (or 20 ms: long polls and acks=0 produce answer late or never).
    await Promise.race([signal, new Promise((r) => setTimeout(r, 20))]);
    if ((sent & 0x3fff) === 0)
      maxHeapMb = Math.max(maxHeapMb, (process.memoryUsage().heapUsed - heap0) / 1048576);
  }
  c.socket.destroy();
}
await Promise.all(
  Array.from({ length: CONNECTIONS }, (_, i) =>
    worker(Math.floor(total / CONNECTIONS) + (i === 0 ? total % CONNECTIONS : 0)),
  ),
);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

// The server must still answer a well-formed request.
const probe = (await open()).socket;
const reply = new Promise<Buffer>((resolve) => {
  let acc = Buffer.alloc(0);
  probe.on('data', (d: Buffer) => {
    acc = Buffer.concat([acc, d]);
    if (acc.length >= 4 && acc.length >= 4 + acc.readInt32BE(0))
      resolve(acc.subarray(4, 4 + acc.readInt32BE(0)));
  });
});
probe.write(encodeRequest(18, 3, 42, 'probe', {}));
const answered = await Promise.race([
  reply.then((f) => decodeResponse(18, 3, f).correlationId === 42),
  new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
]);
probe.destroy();
coordinator.shutdown();
await server.close();
console.log(
  JSON.stringify({
    name: 'broker-fuzz',
    seed,
    events: sent,
    seconds: Number(seconds.toFixed(2)),
    rate: Math.round(sent / seconds),
    connections: CONNECTIONS,
    reconnects,
    maxHeapGrowthMb: Number(maxHeapMb.toFixed(1)),
    serverAnswersAfterwards: answered,
  }),
);
process.exit(answered ? 0 : 1);
