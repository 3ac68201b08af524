/**
 * Timer queues: a binary min-heap by time, and the per-operator TimerService that keys timers
 * by (key, time) the way Flink's InternalTimerService does.
 *
 * Format: the heap stores times and payloads in two parallel arrays (no object per entry).
 * Invariants: a (key, time) pair is registered at most once; deleting marks it and the heap
 * drops it lazily on pop; timers fire in time order, ties in registration order is NOT
 * guaranteed (heap), ties by key are unordered. Registering a timer at or before the current
 * time fires it at the next advance.
 * Concurrency: single-threaded, owned by one operator in one task.
 */

export class TimerHeap<T> {
  private times: number[] = [];
  private items: T[] = [];

  get size(): number {
    return this.times.length;
  }

  peekTime(): number {
    return this.times.length === 0 ? Number.POSITIVE_INFINITY : this.times[0];
  }

  push(time: number, item: T): void {
    const times = this.times;
    const items = this.items;
    let i = times.length;
    times.push(time);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] <= time) break;
      times[i] = times[parent];
      items[i] = items[parent];
      i = parent;
    }
    times[i] = time;
    items[i] = item;
  }

  /** Removes and returns the earliest item; the caller read its time with peekTime(). */
  pop(): T {
    const times = this.times;
    const items = this.items;
    const top = items[0];
    const lastTime = times.pop() as number;
    const lastItem = items.pop() as T;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && times[r] < times[l] ? r : l;
        if (times[c] >= lastTime) break;
        times[i] = times[c];
        items[i] = items[c];
        i = c;
      }
      times[i] = lastTime;
      items[i] = lastItem;
    }
    return top;
  }

  clear(): void {
    this.times = [];
    this.items = [];
  }

  /** Copies entries out (unordered) for snapshots. */
  entries(): Array<[number, T]> {
    return this.times.map((t, i) => [t, this.items[i]]);
  }
}

interface KeyedTimer<K> {
  key: K;
  time: number;
}

/** Event- or processing-time timers of one operator, deduplicated per (key, time). */
export class TimerService<K> {
  private readonly heap = new TimerHeap<KeyedTimer<K>>();
  private readonly registered = new Map<K, Set<number>>();

  register(key: K, time: number): void {
    let set = this.registered.get(key);
    if (set === undefined) {
      set = new Set();
      this.registered.set(key, set);
    }
    if (set.has(time)) return;
    set.add(time);
    this.heap.push(time, { key, time });
  }

  delete(key: K, time: number): void {
    const set = this.registered.get(key);
    if (set === undefined) return;
    set.delete(time);
    if (set.size === 0) this.registered.delete(key);
  }

  has(key: K, time: number): boolean {
    return this.registered.get(key)?.has(time) ?? false;
  }

  get size(): number {
    let n = 0;
    for (const s of this.registered.values()) n += s.size;
    return n;
  }

  nextTime(): number {
    return this.heap.peekTime();
  }

  /**
   * Fires every timer with time ≤ upTo in time order. `fire` may register new timers; those
   * at or before upTo fire in the same call.
   */
  advance(upTo: number, fire: (key: K, time: number) => void): number {
    let fired = 0;
    while (this.heap.size > 0 && this.heap.peekTime() <= upTo) {
      const t = this.heap.pop();
      const set = this.registered.get(t.key);
      if (set === undefined || !set.has(t.time)) continue; // deleted
      set.delete(t.time);
      if (set.size === 0) this.registered.delete(t.key);
      fired++;
      fire(t.key, t.time);
    }
    return fired;
  }

  snapshot(): Array<[K, number]> {
    const out: Array<[K, number]> = [];
    for (const [k, set] of this.registered) for (const t of set) out.push([k, t]);
    return out;
  }

  restore(timers: Array<[K, number]>): void {
    this.heap.clear();
    this.registered.clear();
    for (const [k, t] of timers) this.register(k, t);
  }
}
