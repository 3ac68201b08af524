/**
 * Bad input changes no stored data: a Broker on the real log (temporary data directory) holds
 * known records; then raw clients send truncated frames, lengths above the limit, unknown API
 * keys, unsupported versions, garbage bytes, requests cut off mid-frame, and Produce requests
 * whose batches are corrupt (flipped byte: CRC mismatch, wrong magic, truncated batch, a length
 * field past the end, no batch at all). Corrupt produces are refused with a Kafka error code;
 * the rest close their connection. Afterwards every partition reads back the same bytes, the
 * offsets are unchanged, the files under the data directory are byte-identical, and the broker
 * still answers a well-formed request.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Broker, resolveBrokerConfig } from '../../src/broker/index.js';
import { decodeResponse, encodeRecordBatch, encodeRequest } from '../../src/protocol/index.js';
import { RawClient } from './support/raw-client.js';
import { tempDir } from './support/temp-log.js';

function fileDigests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      // .lock and clean-shutdown markers describe the process, not data (removed on open, rewritten on close)
      else if (name !== '.lock' && name !== 'clean-shutdown')
        out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

function produceFrame(correlationId: number, topic: string, records: Buffer | null): Buffer {
  return encodeRequest(0, 9, correlationId, 'bad', {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  });
}

describe('bad input leaves stored data unchanged (real log)', { timeout: 60_000 }, () => {
  it('refuses corrupt batches and closes bad connections; the data directory is byte-identical', async () => {
    const tmp = tempDir();
    const config = resolveBrokerConfig({
      flags: { port: 0, dataDir: tmp.dir, maxRequestBytes: 64 * 1024, autoCreateTopics: false },
    });
    let broker = await Broker.start(config);
    try {
      await broker.cluster.createTopic('kept', 2);
      const good = (i: number) =>
        encodeRecordBatch({
          records: Array.from({ length: 10 }, (_, j) => ({
            key: Buffer.from(`k${i}-${j}`),
            value: Buffer.from(`v${i}-${j}`),
            headers: [{ key: 'h', value: Buffer.from('x') }],
            timestamp: 1_700_000_000_000 + j,
          })),
        });
      for (let p = 0; p < 2; p++)
        for (let i = 0; i < 3; i++) {
          const r = await broker.cluster.produce('kept', p, good(i));
          assert.equal(r.errorCode, 0);
        }
      // a clean restart so every file (indexes, snapshots, markers) is at rest before the snapshot
      await broker.close();
      broker = await Broker.start(config);
      const port = broker.address.port;
      const readAll = () =>
        [0, 1].map((p) => {
          const log = broker.logs.getLog('kept', p);
          return {
            end: log.logEndOffset,
            start: log.logStartOffset,
            bytes: log.read(0, { maxBytes: 1 << 20 }).records,
          };
        });
      const before = readAll();
      const filesBefore = fileDigests(tmp.dir);

      // 1. corrupt Produce requests: each refused with an error code, nothing appended
      const corrupt: [string, Buffer | null][] = [];
      const crc = good(9);
      crc[crc.length - 3] ^= 0xff; // a record byte: CRC mismatch
      corrupt.push(['crc', crc]);
      const magic = good(9);
      magic[16] = 7;
      corrupt.push(['magic', magic]);
      corrupt.push(['truncated batch', good(9).subarray(0, 40)]);
      const long = Buffer.from(good(9));
      long.writeInt32BE(1 << 20, 8); // batchLength past the end
      corrupt.push(['length past end', long]);
      corrupt.push(['no batch', null]);
      corrupt.push(['garbage records', Buffer.alloc(100, 0xab)]);
      const client = await RawClient.open(port);
      let id = 100;
      for (const [what, records] of corrupt) {
        client.send(produceFrame(++id, 'kept', records));
        const frame = await client.next();
        assert.ok(frame !== null, `${what}: answered`);
        const res = decodeResponse(0, 9, frame).body;
        const code = res.responses[0]?.partitionResponses[0]?.errorCode;
        assert.ok(code !== undefined && code !== 0, `${what}: refused with a Kafka error code (got ${code})`);
      }
      client.end();

      // 2. malformed frames: the connection is closed
      const oversized = Buffer.alloc(8);
      oversized.writeInt32BE(1 << 30, 0);
      const unknownApi = produceFrame(1, 'kept', good(9));
      unknownApi.writeInt16BE(4242, 4);
      const tooNew = produceFrame(2, 'kept', good(9));
      tooNew.writeInt16BE(99, 6);
      const truncatedBody = produceFrame(3, 'kept', good(9));
      const cut = truncatedBody.subarray(0, 40);
      cut.writeInt32BE(36, 0); // a complete frame whose body ends early
      for (const [what, bytes] of [
        ['oversized length', oversized],
        ['unknown api key', unknownApi],
        ['unsupported version', tooNew],
        ['truncated body', cut],
        ['garbage', Buffer.from('\x00\x00\x00\x10GARBAGEGARBAGE!!')],
      ] as const) {
        const c = await RawClient.open(port);
        c.send(bytes);
        assert.equal(await c.closedByServer(), true, `${what}: connection closed`);
      }
      // 3. requests cut off mid-frame by a client that goes away
      for (let i = 0; i < 10; i++) {
        const c = await RawClient.open(port);
        const f = produceFrame(10 + i, 'kept', good(9));
        c.send(f.subarray(0, 4 + Math.floor(((f.length - 4) * i) / 10)));
        c.end();
      }
      await sleep(200);

      // still serving
      const ok = await RawClient.open(port);
      ok.send(encodeRequest(18, 2, 77, 'ok', {}));
      assert.equal(decodeResponse(18, 2, (await ok.next()) as Buffer).correlationId, 77);
      ok.end();

      assert.deepEqual(readAll(), before, 'every partition reads back the same bytes and offsets');
      await broker.close();
      assert.deepEqual(fileDigests(tmp.dir), filesBefore, 'the data directory is byte-identical');
    } finally {
      await broker.close().catch(() => undefined);
      tmp.remove();
    }
  });
});
