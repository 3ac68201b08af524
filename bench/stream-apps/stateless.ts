/**
 * bench/stream-kafka.ts's stateless application (for `sluice run`): JSON events from
 * SLUICE_APP_INPUT, a map (adds `v2`) and a filter (drops v % 10 === 0), JSON to
 * SLUICE_APP_OUTPUT; the record key (the event's `k`) is kept. Events carry their send time
 * `s`, which the map keeps, so the output reader measures produce → committed output.
 */
import { jsonSerde, StreamApp } from '../../src/stream/index.js';

export interface BenchEvent {
  readonly k: string;
  readonly v: number;
  readonly ts: number;
  /** Send time (ms since the epoch, fractional), stamped by the producer. */
  readonly s?: number;
}

export const keep = (e: BenchEvent): boolean => e.v % 10 !== 0;

export default function statelessApp(): StreamApp {
  const app = new StreamApp('bench-stateless');
  app
    .stream<BenchEvent>(process.env.SLUICE_APP_INPUT ?? 'bench-in', {
      partitions: Number(process.env.SLUICE_APP_PARTITIONS ?? 12),
      timestamp: (e) => e.ts,
      serde: jsonSerde<BenchEvent>(),
    })
    .map((e) => ({ ...e, v2: e.v * 2 }))
    .filter(keep)
    .to(process.env.SLUICE_APP_OUTPUT ?? 'bench-out', { serde: jsonSerde() });
  return app;
}
