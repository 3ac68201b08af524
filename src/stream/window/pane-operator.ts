/**
 * PaneWindowOperator: tumbling and sliding window aggregation with slice sharing.
 *
 * Format: state is Map<paneStart, Map<key, accumulator>> with panes of gcd(size, slide) ms, so
 * a record is added to exactly ONE accumulator whatever size/slide is; a sliding window's result
 * is the merge of its size/pane panes at firing. Pending window ends sit in a min-heap, so
 * firing is one sweep per watermark, not a timer per (key, window).
 *
 * Lateness (define once, the DuckDB oracle models exactly this): with W the operator's
 * watermark when the record arrives and L the allowed lateness, the record contributes to
 * window w iff w.end − 1 + L > W. If no window of the record qualifies it goes to the late
 * side output (port 1). Windows fire 'final' when W reaches end − 1; a qualifying record for a
 * window that already closed re-emits that (key, window) as 'update' after the batch. A pane is
 * dropped once its last window can take no more records (lastEnd − 1 + L ≤ W).
 *
 * Early results (earlyEveryMs > 0): every earlyEveryMs of processing time, each open window
 * containing a pane that changed emits the changed keys' current result as 'early'.
 *
 * Concurrency: one task, synchronous. Crash: panes are heap state, checkpointed by
 * snapshot()/restore(); on a task with a StoreEngine they are also written to a WindowStore
 * (key, pane start → accumulator) at every commit, so a changelogged store restores them.
 */
import { type KeyedStateMap, Operator, type OperatorContext } from '../runtime/operator.js';
import { StreamRecord, type Windowed, type WindowResultKind } from '../runtime/record.js';
import type { Serde, WindowStore } from '../state/index.js';
import { TimerHeap } from '../time/timers.js';
import type { AggregateFunction } from './aggregate.js';
import { alignedStart, paneSize, type SlidingWindows, type TumblingWindows } from './assigners.js';

export class PaneWindowOperator<K, V, A, R> extends Operator {
  private readonly size: number;
  private readonly slide: number;
  private readonly offset: number;
  private readonly pane: number;
  private readonly panes = new Map<number, Map<K, A>>();
  private readonly fireHeap = new TimerHeap<number>();
  private readonly scheduledEnds = new Set<number>();
  private readonly purgeHeap = new TimerHeap<number>();
  private lastPaneStart = Number.NaN;
  private lastPane: Map<K, A> | undefined;
  private out: StreamRecord[] = [];
  /** Keys changed since the last early firing → a pane they changed (early results only). */
  private dirty: Map<K, number> | undefined;
  /** Durable copy of the panes (when the task runs on a StoreEngine), written at commit. */
  private store: WindowStore<K, A> | undefined;
  /** (pane, key) changed since the last commit; a key absent from its pane is a delete. */
  private storeDirty: Map<number, Set<K>> | undefined;
  private meta: KeyedStateMap<string, number> | undefined;
  private nextEarly = Number.NaN;

  constructor(
    name: string,
    assigner: TumblingWindows | SlidingWindows,
    readonly agg: AggregateFunction<V, A, R>,
    readonly allowedLateness: number,
    /** Early results: every this many ms of processing time, open windows whose keys changed. */
    readonly earlyEveryMs = 0,
    readonly keySerde?: Serde<K>,
    readonly accumulatorSerde?: Serde<A>,
  ) {
    super(name, 1, 2);
    this.size = assigner.size;
    this.slide = assigner.kind === 'tumbling' ? assigner.size : assigner.slide;
    this.offset = assigner.offset;
    this.pane = paneSize(assigner);
  }

  process(batch: StreamRecord[]): void {
    const wm = this.currentWatermark;
    const L = this.allowedLateness;
    const size = this.size;
    const agg = this.agg;
    let updates: Map<number, Set<K>> | undefined;
    let late: StreamRecord[] | undefined;
    const n = batch.length;
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const r = batch[i];
          const ts = r.timestamp;
          const lastStart = alignedStart(ts, this.slide, this.offset);
          if (lastStart + size - 1 + L <= wm) {
            (late ??= []).push(r);
            this.ctx.late(this.name, r, wm);
            continue;
          }
          let m = (ts - this.offset) % this.pane;
          if (m < 0) m += this.pane;
          const ps = ts - m;
          let pane: Map<K, A>;
          if (ps === this.lastPaneStart) pane = this.lastPane as Map<K, A>;
          else pane = this.paneFor(ps);
          const key = r.key as K;
          const acc = pane.get(key);
          pane.set(key, agg.add(acc === undefined ? agg.createAccumulator() : acc, r.value as V));
          if (this.earlyEveryMs > 0) (this.dirty ??= new Map()).set(key, ps);
          if (this.store !== undefined) this.markStored(ps, key);
          // Some window of this record already closed (but is within lateness): update it.
          // Every window of ts ends after ts, so none has closed unless ts ≤ W.
          if (ts <= wm) {
            for (let s = lastStart; s > ts - size; s -= this.slide) {
              const end = s + size;
              if (end - 1 <= wm && end - 1 + L > wm) {
                updates ??= new Map();
                let keys = updates.get(end);
                if (keys === undefined) updates.set(end, (keys = new Set()));
                keys.add(key);
              }
            }
          }
        }
      } catch (e) {
        this.ctx.deadLetter('user-function', this.name, batch[i], e);
        i++;
      }
    }
    if (updates !== undefined) {
      for (const [end, keys] of updates) for (const k of keys) this.emitKey(end, k, 'update');
    }
    this.flush();
    if (late !== undefined) this.ports[1].emit(late);
  }

  private paneFor(ps: number): Map<K, A> {
    let pane = this.panes.get(ps);
    if (pane === undefined) {
      pane = new Map();
      this.panes.set(ps, pane);
      const wm = this.currentWatermark;
      const paneLastStart = alignedStart(ps, this.slide, this.offset);
      for (let s = paneLastStart; s > ps - this.size; s -= this.slide) {
        const end = s + this.size;
        if (end - 1 > wm && !this.scheduledEnds.has(end)) {
          this.scheduledEnds.add(end);
          this.fireHeap.push(end - 1, end);
        }
      }
      this.purgeHeap.push(paneLastStart + this.size - 1 + this.allowedLateness, ps);
    }
    this.lastPaneStart = ps;
    this.lastPane = pane;
    return pane;
  }

  override onWatermark(wm: number): void {
    while (this.fireHeap.size > 0 && this.fireHeap.peekTime() <= wm) {
      const end = this.fireHeap.pop();
      this.scheduledEnds.delete(end);
      this.emitWindow(end);
      if (this.out.length >= 4096) this.flush();
    }
    this.flush();
    while (this.purgeHeap.size > 0 && this.purgeHeap.peekTime() <= wm) {
      const ps = this.purgeHeap.pop();
      if (this.store !== undefined) for (const k of this.panes.get(ps)?.keys() ?? []) this.markStored(ps, k);
      this.panes.delete(ps);
      if (ps === this.lastPaneStart) {
        this.lastPaneStart = Number.NaN;
        this.lastPane = undefined;
      }
    }
    this.forwardWatermark(wm);
  }

  override open(ctx: OperatorContext): void {
    super.open(ctx);
    if (ctx.stores === undefined) return;
    this.store = ctx.stores.windowStore<K, A>({
      name: this.name,
      // Panes are removed explicitly when purged; retention is only a safety net, generous
      // because records may run far ahead of the watermark (out-of-orderness bound).
      retentionMs: 10 * (this.size + this.allowedLateness) + 86_400_000,
      keySerde: this.keySerde,
      valueSerde: this.accumulatorSerde,
    });
    // Resume from the store (restored from its changelog by the caller, issue 7): first the
    // event-time position of the last commit, so windows that fired before are not re-fired
    // and lateness is decided as before the crash; then the panes.
    this.meta = ctx.stateFactory.open<string, number>(`${this.name}.watermark`, {});
    const saved = this.meta.get('wm');
    if (saved !== undefined && saved > this.currentWatermark) this.currentWatermark = saved;
    for (const { key, value } of this.store.all()) {
      this.paneFor(key.start).set(key.key, value);
    }
    this.lastPaneStart = Number.NaN;
    this.lastPane = undefined;
  }

  private markStored(ps: number, key: K): void {
    const dirty = (this.storeDirty ??= new Map());
    let keys = dirty.get(ps);
    if (keys === undefined) dirty.set(ps, (keys = new Set()));
    keys.add(key);
  }

  /** Writes changed (pane, key) accumulators to the store; purged ones become deletes. */
  override prepareCommit(): void {
    const store = this.store;
    if (store === undefined) return;
    if (Number.isFinite(this.currentWatermark)) this.meta?.put('wm', this.currentWatermark);
    const dirty = this.storeDirty;
    if (dirty === undefined) return;
    for (const [ps, keys] of dirty) {
      const pane = this.panes.get(ps);
      for (const k of keys) {
        const a = pane?.get(k);
        if (a === undefined) store.remove(k, ps);
        else store.put(k, ps, a);
      }
    }
    this.storeDirty = undefined;
  }

  override onProcessingTime(now: number): void {
    if (!(this.earlyEveryMs > 0)) return;
    if (Number.isNaN(this.nextEarly)) this.nextEarly = now + this.earlyEveryMs;
    if (now < this.nextEarly || this.dirty === undefined) return;
    this.nextEarly = now + this.earlyEveryMs;
    const wm = this.currentWatermark;
    const dirty = this.dirty;
    this.dirty = undefined;
    // Every still-open window holding a changed pane of the key gets an early result.
    const seen = new Set<string>();
    for (const [key, ps] of dirty) {
      for (let s = alignedStart(ps, this.slide, this.offset); s > ps - this.size; s -= this.slide) {
        const end = s + this.size;
        if (end - 1 <= wm) continue;
        const id = `${end}\u0000${String(key)}`;
        if (seen.has(id)) continue;
        seen.add(id);
        this.emitKey(end, key, 'early');
      }
    }
    this.flush();
  }

  private flush(): void {
    if (this.out.length === 0) return;
    const out = this.out;
    this.out = [];
    this.output.emit(out);
  }

  private result(key: K, start: number, end: number, acc: A, kind: WindowResultKind): void {
    let value: R;
    try {
      value = this.agg.getResult(acc);
    } catch (e) {
      this.ctx.deadLetter('user-function', this.name, new StreamRecord(key, acc, end - 1), e);
      return;
    }
    const w: Windowed<K, R> = { key, window: { start, end }, value, kind };
    this.out.push(new StreamRecord(key, w, end - 1));
  }

  private emitWindow(end: number): void {
    const start = end - this.size;
    if (this.pane === this.size) {
      const pane = this.panes.get(start);
      if (pane === undefined) return;
      for (const [k, a] of pane) this.result(k, start, end, a, 'final');
      return;
    }
    const agg = this.agg;
    const merged = new Map<K, A>();
    for (let ps = start; ps < end; ps += this.pane) {
      const pane = this.panes.get(ps);
      if (pane === undefined) continue;
      for (const [k, a] of pane) {
        const m = merged.get(k);
        merged.set(k, agg.merge(m === undefined ? agg.createAccumulator() : m, a));
      }
    }
    for (const [k, a] of merged) this.result(k, start, end, a, 'final');
  }

  private emitKey(end: number, key: K, kind: WindowResultKind): void {
    const start = end - this.size;
    const agg = this.agg;
    let acc: A | undefined;
    for (let ps = start; ps < end; ps += this.pane) {
      const a = this.panes.get(ps)?.get(key);
      if (a === undefined) continue;
      acc = agg.merge(acc === undefined ? agg.createAccumulator() : acc, a);
    }
    if (acc !== undefined) this.result(key, start, end, acc, kind);
  }

  /** Live (key, pane) accumulators, for tests and metrics. */
  stateSize(): number {
    let n = 0;
    for (const p of this.panes.values()) n += p.size;
    return n;
  }

  override snapshot(): unknown {
    return [...this.panes].map(([ps, m]) => [ps, [...m]]);
  }

  override restore(s: unknown): void {
    this.panes.clear();
    this.scheduledEnds.clear();
    this.fireHeap.clear();
    this.purgeHeap.clear();
    this.lastPaneStart = Number.NaN;
    for (const [ps, entries] of s as Array<[number, Array<[K, A]>]>) {
      this.paneFor(ps); // registers the pane's window ends and purge time
      this.panes.set(ps, new Map(entries));
    }
    this.lastPaneStart = Number.NaN;
    this.lastPane = undefined;
  }
}
