/**
 * SortedIndex: entries ordered by a string sort key (latin1 of the key bytes, so string order
 * is unsigned byte order), kept as a list of sorted chunks (≤ 2·CHUNK entries each) with each
 * chunk's last key alongside — insert is O(log n + CHUNK), a range seek O(log n).
 *
 * Invariants: chunks are non-empty and sorted; chunk i's keys are ≤ chunk i+1's; maxes[i] is
 * chunk i's last key. Entries are never removed one by one: owners flag them dead and call
 * compact() once dead ones dominate (amortized O(1) per delete).
 * Concurrency: one thread. Iterators survive mutation: when the index's version changed since
 * their last step they re-seek to the first key after the last one yielded, so an entry is
 * yielded at most once and entries inserted behind the cursor are not revisited.
 */

export interface Indexed {
  sk: string | null;
  live: boolean;
}

const CHUNK = 256;

function lowerBound(keys: readonly string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function chunkLowerBound<E extends Indexed>(chunk: readonly E[], k: string): number {
  let lo = 0;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((chunk[mid].sk as string) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function chunkUpperBound<E extends Indexed>(chunk: readonly E[], k: string): number {
  let lo = 0;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((chunk[mid].sk as string) <= k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedIndex<E extends Indexed> {
  private chunks: E[][] = [];
  private maxes: string[] = [];
  private count = 0;
  private version = 0;

  get size(): number {
    return this.count;
  }

  insert(e: E): void {
    const k = e.sk as string;
    this.version++;
    this.count++;
    if (this.chunks.length === 0) {
      this.chunks.push([e]);
      this.maxes.push(k);
      return;
    }
    let ci = lowerBound(this.maxes, k);
    if (ci === this.chunks.length) ci--;
    const chunk = this.chunks[ci];
    const pos = chunkUpperBound(chunk, k);
    chunk.splice(pos, 0, e);
    if (pos === chunk.length - 1) this.maxes[ci] = k;
    if (chunk.length > 2 * CHUNK) {
      const tail = chunk.splice(CHUNK);
      this.chunks.splice(ci + 1, 0, tail);
      this.maxes.splice(ci, 1, chunk[chunk.length - 1].sk as string, tail[tail.length - 1].sk as string);
    }
  }

  /** Replaces the content with `sorted` (ascending, live entries), e.g. after a bulk merge. */
  rebuild(sorted: E[]): void {
    this.version++;
    this.chunks = [];
    this.maxes = [];
    for (let i = 0; i < sorted.length; i += CHUNK) {
      const c = sorted.slice(i, i + CHUNK);
      this.chunks.push(c);
      this.maxes.push(c[c.length - 1].sk as string);
    }
    this.count = sorted.length;
  }

  /** Throws if an invariant is broken (tests call it; O(n)). */
  checkInvariants(): void {
    let prev: string | undefined;
    let n = 0;
    if (this.maxes.length !== this.chunks.length)
      throw new Error('SortedIndex: maxes/chunks length mismatch');
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i];
      if (c.length === 0) throw new Error(`SortedIndex: chunk ${i} is empty`);
      for (const e of c) {
        if (prev !== undefined && (e.sk as string) < prev)
          throw new Error(`SortedIndex: out of order at chunk ${i}`);
        prev = e.sk as string;
      }
      if (this.maxes[i] !== c[c.length - 1].sk) throw new Error(`SortedIndex: stale max of chunk ${i}`);
      n += c.length;
    }
    if (n !== this.count) throw new Error(`SortedIndex: size ${this.count} but ${n} entries`);
  }

  /** Every entry (dead ones included) in order. */
  *entries(): Iterable<E> {
    for (const c of this.chunks) yield* c;
  }

  /** Drops dead entries. */
  compact(): void {
    const live: E[] = [];
    for (const c of this.chunks) for (const e of c) if (e.live) live.push(e);
    this.rebuild(live);
  }

  clear(): void {
    this.rebuild([]);
  }

  /** Entries with lo ≤ sk ≤ hi (either bound optional), dead ones included, in order. */
  *range(lo: string | undefined, hi: string | undefined): Iterable<E> {
    let version = this.version;
    let last: string | undefined;
    let ci = lo === undefined ? 0 : Math.min(lowerBound(this.maxes, lo), this.chunks.length);
    let pi = ci < this.chunks.length && lo !== undefined ? chunkLowerBound(this.chunks[ci], lo) : 0;
    while (ci < this.chunks.length) {
      const chunk = this.chunks[ci];
      if (pi >= chunk.length) {
        ci++;
        pi = 0;
        continue;
      }
      const e = chunk[pi++];
      const k = e.sk as string;
      if (hi !== undefined && k > hi) return;
      last = k;
      yield e;
      if (this.version !== version) {
        // Mutated while suspended: find the first key after the last one yielded.
        version = this.version;
        ci = Math.min(lowerBound(this.maxes, last), this.chunks.length);
        if (ci === this.chunks.length) return;
        pi = chunkUpperBound(this.chunks[ci], last);
      }
    }
  }
}
