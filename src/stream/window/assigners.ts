/**
 * Window assigners (Flink's names): tumbling, sliding (= hopping), session, global.
 *
 * Windows are [start, end) in event-time ms. Time windows are aligned to `offset` (default 0,
 * i.e. the epoch): a tumbling window of size s holds ts when start = ts − ((ts − offset) mod s).
 * A sliding window of size s and slide d: ts belongs to the s/d windows whose start is aligned
 * to d and start ≤ ts < start + s. Sessions: each record opens [ts, ts + gap); windows that
 * overlap or touch merge, so two records belong to one session iff they are at most `gap` apart
 * along a chain of records. A window closes when the watermark reaches end − 1.
 */
import { SluiceError } from '../../common/index.js';
import type { Window } from '../runtime/record.js';

export interface TumblingWindows {
  readonly kind: 'tumbling';
  readonly size: number;
  readonly offset: number;
}
export interface SlidingWindows {
  readonly kind: 'sliding';
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
}
export interface SessionWindows {
  readonly kind: 'session';
  readonly gap: number;
}
export interface GlobalWindows {
  readonly kind: 'global';
}

export type WindowAssigner = TumblingWindows | SlidingWindows | SessionWindows | GlobalWindows;

function positive(name: string, v: number): void {
  if (!(v > 0) || !Number.isFinite(v) || !Number.isInteger(v)) {
    throw new SluiceError('INVALID_ARGUMENT', `${name} must be a positive integer number of ms, got ${v}`);
  }
}

export function tumbling(sizeMs: number, offsetMs = 0): TumblingWindows {
  positive('tumbling window size', sizeMs);
  return { kind: 'tumbling', size: sizeMs, offset: offsetMs };
}

/** Sliding (hopping) windows of sizeMs every slideMs. */
export function sliding(sizeMs: number, slideMs: number, offsetMs = 0): SlidingWindows {
  positive('sliding window size', sizeMs);
  positive('sliding window slide', slideMs);
  if (slideMs > sizeMs) throw new SluiceError('INVALID_ARGUMENT', 'slide must not exceed the window size');
  return { kind: 'sliding', size: sizeMs, slide: slideMs, offset: offsetMs };
}

export const hopping = sliding;

export function session(gapMs: number): SessionWindows {
  positive('session gap', gapMs);
  return { kind: 'session', gap: gapMs };
}

/** One window per key spanning all time; results come only from a trigger. */
export function globalWindow(): GlobalWindows {
  return { kind: 'global' };
}

export const GLOBAL_WINDOW: Window = { start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY };

/** Start of the window of length `step` aligned to `offset` that contains ts. */
export function alignedStart(ts: number, step: number, offset: number): number {
  let m = (ts - offset) % step;
  if (m < 0) m += step;
  return ts - m;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Pane length for slice sharing: every window is a whole number of panes. */
export function paneSize(a: TumblingWindows | SlidingWindows): number {
  return a.kind === 'tumbling' ? a.size : gcd(a.size, a.slide);
}

/** Every window of a non-merging assigner that contains ts (sessions: the record's own window). */
export function assignWindows(a: WindowAssigner, ts: number): Window[] {
  switch (a.kind) {
    case 'tumbling': {
      const s = alignedStart(ts, a.size, a.offset);
      return [{ start: s, end: s + a.size }];
    }
    case 'sliding': {
      const out: Window[] = [];
      for (let s = alignedStart(ts, a.slide, a.offset); s > ts - a.size; s -= a.slide) {
        out.push({ start: s, end: s + a.size });
      }
      return out;
    }
    case 'session':
      return [{ start: ts, end: ts + a.gap }];
    case 'global':
      return [GLOBAL_WINDOW];
  }
}
