/**
 * Chaos: real processes killed with SIGKILL mid-append, and segment tails damaged at random
 * byte positions. After reopening, every acknowledged record must be present and
 * byte-identical, and nothing but whole, CRC-valid batches may be readable.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readdirSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PartitionLog } from '../../src/log/index.js';
import { decodeRecordBatch, validateBatch } from '../../src/protocol/index.js';
import { batch, kv, openLog, tempDir } from './helpers.js';

const CHILD = new URL('./fixtures/append-child.ts', import.meta.url).pathname;

/** Reads the whole log, checking every returned batch; returns offset -> value sha1. */
function readVerified(log: PartitionLog): Map<number, { sha: string; value: Buffer }> {
  const out = new Map<number, { sha: string; value: Buffer }>();
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const { records } = log.read(next, { maxBytes: 256 * 1024 });
    assert.ok(records.length > 0, `read at ${next} returned nothing below the log end ${log.logEndOffset}`);
    let pos = 0;
    while (pos < records.length) {
      const h = validateBatch(records, pos); // throws on any garbage
      assert.ok(h.baseOffset >= next || pos === 0, 'batches are in offset order');
      for (const r of decodeRecordBatch(records, pos).records) {
        assert.ok(!out.has(r.offset), `offset ${r.offset} read twice`);
        out.set(r.offset, {
          sha: createHash('sha1').update(r.value!).digest('hex'),
          value: Buffer.from(r.value!),
        });
      }
      next = h.lastOffset + 1;
      pos += h.size;
    }
  }
  return out;
}

function runChild(dir: string, round: number, killAfterMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(round)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      if (!killed && buf.startsWith('open')) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.on('error', reject);
    child.on('exit', () => {
      // Only complete lines were acknowledged: a line cut by the kill is not an ack we can trust.
      const lines = buf.split('\n');
      lines.pop();
      resolve(lines);
    });
  });
}

describe('chaos', () => {
  it('survives SIGKILL at random moments: every acknowledged record is intact, no garbage readable', async () => {
    const { dir, cleanup } = tempDir('sluice-chaos-');
    try {
      const acked = new Map<number, string>();
      const rounds = 22;
      let totalAcks = 0;
      for (let round = 0; round < rounds; round++) {
        const lines = await runChild(dir, round, 20 + Math.floor(Math.random() * 400));
        for (const line of lines) {
          const [kind, base, count, sums] = line.split(' ');
          if (kind !== 'ack') continue;
          const shas = (sums as string).split(',');
          assert.equal(shas.length, Number(count));
          shas.forEach((s, i) => {
            acked.set(Number(base) + i, s);
          });
          totalAcks++;
        }
        const log = await PartitionLog.open(dir, {
          topic: 'chaos',
          partition: 0,
          config: { 'flush.ms': -1 },
        });
        const stored = readVerified(log);
        for (const [offset, sha] of acked) {
          const got = stored.get(offset);
          assert.ok(got !== undefined, `round ${round}: acknowledged offset ${offset} is missing`);
          assert.equal(got.sha, sha, `round ${round}: acknowledged offset ${offset} changed`);
        }
        // Dense offsets from the start: nothing lost in the middle.
        for (let o = log.logStartOffset; o < log.logEndOffset; o++)
          assert.ok(stored.has(o), `round ${round}: offset ${o} below the log end is unreadable`);
        // Leave the log as a crash would (no close), half the time.
        if (round % 2 === 0) await log.close();
      }
      assert.ok(totalAcks > rounds, `children acknowledged only ${totalAcks} appends`);
    } finally {
      cleanup();
    }
  });

  it('opens after random tail truncation or corruption and returns only valid batches (property)', async () => {
    const { dir: pristine, cleanup } = tempDir('sluice-corrupt-src-');
    const { dir: work, cleanup: cleanupWork } = tempDir('sluice-corrupt-');
    try {
      const log = await openLog(pristine, { 'segment.bytes': 8 * 1024 });
      for (let i = 0; i < 60; i++)
        await log.append(
          batch([kv(`k${i}`, `value-${i}-${'x'.repeat(i * 7)}`), kv(`k${i}b`, `second-${i}`)], {
            compression: i % 5,
          }),
        );
      const original = readVerified(log);
      await log.close();
      const segments = readdirSync(pristine)
        .filter((f) => f.endsWith('.log'))
        .sort();
      const last = segments[segments.length - 1] as string;
      const prev = segments[segments.length - 2] as string;

      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('truncate', 'overwrite', 'append-garbage', 'truncate-keep-marker'),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.uint8Array({ minLength: 1, maxLength: 300 }),
          fc.boolean(),
          async (mode, where, garbage, hitPrevious) => {
            rmSync(work, { recursive: true, force: true });
            cpSync(pristine, work, { recursive: true });
            // The previous segment is only damaged in a crash (no marker) before its roll
            // completed: emulate by removing its successors so it is the active one.
            let target = last;
            if (hitPrevious) {
              unlinkSync(join(work, last));
              target = prev;
            }
            if (mode !== 'truncate-keep-marker' || hitPrevious) {
              if (existsSync(join(work, 'clean-shutdown'))) unlinkSync(join(work, 'clean-shutdown'));
            }
            const fd = openSync(join(work, target), 'r+');
            const size = fstatSync(fd).size;
            const at = Math.floor(where * size);
            if (mode === 'truncate' || mode === 'truncate-keep-marker') ftruncateSync(fd, at);
            else if (mode === 'overwrite') writeSync(fd, garbage, 0, garbage.length, at);
            else writeSync(fd, garbage, 0, garbage.length, size);
            closeSync(fd);

            const reopened = await openLog(work, { 'segment.bytes': 8 * 1024 });
            const stored = readVerified(reopened);
            for (const [o, v] of stored) {
              const want = original.get(o);
              assert.ok(want !== undefined, `offset ${o} did not exist before the damage`);
              assert.equal(v.sha, want.sha, `offset ${o} reads different bytes`);
            }
            for (let o = reopened.logStartOffset; o < reopened.logEndOffset; o++)
              assert.ok(stored.has(o), `offset ${o} lost below the log end`);
            // The log stays writable where the valid data ends.
            const r = await reopened.append(batch([kv('after', 'damage')]));
            assert.equal(
              r.baseOffset,
              stored.size === 0 ? reopened.logStartOffset : Math.max(...stored.keys()) + 1,
            );
            await reopened.close();
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      cleanup();
      cleanupWork();
    }
  });
});
