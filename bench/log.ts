/**
 * Log benchmark: append, read and compaction throughput of PartitionLog, each beside a
 * baseline measured in the same run on the same disk (plain sequential fs writes / reads of
 * the same bytes). Prints ONE JSON object. Run: node --import tsx bench/log.ts
 *
 * Workloads: 1 KiB and 100-byte records in ~64 KiB uncompressed batches (pre-encoded: the
 * producer's work is not the log's), durability flush.ms = 1000 (fsync every second, appends
 * acknowledged on that fsync; the run ends with a flush so both sides include a final fsync).
 * Read: whole log from offset 0 in 1 MiB fetches (page cache, as the raw read). Compaction:
 * 1 KiB records over 20k keys, every inactive segment cleaned. Medians of BENCH_REPS runs
 * (default 5, after one discarded warm-up) of BENCH_MB MiB (default 128). Env BENCH_DIR picks the disk (default tmpdir).
 * Beside the wall-clock ratio, append also reports CPU seconds (process.cpuUsage, all threads)
 * of both sides and their ratio: on a shared machine wall time swings with other load, CPU time
 * much less; the raw side's fsync wait is wall time only, so cpuRatio is the stricter figure.
 * perAppendOverhead: CPU µs per append of one-record batches against validate + write alone.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PartitionLog } from '../src/log/index.js';
import {
  crc32c,
  crc32cImplementation,
  crc32cJs,
  encodeRecordBatch,
  readBatchHeader,
  validateBatches,
} from '../src/protocol/index.js';
import { quantile } from './support/stats.js';

const MiB = 1024 * 1024;
const TOTAL = Number(process.env.BENCH_MB ?? 128) * MiB;
const REPS = Number(process.env.BENCH_REPS ?? 5);
const BASE = process.env.BENCH_DIR ?? tmpdir();
const BATCH_BYTES = 64 * 1024;
const READ_CHUNK = MiB;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** ~64 KiB batches of `recordSize`-byte values; `distinct` templates, cycled. */
function makeBatches(
  recordSize: number,
  distinct = 32,
  keys?: number,
): { batches: Buffer[]; recordsPerBatch: number } {
  const perBatch = Math.max(1, Math.floor((BATCH_BYTES - 61) / (recordSize + 12 + (keys ? 8 : 0))));
  const batches: Buffer[] = [];
  let k = 0;
  for (let b = 0; b < distinct; b++) {
    const records = [];
    for (let r = 0; r < perBatch; r++) {
      const value = Buffer.allocUnsafe(recordSize);
      for (let i = 0; i < recordSize; i++) value[i] = (i * 131 + r * 7 + b) & 0xff;
      records.push({
        key: keys ? Buffer.from(`k${(k++ * 7919) % keys}`.padStart(7, '0')) : null,
        value,
        timestamp: 1_700_000_000_000 + b,
      });
    }
    batches.push(encodeRecordBatch({ records }));
  }
  return { batches, recordsPerBatch: perBatch };
}

/** CPU seconds (user + system, every thread of this process) since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

/** Last rawWrite's CPU seconds (wall time is its return value). */
let rawWriteCpu = 0;

function rawWrite(path: string, batches: Buffer[], count: number): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const fd = openSync(path, 'w');
  let pos = 0;
  let lastSync = t0;
  for (let i = 0; i < count; i++) {
    const b = batches[i % batches.length] as Buffer;
    writeSync(fd, b, 0, b.length, pos);
    pos += b.length;
    const now = performance.now();
    if (now - lastSync >= 1000) {
      fsyncSync(fd);
      lastSync = now;
    }
  }
  fsyncSync(fd);
  closeSync(fd);
  rawWriteCpu = cpuSince(c0);
  return (performance.now() - t0) / 1000;
}

function rawRead(path: string, bytes: number): number {
  const t0 = performance.now();
  const fd = openSync(path, 'r');
  let pos = 0;
  while (pos < bytes) {
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    const n = readSync(fd, buf, 0, READ_CHUNK, pos);
    if (n === 0) break;
    pos += n;
  }
  closeSync(fd);
  return (performance.now() - t0) / 1000;
}

async function logAppend(
  dir: string,
  batches: Buffer[],
  count: number,
  config: Record<string, unknown> = {},
): Promise<{ seconds: number; cpuSeconds: number; log: PartitionLog; callMicros: number[] }> {
  const log = await PartitionLog.open(dir, {
    topic: 'bench',
    partition: 0,
    config: { 'flush.ms': 1000, ...config },
  });
  const callMicros: number[] = [];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const acks: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const c0 = performance.now();
    acks.push(log.append(batches[i % batches.length] as Buffer));
    if ((i & 15) === 0) callMicros.push((performance.now() - c0) * 1000);
  }
  await log.flush();
  await Promise.all(acks);
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, cpuSeconds: cpuSince(c0), log, callMicros };
}

function logRead(log: PartitionLog): { seconds: number; bytes: number } {
  const t0 = performance.now();
  let offset = 0;
  let bytes = 0;
  while (offset < log.logEndOffset) {
    const { records } = log.read(offset, { maxBytes: READ_CHUNK });
    if (records.length === 0) break;
    bytes += records.length;
    // What a consumer does: find the last batch to know the next offset.
    let pos = 0;
    let last = 0;
    while (pos < records.length) {
      last = pos;
      pos += records.readInt32BE(pos + 8) + 12;
    }
    offset = readBatchHeader(records, last).lastOffset + 1;
  }
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

interface Rep {
  appendSec: number;
  rawWriteSec: number;
  appendCpuSec: number;
  rawWriteCpuSec: number;
  readSec: number;
  rawReadSec: number;
  callMicros: number[];
}

async function appendReadWorkload(recordSize: number) {
  const { batches, recordsPerBatch } = makeBatches(recordSize);
  const batchSize = (batches[0] as Buffer).length;
  const count = Math.floor(TOTAL / batchSize);
  const bytes = count * batchSize;
  const reps: Rep[] = [];
  // Repetition -1 warms up the JIT, the allocator and the file system for both sides; discarded.
  for (let r = -1; r < REPS; r++) {
    const dir = mkdtempSync(join(BASE, 'sluice-bench-'));
    try {
      // Alternate the order so neither side always gets the warmer cache / emptier disk queue.
      let rawWriteSec: number;
      let a: Awaited<ReturnType<typeof logAppend>>;
      if ((r + 2) % 2 === 0) {
        rawWriteSec = rawWrite(join(dir, 'raw'), batches, count);
        a = await logAppend(join(dir, 'log'), batches, count);
      } else {
        a = await logAppend(join(dir, 'log'), batches, count);
        rawWriteSec = rawWrite(join(dir, 'raw'), batches, count);
      }
      const rawWriteCpuSec = rawWriteCpu;
      let rawReadSec: number;
      let rd: { seconds: number; bytes: number };
      if ((r + 2) % 2 === 0) {
        rawReadSec = rawRead(join(dir, 'raw'), bytes);
        rd = logRead(a.log);
      } else {
        rd = logRead(a.log);
        rawReadSec = rawRead(join(dir, 'raw'), bytes);
      }
      if (rd.bytes !== bytes) throw new Error(`read ${rd.bytes} bytes, appended ${bytes}`);
      await a.log.close();
      if (r < 0) continue;
      reps.push({
        appendSec: a.seconds,
        rawWriteSec,
        appendCpuSec: a.cpuSeconds,
        rawWriteCpuSec,
        readSec: rd.seconds,
        rawReadSec,
        callMicros: a.callMicros,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const appendSec = median(reps.map((x) => x.appendSec));
  const rawWriteSec = median(reps.map((x) => x.rawWriteSec));
  const readSec = median(reps.map((x) => x.readSec));
  const rawReadSec = median(reps.map((x) => x.rawReadSec));
  const callsSorted = reps.flatMap((x) => x.callMicros).sort((a, b) => a - b);
  const mb = bytes / MiB;
  return {
    recordBytes: recordSize,
    batchBytes: batchSize,
    recordsPerBatch,
    batches: count,
    records: count * recordsPerBatch,
    mebibytes: Math.round(mb),
    append: {
      seconds: round(appendSec),
      mbPerSec: round(mb / appendSec),
      recordsPerSec: Math.round((count * recordsPerBatch) / appendSec),
      baselineRawWriteMbPerSec: round(mb / rawWriteSec),
      /** Median of the per-repetition ratios (each pair measured back to back). */
      ratio: round(median(reps.map((x) => x.rawWriteSec / x.appendSec))),
      /**
       * CPU seconds (all threads) of each side, and their ratio (raw / log): what the append
       * path costs beyond the write itself, less sensitive to other load than wall time.
       */
      cpuSeconds: round(median(reps.map((x) => x.appendCpuSec))),
      baselineRawWriteCpuSeconds: round(median(reps.map((x) => x.rawWriteCpuSec))),
      cpuRatio: round(median(reps.map((x) => x.rawWriteCpuSec / x.appendCpuSec))),
      appendCallMicros: { p50: round(quantile(callsSorted, 0.5)), p99: round(quantile(callsSorted, 0.99)) },
      perRep: reps.map((x) => ({ log: round(mb / x.appendSec), raw: round(mb / x.rawWriteSec) })),
    },
    read: {
      seconds: round(readSec),
      mbPerSec: round(mb / readSec),
      baselineRawReadMbPerSec: round(mb / rawReadSec),
      ratio: round(median(reps.map((x) => x.rawReadSec / x.readSec))),
      perRep: reps.map((x) => ({ log: round(mb / x.readSec), raw: round(mb / x.rawReadSec) })),
    },
  };
}

async function compactionWorkload() {
  const { batches } = makeBatches(1024, 64, 20_000);
  const batchSize = (batches[0] as Buffer).length;
  const count = Math.floor(Math.min(TOTAL, 64 * MiB) / batchSize);
  const results: { sec: number; bytes: number; baseSec: number; after: number }[] = [];
  for (let r = 0; r < REPS; r++) {
    const dir = mkdtempSync(join(BASE, 'sluice-bench-'));
    try {
      const a = await logAppend(join(dir, 'log'), batches, count, {
        'cleanup.policy': 'compact',
        'segment.bytes': 8 * MiB,
        'min.cleanable.dirty.ratio': 0,
      });
      const log = a.log;
      const t0 = performance.now();
      const cleaned = await log.compact();
      const sec = (performance.now() - t0) / 1000;
      const after = log.size;
      await log.close();
      // Baseline: read the same bytes and write them once, sequentially, with a final fsync.
      const raw = join(dir, 'raw');
      rawWrite(raw, batches, Math.floor(cleaned / batchSize));
      const b0 = performance.now();
      const fd = openSync(raw, 'r');
      const out = openSync(join(dir, 'raw-copy'), 'w');
      let pos = 0;
      for (;;) {
        const buf = Buffer.allocUnsafe(READ_CHUNK);
        const n = readSync(fd, buf, 0, READ_CHUNK, pos);
        if (n === 0) break;
        writeSync(out, buf, 0, n, pos);
        pos += n;
      }
      fsyncSync(out);
      closeSync(fd);
      closeSync(out);
      results.push({ sec, bytes: cleaned, baseSec: (performance.now() - b0) / 1000, after });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const sec = median(results.map((x) => x.sec));
  const baseSec = median(results.map((x) => x.baseSec));
  const mb = (results[0] as { bytes: number }).bytes / MiB;
  return {
    cleanedMebibytes: round(mb),
    sizeAfterMebibytes: round((results[0] as { after: number }).after / MiB),
    seconds: round(sec),
    mbPerSec: round(mb / sec),
    baselineRawCopyMbPerSec: round(mb / baseSec),
    ratio: round(median(results.map((x) => x.baseSec / x.sec))),
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function crcRates(): { implementation: string; activeMbPerSec: number; jsMbPerSec: number } {
  const b = Buffer.allocUnsafe(64 * 1024);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31) & 0xff;
  const rate = (f: (x: Buffer) => number) => {
    const secs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      for (let i = 0; i < 500; i++) f(b);
      secs.push((performance.now() - t) / 1000);
    }
    return round((500 * b.length) / MiB / median(secs));
  };
  return {
    implementation: crc32cImplementation,
    activeMbPerSec: rate((x) => crc32c(x)),
    jsMbPerSec: rate((x) => crc32cJs(x)),
  };
}

/**
 * The append path's own cost: CPU microseconds per append of a one-record batch (where CRC and
 * write are tiny), against a loop doing only what Kafka requires of it (validate: CRC, header)
 * plus the positional write. Same flush.ms; medians of REPS runs of 100 000 appends.
 */
async function perAppendOverhead() {
  const n = 100_000;
  const one = encodeRecordBatch({ records: [{ key: null, value: Buffer.alloc(100, 7), timestamp: 1 }] });
  const logUs: number[] = [];
  const rawUs: number[] = [];
  for (let r = -1; r < REPS; r++) {
    const dir = mkdtempSync(join(BASE, 'sluice-bench-'));
    try {
      const log = await PartitionLog.open(join(dir, 'log'), {
        topic: 'bench',
        partition: 0,
        config: { 'flush.ms': 1000 },
      });
      let c0 = process.cpuUsage();
      const acks: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) acks.push(log.append(Buffer.from(one)));
      await log.flush();
      await Promise.all(acks);
      const logSec = cpuSince(c0);
      await log.close();
      c0 = process.cpuUsage();
      const fd = openSync(join(dir, 'raw'), 'w');
      let pos = 0;
      for (let i = 0; i < n; i++) {
        const b = Buffer.from(one);
        validateBatches(b);
        writeSync(fd, b, 0, b.length, pos);
        pos += b.length;
      }
      fsyncSync(fd);
      closeSync(fd);
      const rawSec = cpuSince(c0);
      if (r < 0) continue;
      logUs.push((logSec * 1e6) / n);
      rawUs.push((rawSec * 1e6) / n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    appendCpuMicros: round(median(logUs)),
    baselineValidateWriteCpuMicros: round(median(rawUs)),
    overheadMicros: round(median(logUs.map((x, i) => x - (rawUs[i] as number)))),
  };
}

const t0 = performance.now();
const crc = crcRates();
const overhead = await perAppendOverhead();
const kib = await appendReadWorkload(1024);
const small = await appendReadWorkload(100);
const compaction = await compactionWorkload();
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify(
    {
      name: 'log',
      events: kib.records + small.records,
      seconds: round(seconds),
      rate: Math.round((kib.records + small.records) / (kib.append.seconds + small.append.seconds)),
      repetitions: REPS,
      flushMs: 1000,
      targets: { appendVsRawWrite: 0.8, readVsRawRead: 0.6 },
      crc32c: crc,
      perAppendOverhead: overhead,
      records1KiB: kib,
      records100B: small,
      compaction,
    },
    null,
    1,
  ),
);
