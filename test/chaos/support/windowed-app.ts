/**
 * The chaos tests' (and bench/stream-kafka.ts's) windowed aggregation, as an application file
 * for `sluice run`: JSON events `{k, v, ts}` from the input topic, event time `ts` with
 * boundedOutOfOrderness, keyed by `k`, tumbling windows, count and sum per key and window,
 * emitted once when the window closes as JSON `{key, start, end, count, sum}`.
 *
 * Knobs (environment of the `sluice run` process; defaults are the chaos workload's,
 * window-workload.ts): SLUICE_APP_INPUT, SLUICE_APP_OUTPUT, SLUICE_APP_PARTITIONS,
 * SLUICE_APP_WINDOW_MS, SLUICE_APP_BOUND_MS. The application id is the CLI's
 * (--application-id), 'chaos-windows' otherwise.
 */
import {
  type AggregateFunction,
  boundedOutOfOrderness,
  jsonSerde,
  StreamApp,
  tumbling,
} from '../../../src/stream/index.js';
import {
  INPUT_TOPIC,
  type InputEvent,
  OUTPUT_TOPIC,
  WATERMARK_BOUND_MS,
  WINDOW_MS,
  type WindowTotal,
} from './window-workload.js';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;

const countAndSum: AggregateFunction<
  InputEvent,
  { count: number; sum: number },
  { count: number; sum: number }
> = {
  createAccumulator: () => ({ count: 0, sum: 0 }),
  add: (a, e) => ({ count: a.count + 1, sum: a.sum + e.v }),
  merge: (a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }),
  getResult: (a) => a,
};

export default function windowedApp(): StreamApp {
  const app = new StreamApp('chaos-windows');
  app
    .stream<InputEvent>(env('SLUICE_APP_INPUT', INPUT_TOPIC), {
      partitions: Number(env('SLUICE_APP_PARTITIONS', '12')),
      timestamp: (e) => e.ts,
      watermark: boundedOutOfOrderness(Number(env('SLUICE_APP_BOUND_MS', String(WATERMARK_BOUND_MS)))),
      serde: jsonSerde<InputEvent>(),
    })
    .keyBy((e) => e.k)
    .window(tumbling(Number(env('SLUICE_APP_WINDOW_MS', String(WINDOW_MS)))))
    .aggregate(countAndSum)
    .map(
      (w): WindowTotal => ({
        key: w.key,
        start: w.window.start,
        end: w.window.end,
        count: w.value.count,
        sum: w.value.sum,
      }),
    )
    .to(env('SLUICE_APP_OUTPUT', OUTPUT_TOPIC), { serde: jsonSerde<WindowTotal>() });
  return app;
}
