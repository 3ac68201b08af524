/**
 * runNexmark: one Nexmark query over `events` generated events on one thread — the generator
 * as the in-process Source, a TaskRunner around one Task (heap state), every output record
 * counted and dropped by a counting sink. Shared by bench/nexmark/run.ts and
 * `sluice bench nexmark` (one home, so both measure the same thing).
 *
 * Reported: wall seconds from the first poll to the end of input (generation included, as in
 * Flink's nexmark, whose datagen source runs in the job), events/s on the single thread, CPU
 * seconds (process.cpuUsage: includes V8's concurrent GC threads) and events per CPU second
 * (what a core does when the machine is shared and the wall clock includes waiting), peak V8 heap sampled every
 * 64 polls and at the end, and Flink 1.13's published per-core rate for the query with the ratio.
 */
import { getHeapStatistics } from 'node:v8';
import { type Sink, StreamApp, type StreamRecord, Task, TaskRunner } from '../../../stream/index.js';
import { type NexmarkConfig, NexmarkGenerator } from './generator.js';
import { FLINK_PER_CORE, QUERIES } from './queries/index.js';
import { NexmarkSource, nexmarkWatermark } from './source.js';

export interface NexmarkRunOptions {
  readonly events: number;
  /** Generator settings; default seed 1 and firstEventRate 10 000 000 (Flink's run: 10 M TPS). */
  readonly config?: NexmarkConfig;
  /** Records per poll (default 4 096). */
  readonly batch?: number;
}

export interface NexmarkResult {
  query: string;
  events: number;
  outputs: number;
  seconds: number;
  cpuSeconds: number;
  eventsPerSecondPerCore: number;
  /** events / CPU seconds: the per-core rate with other processes' load taken out. */
  eventsPerCpuSecond: number;
  peakHeapMB: number;
  flinkPerCore: number | null;
  ratioToFlink: number | null;
}

class CountingSink implements Sink {
  count = 0;
  constructor(readonly name: string) {}
  write(records: readonly StreamRecord[]): void {
    this.count += records.length;
  }
}

export async function runNexmark(query: string, options: NexmarkRunOptions): Promise<NexmarkResult> {
  const build = QUERIES[query];
  if (build === undefined)
    throw new RangeError(`unknown query '${query}' (known: ${Object.keys(QUERIES).join(', ')})`);
  const gen = new NexmarkGenerator({ seed: 1, firstEventRate: 10_000_000, ...options.config });
  const app = new StreamApp(`nexmark-${query}`, { maxFutureMs: Number.MAX_SAFE_INTEGER });
  build(app, { watermark: nexmarkWatermark(gen) });
  const sinks: CountingSink[] = [];
  const task = new Task(app.topology(), {
    taskId: 'nexmark',
    sinkFactory: (name) => {
      const s = new CountingSink(name);
      sinks.push(s);
      return s;
    },
  });
  const source = new NexmarkSource(gen, options.events);
  let peak = getHeapStatistics().used_heap_size;
  let polls = 0;
  const sampled = {
    get done() {
      return source.done;
    },
    poll(max: number) {
      if ((++polls & 63) === 0) peak = Math.max(peak, getHeapStatistics().used_heap_size);
      return source.poll(max);
    },
  };
  const runner = new TaskRunner(task, sampled, {
    endOfInput: true,
    maxPollRecords: options.batch ?? 4096,
    commitIntervalMs: 1000,
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await runner.run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  peak = Math.max(peak, getHeapStatistics().used_heap_size);
  task.close();
  const rate = options.events / seconds;
  const flink = FLINK_PER_CORE[query] ?? null;
  return {
    query,
    events: options.events,
    outputs: sinks.filter((s) => !s.name.startsWith('__')).reduce((n, s) => n + s.count, 0),
    seconds: Number(seconds.toFixed(3)),
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
    eventsPerSecondPerCore: Math.round(rate),
    eventsPerCpuSecond: Math.round(options.events / ((cpu.user + cpu.system) / 1e6)),
    peakHeapMB: Math.round(peak / 1048576),
    flinkPerCore: flink,
    ratioToFlink: flink === null ? null : Number((rate / flink).toFixed(2)),
  };
}
