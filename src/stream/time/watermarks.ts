/**
 * Watermarks: per-partition generators and the WatermarkTracker that merges them.
 *
 * A watermark W is the promise "no more records with timestamp ≤ W" (Flink's definition).
 * boundedOutOfOrderness(d) emits maxTimestampSeen − d − 1, so a record exactly d ms behind the
 * maximum is still on time.
 *
 * Invariants: the merged watermark of a tracker never decreases. It is the minimum over the
 * partitions that are not idle; a partition is idle after `idlenessMs` of processing time
 * without records, and becomes active again with its next record (it cannot pull the merged
 * watermark back, it only holds it until it catches up). When every partition is idle the
 * tracker reports idle and downstream operators exclude this input from their own minimum.
 * Declared partitions that have never produced a record hold the watermark at −∞ until they
 * turn idle, exactly as an empty Kafka partition does in Flink.
 *
 * Concurrency: one tracker per source per task, single-threaded.
 */

export interface WatermarkGenerator {
  /** Called with the greatest timestamp of a batch (or per record: same result for max-based). */
  onEvent(timestamp: number): void;
  /** Current watermark of this partition; −Infinity before any event. */
  current(): number;
}

export interface WatermarkStrategy {
  readonly name: string;
  create(): WatermarkGenerator;
}

class BoundedOutOfOrdernessGenerator implements WatermarkGenerator {
  private max = Number.NEGATIVE_INFINITY;
  constructor(private readonly delay: number) {}
  onEvent(timestamp: number): void {
    if (timestamp > this.max) this.max = timestamp;
  }
  current(): number {
    return this.max - this.delay - 1;
  }
}

/** Watermark = greatest timestamp seen − outOfOrdernessMs − 1. */
export function boundedOutOfOrderness(outOfOrdernessMs: number): WatermarkStrategy {
  if (!(outOfOrdernessMs >= 0) || !Number.isFinite(outOfOrdernessMs)) {
    throw new RangeError(`boundedOutOfOrderness: ${outOfOrdernessMs} is not a finite duration ≥ 0`);
  }
  return {
    name: `bounded(${outOfOrdernessMs})`,
    create: () => new BoundedOutOfOrdernessGenerator(outOfOrdernessMs),
  };
}

/** Timestamps never go backwards within a partition: watermark = greatest timestamp − 1. */
export function monotonousTimestamps(): WatermarkStrategy {
  return boundedOutOfOrderness(0);
}

/** No event-time progress from records (processing-time pipelines, or explicit watermarks only). */
export function noWatermarks(): WatermarkStrategy {
  return {
    name: 'none',
    create: () => ({ onEvent() {}, current: () => Number.NEGATIVE_INFINITY }),
  };
}

interface PartitionState {
  generator: WatermarkGenerator;
  /** Explicitly advanced watermark (driver / control records); max-combined with the generator. */
  forced: number;
  lastActiveAt: number;
  idle: boolean;
}

export class WatermarkTracker {
  private readonly partitions = new Map<number, PartitionState>();
  private merged = Number.NEGATIVE_INFINITY;
  private allIdle = false;

  constructor(
    private readonly strategy: WatermarkStrategy,
    /** 0 or absent: partitions never go idle. */
    private readonly idlenessMs: number,
    /** The partitions this tracker waits for: a count (0..n−1) or the assigned partition ids. */
    partitions: number | readonly number[],
    now: number,
  ) {
    const ids = typeof partitions === 'number' ? Array.from({ length: partitions }, (_, i) => i) : partitions;
    for (const p of ids) this.partition(p, now);
  }

  private partition(p: number, now: number): PartitionState {
    let s = this.partitions.get(p);
    if (s === undefined) {
      s = {
        generator: this.strategy.create(),
        forced: Number.NEGATIVE_INFINITY,
        lastActiveAt: now,
        idle: false,
      };
      this.partitions.set(p, s);
    }
    return s;
  }

  /** Records of one partition arrived; maxTimestamp is the batch's greatest timestamp. */
  onRecords(partition: number, maxTimestamp: number, now: number): void {
    const s = this.partition(partition, now);
    s.generator.onEvent(maxTimestamp);
    s.lastActiveAt = now;
    s.idle = false;
  }

  /** Forces a partition's watermark forward (never back). */
  advance(partition: number, watermark: number, now: number): void {
    const s = this.partition(partition, now);
    if (watermark > s.forced) s.forced = watermark;
    s.lastActiveAt = now;
    s.idle = false;
  }

  /** Marks partitions idle whose last record is idlenessMs or more in the past. */
  checkIdle(now: number): void {
    if (!(this.idlenessMs > 0)) return;
    for (const s of this.partitions.values()) {
      if (!s.idle && now - s.lastActiveAt >= this.idlenessMs) s.idle = true;
    }
  }

  /** Recomputes the merged watermark; returns it (monotonic). */
  update(): number {
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    for (const s of this.partitions.values()) {
      if (s.idle) continue;
      active++;
      const g = s.generator.current();
      const w = g > s.forced ? g : s.forced;
      if (w < min) min = w;
    }
    this.allIdle = active === 0 && this.partitions.size > 0;
    if (active > 0 && min > this.merged) this.merged = min;
    return this.merged;
  }

  get watermark(): number {
    return this.merged;
  }

  /** True when every partition is idle: downstream excludes this input from its minimum. */
  get idle(): boolean {
    return this.allIdle;
  }

  partitionWatermark(partition: number): number {
    const s = this.partitions.get(partition);
    if (s === undefined) return Number.NEGATIVE_INFINITY;
    const g = s.generator.current();
    return g > s.forced ? g : s.forced;
  }

  /** Partition watermarks for a checkpoint (restore with advance()). */
  snapshot(): Array<[number, number]> {
    return [...this.partitions.keys()].map((p) => [p, this.partitionWatermark(p)]);
  }

  isPartitionIdle(partition: number): boolean {
    return this.partitions.get(partition)?.idle ?? false;
  }
}
