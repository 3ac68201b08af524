/**
 * The TCP server against raw sockets and real clients: ApiVersions (including the KIP-511
 * fallback), in-order responses to pipelined requests, no response for a null handler result,
 * and bad input (oversized frames, garbage, unknown APIs, mid-request disconnects, a live fuzz)
 * closing only the offending connection.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameSplitter, KafkaServer } from '../../src/broker/index.js';
import { decodeResponse, encodeRequest, SUPPORTED_APIS } from '../../src/protocol/index.js';
import { buildCorpus, prng } from '../protocol/support/fuzz.js';

class RawClient {
  private readonly splitter = new FrameSplitter(64 * 1024 * 1024);
  private readonly frames: Buffer[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      for (const f of this.splitter.push(c)) this.frames.push(f);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => {});
  }

  static async open(port: number): Promise<RawClient> {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    return new RawClient(s);
  }

  send(b: Buffer): void {
    this.socket.write(b);
  }

  /** Next response frame, or null when the server closed the connection. */
  async next(timeoutMs = 5000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error('no response');
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), sleep(50)]);
    }
    return this.frames.shift() as Buffer;
  }

  async closedByServer(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await sleep(10);
    return this.closed;
  }

  end(): void {
    this.socket.destroy();
  }
}

describe('KafkaServer', { timeout: 60_000 }, () => {
  let server: KafkaServer;
  let port: number;
  const delays = new Map<string, number>();
  let metadataCalls = 0;

  before(async () => {
    server = new KafkaServer({
      port: 0,
      maxRequestBytes: 1024 * 1024,
      handlers: {
        3: async (req) => {
          metadataCalls++;
          const wanted = req.body.topics === null ? ['t'] : req.body.topics.map((t) => t.name ?? '');
          const delay = delays.get(wanted[0] ?? '') ?? 0;
          if (delay > 0) await sleep(delay);
          return {
            brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }],
            clusterId: 'sluice-test',
            controllerId: 1,
            topics: wanted.map((name) => ({
              errorCode: 0,
              name,
              partitions: [{ partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }],
            })),
          };
        },
        12: () => null,
      },
    });
    ({ port } = await server.listen());
  });
  after(async () => {
    await server.close();
  });

  it('advertises exactly the APIs it has handlers for, at the supported ranges', async () => {
    const c = await RawClient.open(port);
    c.send(encodeRequest(18, 3, 11, 'raw', { clientSoftwareName: 'raw', clientSoftwareVersion: '1' }));
    const res = decodeResponse(18, 3, (await c.next()) as Buffer);
    assert.equal(res.correlationId, 11);
    assert.equal(res.body.errorCode, 0);
    const expected = SUPPORTED_APIS.filter((a) => [3, 12, 18].includes(a.key)).map((a) => [
      a.key,
      a.minVersion,
      a.maxVersion,
    ]);
    assert.deepEqual(
      res.body.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]),
      expected,
    );
    c.end();
  });

  it('answers ApiVersions at a version it does not know with v0 UNSUPPORTED_VERSION and the list', async () => {
    const c = await RawClient.open(port);
    const req = encodeRequest(18, 3, 5, 'raw', {});
    req.writeInt16BE(77, 6); // api version 77
    c.send(req);
    const res = decodeResponse(18, 0, (await c.next()) as Buffer);
    assert.equal(res.correlationId, 5);
    assert.equal(res.body.errorCode, 35);
    assert.ok(res.body.apiKeys.some((k) => k.apiKey === 18 && k.maxVersion === 4));
    // The connection stays usable.
    c.send(encodeRequest(18, 0, 6, 'raw', {}));
    assert.equal(decodeResponse(18, 0, (await c.next()) as Buffer).body.errorCode, 0);
    c.end();
  });

  it('answers pipelined requests in order even when the first is slower; a null result sends nothing', async () => {
    delays.set('slow', 150);
    const c = await RawClient.open(port);
    c.send(
      Buffer.concat([
        encodeRequest(3, 9, 1, 'raw', { topics: [{ name: 'slow' }] }),
        encodeRequest(12, 4, 2, 'raw', { groupId: 'g', generationId: 1, memberId: 'm' }),
        encodeRequest(3, 9, 3, 'raw', { topics: [{ name: 'fast' }] }),
      ]),
    );
    const first = decodeResponse(3, 9, (await c.next()) as Buffer);
    const second = decodeResponse(3, 9, (await c.next()) as Buffer);
    assert.equal(first.correlationId, 1);
    assert.equal(first.body.topics[0]?.name, 'slow');
    assert.equal(second.correlationId, 3);
    assert.equal(second.body.topics[0]?.name, 'fast');
    c.end();
  });

  it('closes only the offending connection on oversized frames, garbage, unknown APIs and unsupported versions', async () => {
    const bystander = await RawClient.open(port);
    const oversized = Buffer.alloc(8);
    oversized.writeInt32BE(512 * 1024 * 1024, 0);
    const garbageBody = Buffer.concat([
      encodeRequest(3, 9, 1, 'raw', {}).subarray(0, 14),
      Buffer.alloc(4, 0xff),
    ]);
    garbageBody.writeInt32BE(garbageBody.length - 4, 0);
    const unknownApi = encodeRequest(3, 1, 1, 'raw', {});
    unknownApi.writeInt16BE(4242, 4);
    const noHandler = encodeRequest(19, 4, 1, 'raw', { topics: [], timeoutMs: 1 }); // CreateTopics: not registered
    const tooNew = encodeRequest(3, 1, 1, 'raw', {});
    tooNew.writeInt16BE(99, 6);
    for (const bad of [
      oversized,
      garbageBody,
      unknownApi,
      noHandler,
      tooNew,
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
    ]) {
      const c = await RawClient.open(port);
      c.send(bad);
      assert.equal(await c.closedByServer(), true, `closed after ${bad.subarray(0, 12).toString('hex')}`);
    }
    bystander.send(encodeRequest(18, 2, 9, 'raw', {}));
    assert.equal(decodeResponse(18, 2, (await bystander.next()) as Buffer).correlationId, 9);
    bystander.end();
  });

  it('survives clients that disconnect mid-request and keeps no connection behind', async () => {
    for (let i = 0; i < 20; i++) {
      const c = await RawClient.open(port);
      const req = encodeRequest(3, 9, i, 'raw', { topics: [{ name: 'slow' }] });
      c.send(i % 2 === 0 ? req.subarray(0, 1 + (i % req.length)) : req); // half a frame, or a whole slow one
      c.end();
    }
    const deadline = Date.now() + 5000;
    while (server.connectionCount > 0 && Date.now() < deadline) await sleep(20);
    assert.equal(server.connectionCount, 0);
  });

  it('stays up under a live fuzz of mutated frames', async () => {
    const corpus = buildCorpus(1, 7).filter((f) => [3, 12, 18].includes(f.readInt16BE(0)));
    const rnd = prng(3);
    let c = await RawClient.open(port);
    let sent = 0;
    let reconnects = 0;
    for (let i = 0; i < 3000; i++) {
      const src = Buffer.from(corpus[Math.floor(rnd() * corpus.length)] as Buffer);
      for (let k = 0; k < 2; k++) {
        const p = 8 + Math.floor(rnd() * Math.max(1, src.length - 8));
        if (p < src.length) src[p] = Math.floor(rnd() * 256);
      }
      const f = Buffer.alloc(4 + src.length);
      f.writeInt32BE(src.length, 0);
      src.copy(f, 4);
      if (c.closed) {
        c = await RawClient.open(port);
        reconnects++;
      }
      c.send(f);
      sent++;
      if (i % 100 === 0) await sleep(1);
    }
    c.end();
    const probe = await RawClient.open(port);
    probe.send(encodeRequest(18, 3, 1, 'probe', {}));
    assert.equal(decodeResponse(18, 3, (await probe.next()) as Buffer).body.errorCode, 0);
    probe.end();
    assert.equal(sent, 3000);
    assert.ok(reconnects > 0, 'some mutated frames were rejected');
  });

  it('a client that does not read its responses stops being read; all answers then arrive in order', {
    timeout: 30_000,
  }, async (t) => {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    s.pause(); // read nothing for now
    // ~250 KB responses: 200 of them (~50 MB) exceed what the kernel's socket buffers hold.
    const big = encodeRequest(3, 9, 0, 'raw', {
      topics: Array.from({ length: 5000 }, (_, i) => ({ name: `topic-${i}` })),
    });
    const N = 200;
    const callsBefore = metadataCalls;
    for (let i = 0; i < N; i++) {
      const f = Buffer.from(big);
      f.writeInt32BE(i, 8); // correlation id
      s.write(f);
    }
    await sleep(1500);
    const handledWhileBlocked = metadataCalls - callsBefore;
    t.diagnostic(`handled while the client read nothing: ${handledWhileBlocked} of ${N}`);
    const splitter = new FrameSplitter(64 << 20);
    const ids: number[] = [];
    s.on('data', (d: Buffer) => {
      for (const f of splitter.push(d)) ids.push(f.readInt32BE(0));
    });
    s.resume();
    const deadline = Date.now() + 25_000;
    while (ids.length < N && Date.now() < deadline) await sleep(50);
    s.destroy();
    assert.ok(
      handledWhileBlocked < N * 0.8,
      `server handled ${handledWhileBlocked} of ${N} requests for a client that read nothing`,
    );
    assert.deepEqual(
      ids,
      Array.from({ length: N }, (_, i) => i),
    );
  });

  it('serves kcat -L (librdkafka) through the real server', { timeout: 15_000 }, async () => {
    const child = spawn('kcat', ['-L', '-J', '-b', `127.0.0.1:${port}`, '-t', 'orders', '-m', '8'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const [code] = (await Promise.race([once(child, 'close'), sleep(12_000).then(() => [-1])])) as [number];
    child.kill('SIGKILL');
    assert.equal(code, 0);
    const md = JSON.parse(out) as { topics: { topic: string }[]; brokers: { id: number }[] };
    assert.equal(md.topics[0]?.topic, 'orders');
    assert.deepEqual(
      md.brokers.map((b) => b.id),
      [1],
    );
  });
});
