/**
 * Aggregate functions for windows (Flink's AggregateFunction): an accumulator created per
 * (key, pane or session), values added, accumulators merged (pane sharing for sliding windows,
 * session merges), a result read at firing.
 *
 * Contract: add(acc, v) and merge(a, b) return the new accumulator and may mutate and return
 * their FIRST argument, never the second; getResult must not mutate. Accumulators that are
 * plain numbers work as well as objects.
 */

export interface AggregateFunction<V, A, R> {
  createAccumulator(): A;
  add(accumulator: A, value: V): A;
  merge(a: A, b: A): A;
  getResult(accumulator: A): R;
}

export function counting<V = unknown>(): AggregateFunction<V, number, number> {
  return {
    createAccumulator: () => 0,
    add: (a) => a + 1,
    merge: (a, b) => a + b,
    getResult: (a) => a,
  };
}

export function summing<V>(field: (v: V) => number): AggregateFunction<V, number, number> {
  return {
    createAccumulator: () => 0,
    add: (a, v) => a + field(v),
    merge: (a, b) => a + b,
    getResult: (a) => a,
  };
}

const EMPTY: unique symbol = Symbol('empty');
type Empty = typeof EMPTY;

/** Reduce as an aggregate: the accumulator is the running value (or empty). */
export function reducing<V>(reduce: (a: V, b: V) => V): AggregateFunction<V, V | Empty, V> {
  return {
    createAccumulator: () => EMPTY,
    add: (a, v) => (a === EMPTY ? v : reduce(a, v)),
    merge: (a, b) => (a === EMPTY ? b : b === EMPTY ? a : reduce(a, b)),
    getResult: (a) => a as V,
  };
}
