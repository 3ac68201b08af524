/**
 * SessionWindowOperator: merging session windows per key.
 *
 * Semantics (the DuckDB oracle models exactly this): each accepted record opens
 * [ts, ts + gap); sessions that overlap or touch merge, so accepted records a < b of a key are
 * in one session iff every step between consecutive accepted records is ≤ gap. A record is
 * late — side output, port 1 — iff ts + gap − 1 + L ≤ W (W: operator watermark on arrival,
 * L: allowed lateness). A session fires 'final' when W reaches end − 1. A record that changes
 * an already-fired session re-emits it as 'update'; when that changes its bounds (or merges
 * fired sessions) the superseded sessions are emitted as 'retract' first, so the latest
 * non-retracted result per (key, start, end) is always the true session set (Kafka Streams
 * emits tombstones for the same reason).
 *
 * Retention: a session is kept until end − 1 + L + gap ≤ W — one gap longer than Flink — so
 * an accepted record that touches it always finds it (Flink would open a second session
 * there, which no SQL sessionization reproduces).
 *
 * Durability: on a task with a StoreEngine, sessions are written to a SessionStore at every
 * commit (value [accumulator, last emission] as JSON; the operator watermark beside it), and
 * read back when the operator opens — a restored task neither re-fires nor forgets to retract.
 *
 * Format: Map<key, Session[]> (few per key); the fire heap holds one entry per open session,
 * rescheduled lazily when popped after the session grew (no heap push per record); the purge
 * heap holds sessions once they have been emitted.
 */
import { type KeyedStateMap, Operator, type OperatorContext } from '../runtime/operator.js';
import { StreamRecord, type Windowed, type WindowResultKind } from '../runtime/record.js';
import type { SessionStore } from '../state/index.js';
import { TimerHeap } from '../time/timers.js';
import type { AggregateFunction } from './aggregate.js';
import type { SessionWindows } from './assigners.js';

/** What was last emitted for a session (kept apart so open sessions stay small). */
interface Emission {
  start: number;
  end: number;
  value: unknown;
  /** At or after close (final/update), not an early result. */
  closed: boolean;
}

/** One session; a class so every session shares one hidden class (monomorphic field access). */
class Session<K, A> {
  dead = false;
  /** The last emission, null if none is standing (never emitted, or retracted). */
  last: Emission | null = null;
  /** Bounds last written to the session store (store-backed tasks only). */
  stored: Emission | null = null;
  constructor(
    public key: K,
    public start: number,
    public end: number,
    public acc: A,
  ) {}
}

export class SessionWindowOperator<K, V, A, R> extends Operator {
  private readonly gap: number;
  private readonly sessions = new Map<K, Session<K, A>[]>();
  private readonly fireHeap = new TimerHeap<Session<K, A>>();
  private readonly purgeHeap = new TimerHeap<Session<K, A>>();
  private out: StreamRecord[] = [];
  private dirty: Set<Session<K, A>> | undefined;
  private nextEarly = Number.NaN;

  constructor(
    name: string,
    assigner: SessionWindows,
    readonly agg: AggregateFunction<V, A, R>,
    readonly allowedLateness: number,
    /** Early results: every this many ms of processing time, open sessions that changed. */
    readonly earlyEveryMs = 0,
  ) {
    super(name, 1, 2);
    this.gap = assigner.gap;
  }

  private store: SessionStore<K, [A, Emission | null]> | undefined;
  private storeDirty: Set<Session<K, A>> | undefined;
  private meta: KeyedStateMap<string, number> | undefined;

  override open(ctx: OperatorContext): void {
    super.open(ctx);
    if (ctx.stores === undefined) return;
    // Store value: [accumulator, last emission] as JSON, so a restored session still retracts
    // what it emitted before the crash.
    this.store = ctx.stores.sessionStore<K, [A, Emission | null]>({
      name: this.name,
      retentionMs: 10 * (this.gap + this.allowedLateness) + 86_400_000,
    });
    this.meta = ctx.stateFactory.open<string, number>(`${this.name}.watermark`, {});
    const saved = this.meta.get('wm');
    if (saved !== undefined && saved > this.currentWatermark) this.currentWatermark = saved;
    const wm = this.currentWatermark;
    for (const { key: sk, value } of this.store.all()) {
      const s = new Session<K, A>(sk.key, sk.start, sk.end + 1, value[0]);
      s.last = value[1];
      s.stored = { start: s.start, end: s.end, value: null, closed: false };
      let list = this.sessions.get(s.key);
      if (list === undefined) this.sessions.set(s.key, (list = []));
      list.push(s);
      if (s.end - 1 > wm) this.fireHeap.push(s.end - 1, s);
      this.purgeHeap.push(s.end - 1 + this.allowedLateness + this.gap, s);
    }
  }

  /** Writes changed sessions to the store: merged-away and purged ones become deletes. */
  override prepareCommit(): void {
    const store = this.store;
    if (store === undefined) return;
    if (Number.isFinite(this.currentWatermark)) this.meta?.put('wm', this.currentWatermark);
    const dirty = this.storeDirty;
    if (dirty === undefined) return;
    for (const s of dirty) {
      const st = s.stored;
      if (st !== null && (s.dead || st.start !== s.start || st.end !== s.end)) {
        store.remove({ key: s.key, start: st.start, end: st.end - 1 });
        s.stored = null;
      }
      if (!s.dead) {
        store.put({ key: s.key, start: s.start, end: s.end - 1 }, [s.acc, s.last]);
        s.stored = { start: s.start, end: s.end, value: null, closed: false };
      }
    }
    this.storeDirty = undefined;
  }

  process(batch: StreamRecord[]): void {
    const wm = this.currentWatermark;
    const gap = this.gap;
    const L = this.allowedLateness;
    let late: StreamRecord[] | undefined;
    const n = batch.length;
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const r = batch[i];
          const ts = r.timestamp;
          if (ts + gap - 1 + L <= wm) {
            (late ??= []).push(r);
            this.ctx.late(this.name, r, wm);
            continue;
          }
          this.add(r.key as K, ts, r.value as V, wm);
        }
      } catch (e) {
        this.ctx.deadLetter('user-function', this.name, batch[i], e);
        i++;
      }
    }
    this.flush();
    if (late !== undefined) this.ports[1].emit(late);
  }

  private add(key: K, ts: number, value: V, wm: number): void {
    const agg = this.agg;
    let list = this.sessions.get(key);
    if (list === undefined) this.sessions.set(key, (list = []));
    const newEnd = ts + this.gap;
    let target: Session<K, A> | undefined;
    let isNew = false;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (s.start > newEnd || s.end < ts) continue;
      if (target === undefined) {
        target = s;
        continue;
      }
      if (s.last !== null) this.retract(s);
      target.acc = agg.merge(target.acc, s.acc);
      if (s.start < target.start) target.start = s.start;
      if (s.end > target.end) target.end = s.end;
      s.dead = true;
      if (this.store !== undefined) (this.storeDirty ??= new Set()).add(s);
      list.splice(i, 1);
      i--;
    }
    if (target === undefined) {
      target = new Session<K, A>(key, ts, newEnd, agg.add(agg.createAccumulator(), value));
      list.push(target);
      isNew = true;
    } else {
      target.acc = agg.add(target.acc, value);
      if (ts < target.start) target.start = ts;
      if (newEnd > target.end) target.end = newEnd;
    }
    if (this.earlyEveryMs > 0) (this.dirty ??= new Set()).add(target);
    if (this.store !== undefined) (this.storeDirty ??= new Set()).add(target);
    // Heap entries are rescheduled lazily when popped with a stale end (onWatermark), so only
    // a new session, or one whose fire entry was consumed by an emission, needs a push here.
    const last = target.last;
    const wasEmitted = last !== null;
    if (last !== null && (last.start !== target.start || last.end !== target.end)) {
      this.retract(target);
    }
    if (target.end - 1 <= wm) {
      // Closed already (the record is within allowed lateness): re-emit now.
      this.emit(target, 'update');
    } else if (isNew || wasEmitted) {
      this.fireHeap.push(target.end - 1, target);
    }
  }

  private retract(s: Session<K, A>): void {
    const w: Windowed<K, unknown> = {
      key: s.key,
      window: { start: (s.last as Emission).start, end: (s.last as Emission).end },
      value: (s.last as Emission).value,
      kind: 'retract',
    };
    this.out.push(new StreamRecord(s.key, w, w.window.end - 1));
    s.last = null;
  }

  private emit(s: Session<K, A>, kind: WindowResultKind): void {
    // Only emitted sessions can be purge candidates (purge time > fire time), so the purge
    // heap holds fired sessions only.
    this.purgeHeap.push(s.end - 1 + this.allowedLateness + this.gap, s);
    let value: R;
    try {
      value = this.agg.getResult(s.acc);
    } catch (e) {
      this.ctx.deadLetter('user-function', this.name, new StreamRecord(s.key, s.acc, s.end - 1), e);
      return;
    }
    const w: Windowed<K, R> = { key: s.key, window: { start: s.start, end: s.end }, value, kind };
    this.out.push(new StreamRecord(s.key, w, s.end - 1));
    s.last = { start: s.start, end: s.end, value, closed: true };
  }

  override onWatermark(wm: number): void {
    const fire = this.fireHeap;
    while (fire.size > 0 && fire.peekTime() <= wm) {
      const time = fire.peekTime();
      const s = fire.pop();
      if (s.dead) continue; // merged away or purged
      if (s.end - 1 > time) {
        fire.push(s.end - 1, s); // extended since: reschedule
        continue;
      }
      const last = s.last;
      if (last?.closed && last.start === s.start && last.end === s.end) continue;
      this.emit(s, 'final');
    }
    const purge = this.purgeHeap;
    const keep = this.allowedLateness + this.gap;
    while (purge.size > 0 && purge.peekTime() <= wm) {
      const s = purge.pop();
      if (s.dead) continue;
      if (s.end - 1 + keep > wm) {
        purge.push(s.end - 1 + keep, s);
        continue;
      }
      s.dead = true;
      if (this.store !== undefined) (this.storeDirty ??= new Set()).add(s);
      const list = this.sessions.get(s.key);
      if (list !== undefined) {
        const idx = list.indexOf(s);
        if (idx >= 0) list.splice(idx, 1);
        if (list.length === 0) this.sessions.delete(s.key);
      }
    }
    this.flush();
    this.forwardWatermark(wm);
  }

  override onProcessingTime(now: number): void {
    if (!(this.earlyEveryMs > 0)) return;
    if (Number.isNaN(this.nextEarly)) this.nextEarly = now + this.earlyEveryMs;
    if (now < this.nextEarly || this.dirty === undefined) return;
    this.nextEarly = now + this.earlyEveryMs;
    const wm = this.currentWatermark;
    for (const s of this.dirty) {
      if (s.dead || s.end - 1 <= wm) continue;
      // An early result is superseded by a later one for the same bounds, or retracted.
      if (s.last !== null && (s.last.start !== s.start || s.last.end !== s.end)) this.retract(s);
      this.emitEarly(s);
    }
    this.dirty = undefined;
    this.flush();
  }

  private emitEarly(s: Session<K, A>): void {
    const value = this.agg.getResult(s.acc);
    const w: Windowed<K, R> = { key: s.key, window: { start: s.start, end: s.end }, value, kind: 'early' };
    this.out.push(new StreamRecord(s.key, w, s.end - 1));
    s.last = { start: s.start, end: s.end, value, closed: false };
  }

  private flush(): void {
    if (this.out.length === 0) return;
    const out = this.out;
    this.out = [];
    this.output.emit(out);
  }

  override snapshot(): unknown {
    const out: unknown[][] = [];
    for (const list of this.sessions.values()) {
      for (const s of list) {
        out.push([s.key, s.start, s.end, s.acc, s.last === null ? null : { ...s.last }]);
      }
    }
    return out;
  }

  override restore(snap: unknown): void {
    this.sessions.clear();
    this.fireHeap.clear();
    this.purgeHeap.clear();
    const wm = this.currentWatermark;
    for (const [key, start, end, acc, last] of snap as Array<[K, number, number, A, Emission | null]>) {
      const s = new Session<K, A>(key, start, end, acc);
      s.last = last;
      let list = this.sessions.get(s.key);
      if (list === undefined) this.sessions.set(s.key, (list = []));
      list.push(s);
      if (s.end - 1 > wm) this.fireHeap.push(s.end - 1, s);
      this.purgeHeap.push(s.end - 1 + this.allowedLateness + this.gap, s);
    }
  }

  /** Live sessions, for tests and metrics. */
  stateSize(): number {
    let n = 0;
    for (const l of this.sessions.values()) n += l.length;
    return n;
  }
}
