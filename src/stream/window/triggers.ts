/**
 * Triggers: when a window emits besides its close (Flink's Trigger, reduced to what the
 * operators need). The default trigger of time windows is the watermark passing end − 1
 * ('final'); a custom trigger ADDS firings before that ('early'), and is the only source of
 * results for global windows.
 *
 * Results: 'continue' nothing; 'fire' emit the current result and keep the state;
 * 'fire_and_purge' emit and clear the (key, window) state; 'purge' clear without emitting.
 */
import type { Window } from '../runtime/record.js';

export type TriggerResult = 'continue' | 'fire' | 'fire_and_purge' | 'purge';

export interface TriggerContext {
  readonly key: unknown;
  readonly window: Window;
  /** Records added to this (key, window) since it was created or last purged. */
  readonly count: number;
  readonly watermark: number;
  readonly processingTime: number;
  registerProcessingTimeTimer(time: number): void;
  registerEventTimeTimer(time: number): void;
}

export interface Trigger {
  readonly name: string;
  /** After a record was added. `timestamp` is the record's. */
  onElement?(timestamp: number, ctx: TriggerContext): TriggerResult;
  onProcessingTime?(time: number, ctx: TriggerContext): TriggerResult;
  onEventTime?(time: number, ctx: TriggerContext): TriggerResult;
}

/** Fires every `count` records per key and window; purges with `purge` (global windows). */
export function countTrigger(count: number, purge = true): Trigger {
  return {
    name: `count(${count})`,
    onElement: (_ts, ctx) => (ctx.count >= count ? (purge ? 'fire_and_purge' : 'fire') : 'continue'),
  };
}

/**
 * Early results every `intervalMs` of processing time while a (key, window) has data: the
 * first record arms a timer; each firing re-arms it.
 */
export function processingTimeTrigger(intervalMs: number): Trigger {
  return {
    name: `processing-time(${intervalMs})`,
    onElement: (_ts, ctx) => {
      if (ctx.count === 1) ctx.registerProcessingTimeTimer(ctx.processingTime + intervalMs);
      return 'continue';
    },
    onProcessingTime: (time, ctx) => {
      ctx.registerProcessingTimeTimer(time + intervalMs);
      return 'fire';
    },
  };
}

/** Fires when the watermark passes each multiple of intervalMs inside the window. */
export function continuousEventTimeTrigger(intervalMs: number): Trigger {
  return {
    name: `continuous-event-time(${intervalMs})`,
    onElement: (ts, ctx) => {
      ctx.registerEventTimeTimer(ts - (ts % intervalMs) + intervalMs - 1);
      return 'continue';
    },
    onEventTime: () => 'fire',
  };
}
