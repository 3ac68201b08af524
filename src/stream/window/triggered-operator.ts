/**
 * TriggeredWindowOperator: tumbling or global windows with a custom Trigger (early results,
 * count-based firing, processing-time firing).
 *
 * Format: Map<windowStart, Map<key, Cell>> (global windows use one window at −∞); a Cell holds
 * the accumulator, the count since the last purge and the cell's generation, so timers of a
 * purged cell are recognized as stale. Trigger timers are min-heaps of (time, cell).
 *
 * Semantics: time windows still close when the watermark reaches end − 1 ('final'), allowed
 * lateness and the late side output are as in PaneWindowOperator; trigger firings before the
 * close are 'early'. In a global window 'fire' emits 'early' and 'fire_and_purge' emits
 * 'final' (the window's state starts over). Concurrency: one task, synchronous.
 */
import { Operator, type OperatorContext } from '../runtime/operator.js';
import { StreamRecord, type Window, type Windowed, type WindowResultKind } from '../runtime/record.js';
import { TimerHeap } from '../time/timers.js';
import type { AggregateFunction } from './aggregate.js';
import { alignedStart, GLOBAL_WINDOW, type GlobalWindows, type TumblingWindows } from './assigners.js';
import type { Trigger, TriggerContext, TriggerResult } from './triggers.js';

interface Cell<K, A> {
  key: K;
  start: number;
  acc: A;
  count: number;
  gen: number;
}

interface TimerRef<K, A> {
  cell: Cell<K, A>;
  gen: number;
}

export class TriggeredWindowOperator<K, V, A, R> extends Operator implements TriggerContext {
  private readonly size: number;
  private readonly offset: number;
  private readonly windows = new Map<number, Map<K, Cell<K, A>>>();
  private readonly closeHeap = new TimerHeap<number>();
  private readonly procTimers = new TimerHeap<TimerRef<K, A>>();
  private readonly eventTimers = new TimerHeap<TimerRef<K, A>>();
  private out: StreamRecord[] = [];
  private current!: Cell<K, A>;

  constructor(
    name: string,
    assigner: TumblingWindows | GlobalWindows,
    readonly agg: AggregateFunction<V, A, R>,
    readonly trigger: Trigger,
    readonly allowedLateness: number,
  ) {
    super(name, 1, 2);
    this.size = assigner.kind === 'tumbling' ? assigner.size : Number.POSITIVE_INFINITY;
    this.offset = assigner.kind === 'tumbling' ? assigner.offset : 0;
  }

  override open(ctx: OperatorContext): void {
    super.open(ctx);
  }

  // TriggerContext, bound to `current`
  get key(): unknown {
    return this.current.key;
  }
  get window(): Window {
    return this.windowOf(this.current.start);
  }
  get count(): number {
    return this.current.count;
  }
  get watermark(): number {
    return this.currentWatermark;
  }
  get processingTime(): number {
    return this.ctx.processingTime();
  }
  registerProcessingTimeTimer(time: number): void {
    this.procTimers.push(time, { cell: this.current, gen: this.current.gen });
  }
  registerEventTimeTimer(time: number): void {
    this.eventTimers.push(time, { cell: this.current, gen: this.current.gen });
  }

  private windowOf(start: number): Window {
    return this.size === Number.POSITIVE_INFINITY ? GLOBAL_WINDOW : { start, end: start + this.size };
  }

  process(batch: StreamRecord[]): void {
    const wm = this.currentWatermark;
    const L = this.allowedLateness;
    const global = this.size === Number.POSITIVE_INFINITY;
    let late: StreamRecord[] | undefined;
    const n = batch.length;
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const r = batch[i];
          const start = global ? Number.NEGATIVE_INFINITY : alignedStart(r.timestamp, this.size, this.offset);
          const end = start + this.size;
          if (!global && end - 1 + L <= wm) {
            (late ??= []).push(r);
            this.ctx.late(this.name, r, wm);
            continue;
          }
          let win = this.windows.get(start);
          if (win === undefined) {
            this.windows.set(start, (win = new Map()));
            if (!global) this.closeHeap.push(end - 1, start);
          }
          const key = r.key as K;
          let cell = win.get(key);
          if (cell === undefined) {
            cell = { key, start, acc: this.agg.createAccumulator(), count: 0, gen: 0 };
            win.set(key, cell);
          }
          cell.acc = this.agg.add(cell.acc, r.value as V);
          cell.count++;
          this.current = cell;
          const closed = !global && end - 1 <= wm;
          const res = this.trigger.onElement?.(r.timestamp, this) ?? 'continue';
          if (closed) this.apply(cell, 'fire', 'update');
          else this.apply(cell, res, 'early');
        }
      } catch (e) {
        this.ctx.deadLetter('user-function', this.name, batch[i], e);
        i++;
      }
    }
    this.flush();
    if (late !== undefined) this.ports[1].emit(late);
  }

  private apply(cell: Cell<K, A>, res: TriggerResult, kind: WindowResultKind): void {
    if (res === 'continue') return;
    const global = this.size === Number.POSITIVE_INFINITY;
    if (res === 'fire' || res === 'fire_and_purge') {
      this.emit(cell, global && res === 'fire_and_purge' ? 'final' : kind);
    }
    if (res === 'fire_and_purge' || res === 'purge') {
      cell.acc = this.agg.createAccumulator();
      cell.count = 0;
      cell.gen++;
    }
  }

  private emit(cell: Cell<K, A>, kind: WindowResultKind): void {
    if (cell.count === 0) return;
    const w = this.windowOf(cell.start);
    const value: Windowed<K, R> = { key: cell.key, window: w, value: this.agg.getResult(cell.acc), kind };
    const ts = Number.isFinite(w.end) ? w.end - 1 : Math.max(0, this.currentWatermark);
    this.out.push(new StreamRecord(cell.key, value, ts));
  }

  private fireTimers(heap: TimerHeap<TimerRef<K, A>>, upTo: number, event: boolean): void {
    while (heap.size > 0 && heap.peekTime() <= upTo) {
      const time = heap.peekTime();
      const ref = heap.pop();
      if (ref.gen !== ref.cell.gen) continue;
      const live = this.windows.get(ref.cell.start)?.get(ref.cell.key);
      if (live !== ref.cell) continue;
      this.current = ref.cell;
      let res: TriggerResult = 'continue';
      try {
        res =
          (event ? this.trigger.onEventTime?.(time, this) : this.trigger.onProcessingTime?.(time, this)) ??
          'continue';
      } catch (e) {
        this.ctx.deadLetter(
          'user-function',
          `${this.name}.trigger`,
          new StreamRecord(ref.cell.key, undefined, time),
          e,
        );
      }
      this.apply(ref.cell, res, 'early');
    }
  }

  override onProcessingTime(now: number): void {
    this.fireTimers(this.procTimers, now, false);
    this.flush();
  }

  override onWatermark(wm: number): void {
    this.fireTimers(this.eventTimers, wm, true);
    const L = this.allowedLateness;
    while (this.closeHeap.size > 0 && this.closeHeap.peekTime() <= wm) {
      const start = this.closeHeap.pop();
      const win = this.windows.get(start);
      if (win === undefined) continue;
      for (const cell of win.values()) this.emit(cell, 'final');
      if (L === 0) this.windows.delete(start);
    }
    // Purge windows whose lateness ran out.
    if (L > 0) {
      for (const start of this.windows.keys()) {
        if (start + this.size - 1 + L <= wm) this.windows.delete(start);
      }
    }
    this.flush();
    this.forwardWatermark(wm);
  }

  /** Cells and window closes; trigger timers are not part of the snapshot (re-armed by data). */
  override snapshot(): unknown {
    return [...this.windows].map(([start, m]) => [start, [...m.values()].map((c) => ({ ...c }))]);
  }

  override restore(snap: unknown): void {
    this.windows.clear();
    this.closeHeap.clear();
    this.procTimers.clear();
    this.eventTimers.clear();
    const global = this.size === Number.POSITIVE_INFINITY;
    for (const [start, cells] of snap as Array<[number, Array<Cell<K, A>>]>) {
      this.windows.set(start, new Map(cells.map((c) => [c.key, c])));
      if (!global && start + this.size - 1 > this.currentWatermark)
        this.closeHeap.push(start + this.size - 1, start);
    }
  }

  private flush(): void {
    if (this.out.length === 0) return;
    const out = this.out;
    this.out = [];
    this.output.emit(out);
  }
}
