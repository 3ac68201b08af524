/**
 * The stream processor's public face: the DSL, windows, time, the runtime's task and I/O
 * boundary (for issue 7's Kafka runner), and the test driver.
 */
export { type AppOptions, type InputOptions, StreamApp, type TableOptions } from './api/app.js';
export {
  KeyedStream,
  type SinkHandle,
  type SinkOptions,
  Stream,
  Table,
  WindowedStream,
  type WindowOptions,
  WindowResultStream,
} from './api/dsl.js';
export { LogicalGraph, type LogicalNode } from './plan/logical.js';
export { type PhysicalNode, repartitionEdges, Topology } from './plan/physical.js';
export {
  type AppPlan,
  type RepartitionTopic,
  repartitionTopic,
  resolvePartitions,
  type SubTopology,
  type SubTopologyInput,
  splitTopology,
} from './plan/subtopology.js';
export {
  CollectingSink,
  type Committer,
  type Sink,
  type SinkFactory,
  type Source,
  type SourceBatch,
} from './runtime/io.js';
export { type SerdeHook, TopicSink, UpstreamWatermarks } from './runtime/kafka-io.js';
export {
  type KeyedStateFactory,
  type KeyedStateMap,
  Operator,
  type OperatorContext,
  Port,
} from './runtime/operator.js';
export type {
  AsyncOptions,
  Deserializer,
  ProcessContext,
  ProcessFunction,
  TimerControl,
  TimerInfo,
  ValueState,
} from './runtime/operators.js';
export {
  type DeadLetter,
  type DeadLetterKind,
  type LateRecord,
  StreamRecord,
  type Window,
  type Windowed,
  type WindowResultKind,
} from './runtime/record.js';
export { ArraySource, type RunnerMetrics, type RunnerOptions, TaskRunner } from './runtime/runner.js';
export { HeapKeyedState, HeapStateFactory, storeStateFactory } from './runtime/state.js';
export {
  DEFAULT_REPARTITION_PURGE_INTERVAL_MS,
  type RuntimeMetrics,
  StreamRuntime,
  type StreamRuntimeOptions,
} from './runtime/stream-runtime.js';
export {
  type ProcessingGuarantee,
  type RestoreProgress,
  StreamThread,
  type TaskMetricsView,
  type ThreadMetrics,
} from './runtime/stream-thread.js';
export {
  type CommitResult,
  DEFAULT_DEAD_LETTER_SINK,
  DEFAULT_LATE_SINK,
  Task,
  type TaskMetrics,
  type TaskOptions,
  type TaskSnapshot,
} from './runtime/task.js';
// State stores (src/stream/state, built alongside): re-exported so users import one module.
export * from './state/index.js';
export {
  type PipeOptions,
  TestDriver,
  type TestDriverOptions,
  TestInput,
  TestOutput,
} from './testing/driver.js';
export { TimerHeap, TimerService } from './time/timers.js';
export {
  boundedOutOfOrderness,
  monotonousTimestamps,
  noWatermarks,
  type WatermarkGenerator,
  type WatermarkStrategy,
  WatermarkTracker,
} from './time/watermarks.js';
export { type AggregateFunction, counting, reducing, summing } from './window/aggregate.js';
export {
  alignedStart,
  assignWindows,
  type GlobalWindows,
  globalWindow,
  hopping,
  type SessionWindows,
  type SlidingWindows,
  session,
  sliding,
  type TumblingWindows,
  tumbling,
  type WindowAssigner,
} from './window/assigners.js';
export {
  continuousEventTimeTrigger,
  countTrigger,
  processingTimeTrigger,
  type Trigger,
  type TriggerContext,
  type TriggerResult,
} from './window/triggers.js';
