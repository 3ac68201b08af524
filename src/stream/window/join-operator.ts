/**
 * WindowJoinOperator: joins two keyed streams per tumbling or sliding window (Flink's window
 * join; Nexmark q8). Every pair (l, r) of the same key that falls in the same window is joined
 * when the window closes (watermark ≥ end − 1, the minimum of both inputs'); the result's
 * timestamp is end − 1. A record whose windows have all closed is late (port 1); no allowed
 * lateness: results are final.
 *
 * Format: Map<windowStart, Map<key, [left values, right values]>>, window ends in a min-heap.
 * Memory is every record of every open window (as in Flink); windows are dropped when fired.
 */
import { Operator } from '../runtime/operator.js';
import { StreamRecord } from '../runtime/record.js';
import { TimerHeap } from '../time/timers.js';
import { assignWindows, type SlidingWindows, type TumblingWindows } from './assigners.js';

export class WindowJoinOperator extends Operator {
  private readonly windows = new Map<number, Map<unknown, [unknown[], unknown[]]>>();
  private readonly ends = new TimerHeap<number>();

  constructor(
    name: string,
    readonly assigner: TumblingWindows | SlidingWindows,
    // biome-ignore lint/suspicious/noExplicitAny: joiner over the DSL's types
    readonly joiner: (left: any, right: any) => any,
  ) {
    super(name, 2, 2);
  }

  process(batch: StreamRecord[], input: number): void {
    const wm = this.currentWatermark;
    const size = this.assigner.size;
    let late: StreamRecord[] | undefined;
    for (const r of batch) {
      let placed = false;
      for (const w of assignWindows(this.assigner, r.timestamp)) {
        if (w.end - 1 <= wm) continue;
        placed = true;
        let keys = this.windows.get(w.start);
        if (keys === undefined) {
          this.windows.set(w.start, (keys = new Map()));
          this.ends.push(w.start + size - 1, w.start);
        }
        let sides = keys.get(r.key);
        if (sides === undefined) keys.set(r.key, (sides = [[], []]));
        sides[input].push(r.value);
      }
      if (!placed) {
        (late ??= []).push(r);
        this.ctx.late(this.name, r, wm);
      }
    }
    if (late !== undefined) this.ports[1].emit(late);
  }

  override onWatermark(wm: number): void {
    const out: StreamRecord[] = [];
    while (this.ends.size > 0 && this.ends.peekTime() <= wm) {
      const end = this.ends.peekTime() + 1;
      const start = this.ends.pop();
      const keys = this.windows.get(start);
      this.windows.delete(start);
      if (keys === undefined) continue;
      for (const [key, [ls, rs]] of keys) {
        for (const l of ls) {
          for (const r of rs) {
            try {
              out.push(new StreamRecord(key, this.joiner(l, r), end - 1));
            } catch (e) {
              this.ctx.deadLetter('user-function', this.name, new StreamRecord(key, [l, r], end - 1), e);
            }
          }
        }
      }
    }
    this.output.emit(out);
    this.forwardWatermark(wm);
  }

  override snapshot(): unknown {
    return [...this.windows].map(([s, m]) => [s, [...m]]);
  }

  override restore(s: unknown): void {
    this.windows.clear();
    this.ends.clear();
    for (const [start, entries] of s as Array<[number, Array<[unknown, [unknown[], unknown[]]]>]>) {
      this.windows.set(start, new Map(entries));
      this.ends.push(start + this.assigner.size - 1, start);
    }
  }
}
