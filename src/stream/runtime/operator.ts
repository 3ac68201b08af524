/**
 * Operator: the unit of the physical topology. Operators exchange ARRAYS of StreamRecords
 * (batch at a time) and watermarks; nothing on this path awaits per record.
 *
 * Wiring: an operator has numbered inputs (two-input operators: joins) and numbered output
 * ports (port 0 is the main output; branch and late/side outputs use more). A port fans out to
 * every downstream (operator, input) pair; the first target receives the batch itself, the
 * others a copy of every record (see record.ts for the ownership rule).
 *
 * Watermarks: the base class keeps one watermark per input and the input's idle flag; the
 * operator's watermark is the minimum over non-idle inputs and only moves forward. When it
 * moves, onWatermark(wm) runs (fire timers/windows, then forward). When every input is idle,
 * the operator's outputs turn idle too, so a quiet branch of a join does not stall it.
 *
 * Commit hooks (exactly-once, issue 7): prepareCommit() flushes everything buffered
 * (async results, caches) so that after it resolves the operator's outputs and state reflect
 * exactly the input consumed so far; commit() is called after the transaction committed;
 * snapshot()/restore() capture operator-local state (timers, window panes) for checkpoints.
 *
 * Concurrency: one task, one thread. Operators never share records or state across tasks.
 */
import type { Serde, SessionStore, WindowStore } from '../state/index.js';
import { type DeadLetterKind, StreamRecord } from './record.js';

export interface OperatorContext {
  readonly taskId: string;
  /** Processing time (injectable wall clock), ms. */
  processingTime(): number;
  deadLetter(kind: DeadLetterKind, operator: string, record: StreamRecord, error: unknown): void;
  late(operator: string, record: StreamRecord, watermark: number): void;
  /** Opens (or returns) keyed state storage for a named state of an operator. */
  readonly stateFactory: KeyedStateFactory;
  /**
   * Durable stores (src/stream/state) when the task runs on a StoreEngine; absent: operators
   * keep their state on the heap only (checkpointed by Task.snapshot).
   */
  readonly stores?: OperatorStores;
}

export interface OperatorStores {
  windowStore<K, V>(options: {
    name: string;
    retentionMs: number;
    keySerde?: Serde<K>;
    valueSerde?: Serde<V>;
  }): WindowStore<K, V>;
  sessionStore<K, V>(options: {
    name: string;
    retentionMs: number;
    keySerde?: Serde<K>;
    valueSerde?: Serde<V>;
  }): SessionStore<K, V>;
}

/** Minimal key→value map a keyed state needs; stores of src/stream/state satisfy it. */
export interface KeyedStateMap<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  delete(key: K): V | undefined;
}

export interface KeyedStateFactory {
  open<K, V>(name: string, options: { ttlMs?: number }): KeyedStateMap<K, V>;
}

interface Target {
  op: Operator;
  input: number;
}

export class Port {
  readonly targets: Target[] = [];
  idle = false;

  emit(batch: StreamRecord[]): void {
    const targets = this.targets;
    const n = targets.length;
    if (n === 0 || batch.length === 0) return;
    for (let t = 1; t < n; t++) {
      const copy: StreamRecord[] = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) {
        const r = batch[i];
        copy[i] = new StreamRecord(r.key, r.value, r.timestamp);
      }
      targets[t].op.process(copy, targets[t].input);
    }
    targets[0].op.process(batch, targets[0].input);
  }

  watermark(wm: number): void {
    for (const t of this.targets) t.op.receiveWatermark(t.input, wm);
  }

  setIdle(idle: boolean): void {
    if (idle === this.idle) return;
    this.idle = idle;
    for (const t of this.targets) t.op.receiveIdle(t.input, idle);
  }
}

export abstract class Operator {
  /** Unique name in the plan: used in dead letters, metrics, state and changelog names. */
  readonly name: string;
  readonly ports: Port[];
  ctx!: OperatorContext;
  /** The operator's event time: min over non-idle inputs' watermarks. */
  currentWatermark = Number.NEGATIVE_INFINITY;
  private inputWatermarks: number[];
  private inputIdle: boolean[];

  constructor(name: string, inputs = 1, ports = 1) {
    this.name = name;
    this.inputWatermarks = new Array(inputs).fill(Number.NEGATIVE_INFINITY);
    this.inputIdle = new Array(inputs).fill(false);
    this.ports = [];
    for (let p = 0; p < ports; p++) this.ports.push(new Port());
  }

  get inputCount(): number {
    return this.inputWatermarks.length;
  }

  get output(): Port {
    return this.ports[0];
  }

  open(ctx: OperatorContext): void {
    this.ctx = ctx;
  }

  abstract process(batch: StreamRecord[], input: number): void;

  /** The operator's watermark advanced; default: forward to every port. */
  onWatermark(wm: number): void {
    this.forwardWatermark(wm);
  }

  onProcessingTime(_now: number): void {}

  prepareCommit(): void | Promise<void> {}
  commit(): void {}
  /** Records accepted but not yet emitted (async operators): the task's backpressure signal. */
  pending(): number {
    return 0;
  }
  snapshot(): unknown {
    return undefined;
  }
  restore(_snapshot: unknown): void {}
  close(): void {}

  /** Event-time position for checkpoints: restored before operator state so lateness matches. */
  snapshotWatermarks(): { current: number; inputs: number[]; idle: boolean[] } {
    return { current: this.currentWatermark, inputs: [...this.inputWatermarks], idle: [...this.inputIdle] };
  }

  restoreWatermarks(s: { current: number; inputs: number[]; idle: boolean[] }): void {
    this.currentWatermark = s.current;
    this.inputWatermarks = [...s.inputs];
    this.inputIdle = [...s.idle];
  }

  protected forwardWatermark(wm: number): void {
    for (const p of this.ports) p.watermark(wm);
  }

  receiveWatermark(input: number, wm: number): void {
    if (!(wm > this.inputWatermarks[input])) return;
    this.inputWatermarks[input] = wm;
    this.recompute();
  }

  receiveIdle(input: number, idle: boolean): void {
    if (this.inputIdle[input] === idle) return;
    this.inputIdle[input] = idle;
    let all = true;
    for (const i of this.inputIdle) all &&= i;
    for (const p of this.ports) p.setIdle(all);
    this.recompute();
  }

  private recompute(): void {
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    for (let i = 0; i < this.inputWatermarks.length; i++) {
      if (this.inputIdle[i]) continue;
      active++;
      if (this.inputWatermarks[i] < min) min = this.inputWatermarks[i];
    }
    if (active === 0 || !(min > this.currentWatermark)) return;
    this.currentWatermark = min;
    this.onWatermark(min);
  }
}

export function connect(from: Operator, port: number, to: Operator, input: number): void {
  from.ports[port].targets.push({ op: to, input });
}
