/**
 * Compatibility-suite harness: a real `sluice broker` process (test/helpers/broker-process.ts:
 * the real log in a temporary directory, a random port) behind a small TCP proxy the test
 * controls. The broker advertises the proxy's port, so every client connection goes through the proxy;
 * `dropNextProduceResponse()` makes the proxy cut the connection instead of delivering the
 * next Produce response, which forces a real client to retry a batch the broker has already
 * written (the idempotent-producer check). `restart(signal)` stops the broker (SIGTERM: clean;
 * SIGKILL: crash) and starts it again on the same data directory behind the same proxy.
 *
 * Also: deterministic record sets and a comparison that reports the first difference.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnSluiceBroker } from '../../helpers/broker-process.js';

/** Splits a byte stream into Kafka frames (int32 size + payload). */
class Frames {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer, each: (frame: Buffer) => void): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 4) {
      const size = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + size) break;
      each(this.buf.subarray(0, 4 + size));
      this.buf = this.buf.subarray(4 + size);
    }
  }
}

export class FaultProxy {
  port = 0;
  target = 0;
  /** Produce responses swallowed so far (each cut one connection). */
  dropped = 0;
  private armed = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as { port: number }).port;
  }

  dropNextProduceResponse(): void {
    this.armed++;
  }

  private accept(client: Socket): void {
    const upstream = connect(this.target, '127.0.0.1');
    this.sockets.add(client);
    this.sockets.add(upstream);
    const apiKeyOf = new Map<number, number>();
    const requests = new Frames();
    const responses = new Frames();
    const kill = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) =>
      requests.push(chunk, (f) => {
        apiKeyOf.set(f.readInt32BE(8), f.readInt16BE(4));
        upstream.write(f);
      }),
    );
    upstream.on('data', (chunk: Buffer) =>
      responses.push(chunk, (f) => {
        const correlationId = f.readInt32BE(4);
        const apiKey = apiKeyOf.get(correlationId);
        apiKeyOf.delete(correlationId);
        if (apiKey === 0 && this.armed > 0) {
          this.armed--;
          this.dropped++;
          kill();
          return;
        }
        if (!client.destroyed) client.write(f);
      }),
    );
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', kill);
    upstream.on('close', kill);
  }

  /** Cuts every proxied connection (the broker is going away). */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface CompatBroker {
  /** host:port of the proxy: what clients bootstrap from. */
  bootstrap: string;
  proxy: FaultProxy;
  dataDir: string;
  /** Stops the broker (clean with SIGTERM, a crash with SIGKILL) and starts it again. */
  restart(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  close(): Promise<void>;
}

export async function startCompatBroker(): Promise<CompatBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-compat-'));
  const proxy = new FaultProxy();
  await proxy.listen();
  let b = await spawnSluiceBroker(dataDir, { advertisedPort: proxy.port });
  proxy.target = b.port;
  const stop = async (signal: 'SIGTERM' | 'SIGKILL') => {
    if (b.child.exitCode !== null) return;
    const exited = once(b.child, 'exit');
    b.child.kill(signal);
    const [code] = await exited;
    if (signal === 'SIGTERM') assert.equal(code, 0, 'clean shutdown exits 0');
  };
  return {
    bootstrap: `127.0.0.1:${proxy.port}`,
    proxy,
    dataDir,
    async restart(signal) {
      await stop(signal);
      proxy.cutAll();
      b = await spawnSluiceBroker(dataDir, { advertisedPort: proxy.port });
      proxy.target = b.port;
    },
    async close() {
      await stop('SIGTERM');
      await proxy.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestRecord {
  key: Buffer;
  value: Buffer;
  headers: [string, Buffer][];
  timestamp: number;
}

/** Deterministic records: printable keys/values of varied length (kcat reads lines), headers, timestamps. */
export function makeRecords(n: number, seed: string, t0 = 1_700_000_000_000): TestRecord[] {
  const out: TestRecord[] = [];
  let x = 0x9e3779b9;
  for (const c of seed) x = Math.imul(x ^ c.charCodeAt(0), 0x01000193) >>> 0;
  for (let i = 0; i < n; i++) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
    const len = 8 + (x % 80);
    const body = `${seed}-${i}-`.padEnd(len, String.fromCharCode(97 + (x % 26)));
    out.push({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(body),
      headers: [
        ['h', Buffer.from(`h${i}`)],
        ['seed', Buffer.from(seed)],
      ],
      timestamp: t0 + i,
    });
  }
  return out;
}

export function digest(r: {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: [string, Buffer | string][];
  timestamp: number | string;
}): string {
  const s = (b: Buffer | string | null) => (b === null ? '<null>' : Buffer.from(b).toString('base64'));
  return `${s(r.key)}|${s(r.value)}|${r.headers.map(([k, v]) => `${k}=${s(v)}`).join(',')}|${r.timestamp}`;
}

/** Asserts equal lists of digests, naming the count and the first difference. */
export function assertSameRecords(got: string[], want: string[], what: string): void {
  if (got.length !== want.length) assert.fail(`${what}: ${got.length} records, expected ${want.length}`);
  for (let i = 0; i < want.length; i++)
    if (got[i] !== want[i]) assert.fail(`${what}: record ${i} differs:\n  got  ${got[i]}\n  want ${want[i]}`);
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}
