/**
 * Generator throughput alone (no engine): events/s of NexmarkGenerator.nextBatch into a reused
 * array, and of encodeEvent (JSON bytes) on a smaller run. Prints one JSON object.
 * Run: node --import tsx bench/nexmark/generator.ts [events]
 */
import { encodeEvent, type NexmarkEvent, NexmarkGenerator } from '../../src/connectors/index.js';

const events = Number(process.argv[2] ?? 10_000_000);
const gen = new NexmarkGenerator({ seed: 1 });
const batch: NexmarkEvent[] = new Array(10_000);
gen.nextBatch(batch, batch.length); // warm-up
gen.seek(0);
let checksum = 0;
const t0 = performance.now();
for (let done = 0; done < events; done += batch.length) {
  gen.nextBatch(batch, batch.length);
  checksum += batch[batch.length - 1].dateTime;
}
const seconds = (performance.now() - t0) / 1000;
const encodeN = Math.min(events, 1_000_000);
gen.seek(0);
let bytes = 0;
const t1 = performance.now();
for (let i = 0; i < encodeN; i++) bytes += encodeEvent(gen.next()).value.length;
const encodeSeconds = (performance.now() - t1) / 1000;
console.log(
  JSON.stringify({
    name: 'nexmark-generator',
    events,
    seconds,
    rate: Math.round(events / seconds),
    encoded: {
      events: encodeN,
      seconds: encodeSeconds,
      rate: Math.round(encodeN / encodeSeconds),
      avgBytes: bytes / encodeN,
    },
    checksum,
  }),
);
