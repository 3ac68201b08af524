/**
 * NexmarkSource: the generator as a bounded in-process stream Source (one input, one
 * partition). Each poll generates the next events straight into StreamRecords (key null,
 * timestamp = the event's dateTime); `done` once `events` slots were delivered.
 * Watermarks come from the input's strategy: use `nexmarkWatermark(generator)` — bounded
 * out-of-orderness by one out-of-order group — so no event is ever late.
 */
import {
  boundedOutOfOrderness,
  type Source,
  type SourceBatch,
  StreamRecord,
  type WatermarkStrategy,
} from '../../../stream/index.js';
import type { NexmarkGenerator } from './generator.js';

export class NexmarkSource implements Source {
  private delivered = 0;
  constructor(
    readonly generator: NexmarkGenerator,
    readonly events: number,
    readonly input = 'nexmark',
  ) {}

  get done(): boolean {
    return this.delivered >= this.events;
  }

  poll(maxRecords: number): SourceBatch[] {
    const n = Math.min(maxRecords, this.events - this.delivered);
    if (n <= 0) return [];
    const g = this.generator;
    const records: StreamRecord[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const e = g.next();
      records[i] = new StreamRecord(null, e, e.dateTime);
    }
    this.delivered += n;
    return [{ input: this.input, partition: 0, records, nextOffset: this.delivered }];
  }
}

export function nexmarkWatermark(generator: NexmarkGenerator): WatermarkStrategy {
  return boundedOutOfOrderness(generator.maxOutOfOrdernessMs);
}
