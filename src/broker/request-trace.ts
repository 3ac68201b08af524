/**
 * RequestTrace: an opt-in diagnostic record of where produce-to-consume latency goes inside
 * the broker. `sluice broker` keeps one when SLUICE_BROKER_TRACE=<file> is set and writes it
 * to that file on shutdown; bench/broker.ts reads it to split each record's latency into
 * producer side, broker queue, fetch wait and consumer side.
 *
 * Recorded, per partition of every Produce and Fetch response that carried records: the topic,
 * the first and last offset, and when the request's frame was received, when its handler
 * started and when its response was handed to the socket; the count of Fetch responses that
 * carried no records; the broker's GC pauses (PerformanceObserver 'gc'); and its event-loop
 * lateness as seen by a 1 ms interval timer (only samples later than `lateMs` are kept, with
 * their time, plus the count of all samples).
 *
 * Format (the file): one JSON object `{ timeOrigin, produce, fetch, emptyFetches, gc,
 * loopLate, loopSamples, dropped }`. Rows are arrays, times are `performance.now()` of this
 * process in ms: add `timeOrigin` for ms since the epoch, comparable with other processes on
 * the same machine (`performance.timeOrigin + performance.now()` there).
 *   produce / fetch rows: [topic, firstOffset, lastOffset, receivedAt, startedAt, writtenAt]
 *   gc rows: [startTime, durationMs, kind]   loopLate rows: [at, latenessMs]
 * Invariants: at most `maxRows` rows per list (then `dropped` counts what was left out), so a
 * forgotten flag cannot grow memory without bound. Offsets are read from record batch headers
 * only (no CRC, no decoding).
 * Concurrency: one event loop; `requestDone` is called synchronously by the server.
 * Crash behaviour: diagnostics only, held in memory; a kill -9 loses the trace, nothing else.
 * Cost: a few array pushes per request and a 1 ms timer; nothing at all when not enabled.
 */
import { writeFileSync } from 'node:fs';
import { type PerformanceObserver as Observer, PerformanceObserver } from 'node:perf_hooks';
import { BATCH_HEADER_SIZE, BatchOffsets, LOG_OVERHEAD, readBaseOffset } from '../protocol/index.js';
import type { RequestObserver, RequestTiming } from './server.js';

type Row = [string, number, number, number, number, number];

/** First and last offset of the record batches in `records`, or null when there are none. */
function offsetRange(records: Buffer | null | undefined): [number, number] | null {
  if (records === null || records === undefined || records.length < BATCH_HEADER_SIZE) return null;
  const first = readBaseOffset(records, 0);
  let last = -1;
  for (let pos = 0; pos + BATCH_HEADER_SIZE <= records.length; ) {
    last = readBaseOffset(records, pos) + records.readInt32BE(pos + BatchOffsets.lastOffsetDelta);
    pos += records.readInt32BE(pos + BatchOffsets.batchLength) + LOG_OVERHEAD;
  }
  return [first, last];
}

/** Records in the batches of a produce request (their offsets are assigned by the broker). */
function recordCount(records: Buffer | null | undefined): number {
  let n = 0;
  if (records === null || records === undefined) return 0;
  for (let pos = 0; pos + BATCH_HEADER_SIZE <= records.length; ) {
    n += records.readInt32BE(pos + BatchOffsets.lastOffsetDelta) + 1;
    pos += records.readInt32BE(pos + BatchOffsets.batchLength) + LOG_OVERHEAD;
  }
  return n;
}

interface ProduceBody {
  topicData: { name: string; partitionData: { index: number; records: Buffer | null }[] }[];
}
interface ProduceResponse {
  responses: { partitionResponses: { index: number; errorCode: number; baseOffset: number }[] }[];
}
interface FetchResponse {
  responses: { partitions: { records: Buffer | null }[] }[];
}

export class RequestTrace implements RequestObserver {
  readonly produce: Row[] = [];
  readonly fetch: Row[] = [];
  readonly gc: [number, number, number][] = [];
  readonly loopLate: [number, number][] = [];
  emptyFetches = 0;
  loopSamples = 0;
  dropped = 0;
  private readonly gcObserver: Observer;
  private readonly timer: NodeJS.Timeout;
  /** Topic names of Fetch requests by topic id (v13+ fetches name topics by id). */
  private readonly fetchTopics: (req: RequestTiming['request']) => string[];

  constructor(
    topicName: (topicId: Buffer) => string | undefined,
    private readonly maxRows = 2_000_000,
    lateMs = 1,
  ) {
    this.fetchTopics = (req) => {
      const b = req.body as { topics: { topic: string; topicId: Buffer }[] };
      return b.topics.map((t) => (req.apiVersion >= 13 ? (topicName(t.topicId) ?? '') : t.topic));
    };
    this.gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as { detail?: { kind?: number } }).detail?.kind ?? 0;
        this.push(this.gc, [e.startTime, e.duration, kind]);
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
    let prev = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const late = now - prev - 1;
      prev = now;
      this.loopSamples++;
      if (late > lateMs) this.push(this.loopLate, [now, late]);
    }, 1);
    this.timer.unref();
  }

  private push<T>(list: T[], row: T): void {
    if (list.length < this.maxRows) list.push(row);
    else this.dropped++;
  }

  requestDone(t: RequestTiming): void {
    const key = t.request.apiKey;
    if (key === 0 && t.response !== null) {
      const body = t.request.body as unknown as ProduceBody;
      const resp = t.response as ProduceResponse;
      body.topicData.forEach((td, ti) => {
        td.partitionData.forEach((pd, pi) => {
          const r = resp.responses[ti]?.partitionResponses[pi];
          if (r === undefined || r.errorCode !== 0) return;
          const n = recordCount(pd.records);
          this.push(this.produce, [
            td.name,
            r.baseOffset,
            r.baseOffset + n - 1,
            t.receivedAt,
            t.startedAt,
            t.writtenAt,
          ]);
        });
      });
    } else if (key === 1 && t.response !== null) {
      const names = this.fetchTopics(t.request);
      const resp = t.response as FetchResponse;
      let any = false;
      resp.responses.forEach((tr, ti) => {
        for (const p of tr.partitions) {
          const range = offsetRange(p.records);
          if (range === null) continue;
          any = true;
          this.push(this.fetch, [
            names[ti] ?? '',
            range[0],
            range[1],
            t.receivedAt,
            t.startedAt,
            t.writtenAt,
          ]);
        }
      });
      if (!any) this.emptyFetches++;
    }
  }

  /** Stops the GC observer and the timer. */
  stop(): void {
    this.gcObserver.disconnect();
    clearInterval(this.timer);
  }

  toJSON(): Record<string, unknown> {
    return {
      timeOrigin: performance.timeOrigin,
      produce: this.produce,
      fetch: this.fetch,
      emptyFetches: this.emptyFetches,
      gc: this.gc,
      loopLate: this.loopLate,
      loopSamples: this.loopSamples,
      dropped: this.dropped,
    };
  }

  /** Stops and writes the trace as one JSON object (synchronously: it runs at shutdown). */
  writeTo(path: string): void {
    this.stop();
    writeFileSync(path, JSON.stringify(this));
  }
}
