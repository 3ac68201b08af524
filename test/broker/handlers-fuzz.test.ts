/**
 * Every handler under fire: a live KafkaServer with the Cluster and group handlers (in-memory
 * LogStore) receives arbitrary well-formed requests of every supported API and version, then
 * mutated ones. Handlers may refuse anything, but none may throw or produce a response that
 * does not encode for the request's version (onHandlerError), and the server keeps answering.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Cluster,
  clusterHandlers,
  FrameSplitter,
  GroupCoordinator,
  groupHandlers,
  KafkaServer,
  MemoryOffsetStore,
} from '../../src/broker/index.js';
import { decodeResponse, encodeRequest, SUPPORTED_APIS } from '../../src/protocol/index.js';
import { bodyArb } from '../protocol/support/arbitrary.js';
import { prng } from '../protocol/support/fuzz.js';
import { MemoryLogStore } from './support/memory-log.js';

describe('handlers under arbitrary and mutated requests', { timeout: 120_000 }, () => {
  let server: KafkaServer;
  let port = 0;
  const failures: string[] = [];
  const coordinator = new GroupCoordinator({ initialRebalanceDelayMs: 0 });

  before(async () => {
    const node = { nodeId: 1, host: '127.0.0.1', port: 0 };
    const cluster = new Cluster({ logs: new MemoryLogStore(), node, autoCreateTopics: true });
    await cluster.createTopic('t', 2);
    server = new KafkaServer({
      port: 0,
      handlers: {
        ...clusterHandlers(cluster),
        ...groupHandlers({
          node,
          coordinator,
          offsets: new MemoryOffsetStore(),
          partitionExists: (t, p) => cluster.partitionExists(t, p),
        }),
      },
      onHandlerError: (err, apiKey, apiVersion) =>
        failures.push(`API ${apiKey} v${apiVersion}: ${String(err)}`),
    });
    node.port = port = (await server.listen()).port;
  });
  after(async () => {
    coordinator.shutdown();
    await server.close();
  });

  /** Sends frames one at a time, reconnecting whenever the server closes the connection. */
  async function exchange(frames: Buffer[]): Promise<number> {
    let answered = 0;
    let closes = 0;
    const open = async (): Promise<Socket> => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      await once(s, 'connect');
      const splitter = new FrameSplitter(64 << 20);
      s.on('data', (d: Buffer) => {
        answered += splitter.push(d).length;
      });
      return s;
    };
    let s = await open();
    for (const f of frames) {
      if (s.destroyed || s.readableEnded) {
        s.destroy();
        s = await open();
        closes++;
      }
      s.write(f);
      const before = answered;
      // Wait for this frame's answer, the close, or 30 ms (acks=0, partial frames).
      for (let i = 0; i < 30 && answered === before && !s.destroyed && !s.readableEnded; i++) {
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    // Let late answers arrive (a loaded machine answers slower than the 30 ms per frame).
    for (let last = -1, i = 0; i < 40 && answered !== last; i++) {
      last = answered;
      await new Promise((r) => setTimeout(r, 50));
    }
    s.destroy();
    return answered + closes;
  }

  it('arbitrary well-formed requests of every API and version: no handler error', async () => {
    const frames: Buffer[] = [];
    for (const api of SUPPORTED_APIS) {
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        if (api.key === 17 || api.key === 36) continue; // SASL is not enabled on this server
        for (const body of fc.sample(bodyArb(api.request, v), { numRuns: 3, seed: api.key * 31 + v })) {
          const b = body as Record<string, unknown>;
          if (api.key === 1) b.maxWaitMs = 0; // no long polls
          frames.push(encodeRequest(api.key as 0, v, frames.length, 'fuzz', b as never));
        }
      }
    }
    const outcomes = await exchange(frames);
    assert.ok(outcomes > frames.length / 4, `${outcomes} answers or closes for ${frames.length} requests`);
    assert.deepEqual(failures, []);
  });

  it('mutated requests: no handler error, and the server still answers', async () => {
    const corpus = SUPPORTED_APIS.flatMap((api) =>
      api.key === 17 || api.key === 36
        ? []
        : fc.sample(bodyArb(api.request, api.maxVersion), { numRuns: 4, seed: api.key }).map((b) => {
            if (api.key === 1) (b as Record<string, unknown>).maxWaitMs = 0;
            return encodeRequest(api.key as 0, api.maxVersion, 1, 'fuzz', b as never);
          }),
    );
    const rnd = prng(5);
    const frames = Array.from({ length: 3000 }, () => {
      const f = Buffer.from(corpus[Math.floor(rnd() * corpus.length)] as Buffer);
      for (let k = 0; k < 2; k++) {
        const p = 12 + Math.floor(rnd() * Math.max(1, f.length - 12));
        if (p < f.length) f[p] = Math.floor(rnd() * 256);
      }
      return f;
    });
    const outcomes = await exchange(frames);
    assert.ok(outcomes > frames.length / 4, `${outcomes} answers or closes for ${frames.length} requests`);
    assert.deepEqual(failures, []);
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    s.write(encodeRequest(18, 3, 7, 'probe', {}));
    const [data] = (await once(s, 'data')) as [Buffer];
    assert.equal(decodeResponse(18, 3, data.subarray(4)).correlationId, 7);
    s.destroy();
  });
});
