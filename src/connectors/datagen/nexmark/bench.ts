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
 *
 * Queries with extra I/O (QUERY_IO): q10's output goes through a real FileSink (CSV files,
 * fsync'd and renamed at every commit, once a second) into `outputDir` or a temporary
 * directory deleted after the run — `outputs` then counts the rows published and
 * `outputBytes`/`outputFiles` what was written; q13's side input is read from `sideInputPath`
 * or from a generated 10 000-row file, and loaded (CsvFileSource, first in a SequenceSource)
 * inside the measured time, before the first event.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import {
  type Sink,
  type Source,
  StreamApp,
  type StreamRecord,
  Task,
  TaskRunner,
} from '../../../stream/index.js';
import { CsvFileSource, csvLine, FileSink, SequenceSource } from '../../file/index.js';
import { type NexmarkConfig, NexmarkGenerator } from './generator.js';
import { FLINK_PER_CORE, QUERIES, QUERY_IO, SIDE_INPUT_ROWS } from './queries/index.js';
import { NexmarkSource, nexmarkWatermark } from './source.js';

/**
 * Writes q13's side input: `rows` lines `key,value` for keys 0 … rows − 1 with value the key
 * as text (the table RisingWave and the nexmark project generate). Written to a temporary
 * name, fsync'd and renamed, so a reader never sees half a file.
 */
export function writeSideInput(path: string, rows = SIDE_INPUT_ROWS): void {
  let text = '';
  for (let k = 0; k < rows; k++) text += csvLine({ key: k, value: String(k) }, ['key', 'value']);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export interface NexmarkRunOptions {
  readonly events: number;
  /** Generator settings; default seed 1 and firstEventRate 10 000 000 (Flink's run: 10 M TPS). */
  readonly config?: NexmarkConfig;
  /** Records per poll (default 4 096). */
  readonly batch?: number;
  /** q10: directory for the output files (kept); default a temporary one, deleted after. */
  readonly outputDir?: string;
  /** q13: the side input CSV (key,value); default a generated 10 000-row file. */
  readonly sideInputPath?: string;
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
  /** q10: bytes and files the FileSink published. */
  outputBytes?: number;
  outputFiles?: number;
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
  const io = QUERY_IO[query] ?? {};
  const temp: string[] = [];
  const scratch = () => {
    const d = mkdtempSync(join(tmpdir(), `sluice-nexmark-${query}-`));
    temp.push(d);
    return d;
  };
  try {
    const sinks: CountingSink[] = [];
    const files: FileSink[] = [];
    const outputDir = io.fileSink === undefined ? undefined : (options.outputDir ?? scratch());
    const task = new Task(app.topology(), {
      taskId: 'nexmark',
      sinkFactory: (name, taskId) => {
        if (name === 'out' && io.fileSink !== undefined && outputDir !== undefined) {
          const f = new FileSink(name, { ...io.fileSink, path: outputDir, taskId });
          files.push(f);
          return f;
        }
        const s = new CountingSink(name);
        sinks.push(s);
        return s;
      },
    });
    const events = new NexmarkSource(gen, options.events);
    let source: Source & { readonly done: boolean } = events;
    if (io.sideInput !== undefined) {
      let path = options.sideInputPath;
      if (path === undefined) {
        path = join(scratch(), 'side_input.csv');
        writeSideInput(path);
      }
      source = new SequenceSource([
        new CsvFileSource(path, io.sideInput.input, io.sideInput.columns),
        events,
      ]);
    }
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
      outputs:
        sinks.filter((s) => !s.name.startsWith('__')).reduce((n, s) => n + s.count, 0) +
        files.reduce((n, f) => n + f.rowsPublished, 0),
      seconds: Number(seconds.toFixed(3)),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
      eventsPerSecondPerCore: Math.round(rate),
      eventsPerCpuSecond: Math.round(options.events / ((cpu.user + cpu.system) / 1e6)),
      peakHeapMB: Math.round(peak / 1048576),
      flinkPerCore: flink,
      ratioToFlink: flink === null ? null : Number((rate / flink).toFixed(2)),
      ...(files.length === 0
        ? {}
        : {
            outputBytes: files.reduce((n, f) => n + f.bytesPublished, 0),
            outputFiles: files.reduce((n, f) => n + f.filesPublished, 0),
          }),
    };
  } finally {
    for (const d of temp) rmSync(d, { recursive: true, force: true });
  }
}
