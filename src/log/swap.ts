/**
 * Finishing compaction swaps after a crash (Kafka's `.swap` protocol).
 *
 * The cleaner writes `<base>.log.cleaned`, fsyncs it and renames it to `<base>.log.swap`
 * (the commit point), then deletes the segments it replaces and renames the swap file to
 * `<base>.log`. On open, a `.swap` file means the commit happened: every `.log` segment whose
 * base offset lies in [base, swap's next offset) is deleted with its indexes and the swap file
 * takes its final name. `.cleaned` files (not committed) are simply deleted by the caller.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { BATCH_HEADER_SIZE, readBatchHeader } from '../protocol/index.js';
import { fsyncDir, offsetFileStem, unlinkIfExists } from './fs-util.js';

/** Next offset after the last whole batch of a (trusted, fsynced) segment file. */
function nextOffsetOf(path: string, base: number): number {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
    let pos = 0;
    let next = base;
    while (pos + BATCH_HEADER_SIZE <= size) {
      if (readSync(fd, head, 0, BATCH_HEADER_SIZE, pos) < BATCH_HEADER_SIZE) break;
      const h = readBatchHeader(head, 0);
      if (h.size < BATCH_HEADER_SIZE || pos + h.size > size) break;
      next = h.lastOffset + 1;
      pos += h.size;
    }
    return next;
  } finally {
    closeSync(fd);
  }
}

export function completeSwaps(dir: string): number {
  let done = 0;
  for (const f of readdirSync(dir)) {
    const m = /^(\d{20})\.log\.swap$/.exec(f);
    if (!m) continue;
    const base = Number(m[1]);
    const swapPath = join(dir, f);
    const next = nextOffsetOf(swapPath, base);
    for (const g of readdirSync(dir)) {
      const s = /^(\d{20})\.log$/.exec(g);
      if (!s) continue;
      const b = Number(s[1]);
      if (b >= base && (b < next || b === base)) {
        const stem = join(dir, offsetFileStem(b));
        unlinkIfExists(`${stem}.log`);
        unlinkIfExists(`${stem}.index`);
        unlinkIfExists(`${stem}.timeindex`);
      }
    }
    unlinkIfExists(join(dir, `${offsetFileStem(base)}.index`));
    unlinkIfExists(join(dir, `${offsetFileStem(base)}.timeindex`));
    renameSync(swapPath, join(dir, `${offsetFileStem(base)}.log`));
    done++;
  }
  if (done > 0) fsyncDir(dir);
  return done;
}
