/**
 * The transaction coordinator's pure state machine: every transition by example, then a
 * fast-check model test driving two producers that share a transactional id with a manual
 * clock, timeouts and out-of-order marker completion, checking the coordinator's invariants.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MAX_EPOCH,
  type StepResult,
  step,
  type TopicPartition,
  type TxnEffect,
  TxnError,
  type TxnInput,
  type TxnMetadata,
  TxnState,
} from '../../../src/broker/txn/state-machine.js';

const TID = 'tx-1';
const TP = (topic: string, partition: number): TopicPartition => ({ topic, partition });

/** A tiny edge: adopts `next`, keeps marker effects for later delivery. */
class Harness {
  meta = new Map<string, TxnMetadata>();
  markers: Extract<TxnEffect, { kind: 'writeMarkers' }>[] = [];
  appends: Extract<TxnEffect, { kind: 'append' }>[] = [];
  nextPid = 1000;
  now = 0;

  run(input: TxnInput): StepResult {
    const r = step(this.meta, input);
    for (const [id, m] of r.next) this.meta.set(id, m);
    for (const e of r.effects) {
      if (e.kind === 'writeMarkers') this.markers.push(e);
      if (e.kind === 'append') this.appends.push(e);
    }
    return r;
  }
  init(timeoutMs = 60_000, producerId = -1, producerEpoch = -1) {
    return respondOf(
      this.run({
        kind: 'initProducerId',
        transactionalId: TID,
        timeoutMs,
        producerId,
        producerEpoch,
        now: this.now,
        freshProducerId: this.nextPid++,
      }),
    );
  }
  add(pid: number, epoch: number, parts: TopicPartition[]) {
    return respondOf(
      this.run({
        kind: 'addPartitions',
        transactionalId: TID,
        producerId: pid,
        producerEpoch: epoch,
        partitions: parts,
        now: this.now,
      }),
    );
  }
  end(pid: number, epoch: number, commit: boolean) {
    return respondOf(
      this.run({
        kind: 'endTxn',
        transactionalId: TID,
        producerId: pid,
        producerEpoch: epoch,
        commit,
        now: this.now,
      }),
    );
  }
  /** Delivers every queued marker write. */
  deliver(): void {
    const todo = this.markers;
    this.markers = [];
    for (const m of todo)
      this.run({
        kind: 'markersWritten',
        transactionalId: m.transactionalId,
        producerEpoch: m.producerEpoch,
        now: this.now,
      });
  }
  state(): TxnMetadata {
    const m = this.meta.get(TID);
    assert.ok(m);
    return m;
  }
}

function respondOf(r: StepResult) {
  const e = r.effects.find((x) => x.kind === 'respond');
  assert.ok(e && e.kind === 'respond', 'every request step answers');
  // Durability first: a response never precedes the append of the state it reports.
  const iResp = r.effects.indexOf(e);
  const iApp = r.effects.findIndex((x) => x.kind === 'append');
  if (iApp >= 0) assert.ok(iApp < iResp);
  return e;
}

describe('transaction state machine', () => {
  it('InitProducerId: a new id gets a fresh producer id at epoch 0, durably', () => {
    const h = new Harness();
    const r = h.init();
    assert.equal(r.errorCode, 0);
    assert.equal(r.producerId, 1000);
    assert.equal(r.producerEpoch, 0);
    assert.equal(h.state().state, TxnState.Empty);
    assert.equal(h.appends.length, 1);
  });

  it('InitProducerId: rejects timeouts outside (0, max]', () => {
    const h = new Harness();
    assert.equal(h.init(0).errorCode, TxnError.INVALID_TRANSACTION_TIMEOUT);
    assert.equal(h.init(900_001).errorCode, TxnError.INVALID_TRANSACTION_TIMEOUT);
    assert.equal(h.meta.size, 0);
  });

  it('re-init bumps the epoch and fences the older producer', () => {
    const h = new Harness();
    const a = h.init();
    const b = h.init();
    assert.equal(b.producerId, a.producerId);
    assert.equal(b.producerEpoch, a.producerEpoch + 1);
    assert.equal(h.add(a.producerId, a.producerEpoch, [TP('t', 0)]).errorCode, TxnError.PRODUCER_FENCED);
    assert.equal(h.end(a.producerId, a.producerEpoch, true).errorCode, TxnError.PRODUCER_FENCED);
    assert.equal(h.add(b.producerId, b.producerEpoch, [TP('t', 0)]).errorCode, 0);
  });

  it('commit: Ongoing -> PrepareCommit (answered, markers) -> CompleteCommit', () => {
    const h = new Harness();
    const p = h.init();
    h.now = 5;
    assert.equal(h.add(p.producerId, p.producerEpoch, [TP('b', 1), TP('a', 0)]).errorCode, 0);
    assert.equal(h.state().state, TxnState.Ongoing);
    assert.equal(h.state().txnStartTimestamp, 5);
    assert.deepEqual(h.state().partitions, [TP('a', 0), TP('b', 1)]);
    const appendsBefore = h.appends.length;
    assert.equal(h.add(p.producerId, p.producerEpoch, [TP('a', 0)]).errorCode, 0);
    assert.equal(h.appends.length, appendsBefore, 'an already-added partition writes nothing');
    assert.equal(h.end(p.producerId, p.producerEpoch, true).errorCode, 0);
    assert.equal(h.state().state, TxnState.PrepareCommit);
    assert.equal(h.markers.length, 1);
    assert.equal(h.markers[0]?.commit, true);
    assert.deepEqual(h.markers[0]?.partitions, [TP('a', 0), TP('b', 1)]);
    // While markers are in flight, the next transaction must wait.
    assert.equal(
      h.add(p.producerId, p.producerEpoch, [TP('a', 0)]).errorCode,
      TxnError.CONCURRENT_TRANSACTIONS,
    );
    assert.equal(h.end(p.producerId, p.producerEpoch, true).errorCode, TxnError.CONCURRENT_TRANSACTIONS);
    assert.equal(h.end(p.producerId, p.producerEpoch, false).errorCode, TxnError.INVALID_TXN_STATE);
    h.deliver();
    assert.equal(h.state().state, TxnState.CompleteCommit);
    assert.deepEqual(h.state().partitions, []);
    assert.equal(h.end(p.producerId, p.producerEpoch, true).errorCode, 0, 'a retried commit is OK');
    assert.equal(h.end(p.producerId, p.producerEpoch, false).errorCode, TxnError.INVALID_TXN_STATE);
    // The next transaction starts from CompleteCommit.
    assert.equal(h.add(p.producerId, p.producerEpoch, [TP('c', 0)]).errorCode, 0);
    assert.deepEqual(h.state().partitions, [TP('c', 0)]);
  });

  it('abort: Ongoing -> PrepareAbort -> CompleteAbort; retried abort OK, commit refused', () => {
    const h = new Harness();
    const p = h.init();
    h.add(p.producerId, p.producerEpoch, [TP('a', 0)]);
    assert.equal(h.end(p.producerId, p.producerEpoch, false).errorCode, 0);
    assert.equal(h.state().state, TxnState.PrepareAbort);
    assert.equal(h.end(p.producerId, p.producerEpoch, false).errorCode, TxnError.CONCURRENT_TRANSACTIONS);
    assert.equal(h.end(p.producerId, p.producerEpoch, true).errorCode, TxnError.INVALID_TXN_STATE);
    h.deliver();
    assert.equal(h.state().state, TxnState.CompleteAbort);
    assert.equal(h.end(p.producerId, p.producerEpoch, false).errorCode, 0);
    assert.equal(h.end(p.producerId, p.producerEpoch, true).errorCode, TxnError.INVALID_TXN_STATE);
  });

  it('EndTxn without a transaction is INVALID_TXN_STATE; unknown ids are INVALID_PRODUCER_ID_MAPPING', () => {
    const h = new Harness();
    assert.equal(h.end(1, 0, true).errorCode, TxnError.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(h.add(1, 0, [TP('a', 0)]).errorCode, TxnError.INVALID_PRODUCER_ID_MAPPING);
    const p = h.init();
    assert.equal(h.end(p.producerId, p.producerEpoch, true).errorCode, TxnError.INVALID_TXN_STATE);
    assert.equal(
      h.end(p.producerId + 1, p.producerEpoch, true).errorCode,
      TxnError.INVALID_PRODUCER_ID_MAPPING,
    );
  });

  it('re-init during an open transaction aborts it with a bumped epoch, then succeeds', () => {
    const h = new Harness();
    const a = h.init();
    h.add(a.producerId, a.producerEpoch, [TP('a', 0), TP('a', 1)]);
    const r = h.init();
    assert.equal(r.errorCode, TxnError.CONCURRENT_TRANSACTIONS);
    assert.equal(h.state().state, TxnState.PrepareAbort);
    assert.equal(h.state().producerEpoch, a.producerEpoch + 1);
    assert.equal(h.markers.length, 1);
    assert.equal(h.markers[0]?.commit, false);
    assert.equal(h.markers[0]?.producerEpoch, a.producerEpoch + 1, 'markers carry the fencing epoch');
    assert.equal(h.init().errorCode, TxnError.CONCURRENT_TRANSACTIONS, 'still aborting');
    h.deliver();
    const b = h.init();
    assert.equal(b.errorCode, 0);
    assert.equal(b.producerEpoch, a.producerEpoch + 2);
    assert.equal(h.end(a.producerId, a.producerEpoch, true).errorCode, TxnError.PRODUCER_FENCED);
  });

  it('timeout: tick aborts transactions older than their timeout and fences the producer', () => {
    const h = new Harness();
    const p = h.init(1000);
    h.now = 100;
    h.add(p.producerId, p.producerEpoch, [TP('a', 0)]);
    h.run({ kind: 'tick', now: 1100 });
    assert.equal(h.state().state, TxnState.Ongoing, 'exactly the timeout is not yet expired');
    h.run({ kind: 'tick', now: 1101 });
    assert.equal(h.state().state, TxnState.PrepareAbort);
    assert.equal(h.state().producerEpoch, p.producerEpoch + 1);
    h.deliver();
    assert.equal(h.state().state, TxnState.CompleteAbort);
    assert.equal(h.end(p.producerId, p.producerEpoch, true).errorCode, TxnError.PRODUCER_FENCED);
    assert.equal(h.add(p.producerId, p.producerEpoch, [TP('a', 0)]).errorCode, TxnError.PRODUCER_FENCED);
  });

  it('KIP-360: InitProducerId with the current id/epoch bumps; a stale one is fenced; a retry is answered', () => {
    const h = new Harness();
    const a = h.init();
    const b = h.init(60_000, a.producerId, a.producerEpoch);
    assert.equal(b.errorCode, 0);
    assert.equal(b.producerEpoch, a.producerEpoch + 1);
    // The same request again (the response was lost): answered with the current epoch, no bump.
    const retry = h.init(60_000, a.producerId, a.producerEpoch);
    assert.equal(retry.errorCode, 0);
    assert.equal(retry.producerEpoch, b.producerEpoch);
    h.init(); // another producer (no id presented) bumps again
    assert.equal(h.init(60_000, a.producerId, a.producerEpoch).errorCode, TxnError.PRODUCER_FENCED);
    assert.equal(
      h.init(60_000, b.producerId, b.producerEpoch).errorCode,
      TxnError.PRODUCER_FENCED,
      'the epoch before a bump by someone else is no retry',
    );
  });

  it('epoch exhaustion rolls over to a fresh producer id at epoch 0', () => {
    const h = new Harness();
    const a = h.init();
    h.meta.set(TID, { ...h.state(), producerEpoch: MAX_EPOCH - 2 });
    const b = h.init();
    assert.equal(b.errorCode, 0);
    assert.notEqual(b.producerId, a.producerId);
    assert.equal(b.producerEpoch, 0);
    assert.equal(h.state().previousProducerId, a.producerId);
  });

  it('recover: PrepareCommit re-emits commit markers, PrepareAbort abort markers, Ongoing is fenced and aborted', () => {
    const base = (id: string, state: TxnState): TxnMetadata => ({
      transactionalId: id,
      producerId: 7,
      previousProducerId: -1,
      lastProducerEpoch: -1,
      producerEpoch: 3,
      timeoutMs: 60_000,
      state,
      partitions: [TP('a', 0)],
      txnStartTimestamp: 1,
      lastUpdateTimestamp: 1,
    });
    const all = new Map([
      ['c', base('c', TxnState.PrepareCommit)],
      ['a', base('a', TxnState.PrepareAbort)],
      ['o', base('o', TxnState.Ongoing)],
      ['e', { ...base('e', TxnState.CompleteCommit), partitions: [] }],
    ]);
    const r = step(all, { kind: 'recover', now: 10 });
    const markers = r.effects.filter((e) => e.kind === 'writeMarkers');
    const by = new Map(markers.map((m) => [m.transactionalId, m]));
    assert.equal(by.get('c')?.commit, true);
    assert.equal(by.get('a')?.commit, false);
    assert.equal(by.get('o')?.commit, false);
    assert.equal(by.get('o')?.producerEpoch, 4);
    assert.equal(by.has('e'), false);
    assert.equal(r.next.get('o')?.state, TxnState.PrepareAbort);
  });
});

// ---- model test ----

type Cmd =
  | { k: 'init'; who: 0 | 1 }
  | { k: 'add'; who: 0 | 1; parts: number[] }
  | { k: 'end'; who: 0 | 1; commit: boolean }
  | { k: 'advance'; ms: number }
  | { k: 'tick' }
  | { k: 'deliver'; n: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ k: fc.constant('init' as const), who: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({
    k: fc.constant('add' as const),
    who: fc.constantFrom(0 as const, 1 as const),
    parts: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    k: fc.constant('end' as const),
    who: fc.constantFrom(0 as const, 1 as const),
    commit: fc.boolean(),
  }),
  fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 700 }) }),
  fc.record({ k: fc.constant('tick' as const) }),
  fc.record({ k: fc.constant('deliver' as const), n: fc.integer({ min: 0, max: 2 }) }),
);

describe('transaction state machine model', () => {
  it('invariants hold for two producers sharing an id, with timeouts and delayed markers', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { maxLength: 60 }), (cmds) => {
        const h = new Harness();
        const TIMEOUT = 1000;
        const producers: ({ pid: number; epoch: number } | null)[] = [null, null];
        /** Partitions each producer believes are in its open transaction, with their epoch. */
        const highestEpoch = new Map<number, number>();
        for (const c of cmds) {
          const before = h.meta.get(TID);
          if (c.k === 'init') {
            const r = h.init(TIMEOUT);
            if (r.errorCode === 0) producers[c.who] = { pid: r.producerId, epoch: r.producerEpoch };
            else assert.ok([TxnError.CONCURRENT_TRANSACTIONS].includes(r.errorCode as 51));
          } else if (c.k === 'add' || c.k === 'end') {
            const p = producers[c.who];
            if (p === null) continue;
            const r =
              c.k === 'add'
                ? h.add(
                    p.pid,
                    p.epoch,
                    c.parts.map((n) => TP('t', n)),
                  )
                : h.end(p.pid, p.epoch, c.commit);
            const m = h.state();
            const fenced =
              before !== undefined && (before.producerId !== p.pid || before.producerEpoch !== p.epoch);
            // A fenced producer (older epoch or older id) never succeeds.
            if (fenced) assert.notEqual(r.errorCode, 0);
            if (c.k === 'end' && r.errorCode === 0 && before?.state === TxnState.Ongoing) {
              assert.equal(m.state, c.commit ? TxnState.PrepareCommit : TxnState.PrepareAbort);
              const last = h.markers[h.markers.length - 1];
              assert.equal(last?.commit, c.commit);
              assert.equal(last?.producerEpoch, p.epoch, 'commit markers only for the live epoch');
            }
          } else if (c.k === 'advance') h.now += c.ms;
          else if (c.k === 'tick') {
            h.run({ kind: 'tick', now: h.now });
            const m = h.meta.get(TID);
            if (m?.state === TxnState.Ongoing) assert.ok(h.now - m.txnStartTimestamp <= m.timeoutMs);
          } else {
            const deliverable = h.markers.splice(0, c.n);
            for (const mk of deliverable)
              h.run({
                kind: 'markersWritten',
                transactionalId: TID,
                producerEpoch: mk.producerEpoch,
                now: h.now,
              });
          }
          const m = h.meta.get(TID);
          if (m === undefined) continue;
          // Epochs never go back for a producer id.
          const hi = highestEpoch.get(m.producerId) ?? -1;
          assert.ok(m.producerEpoch >= hi);
          highestEpoch.set(m.producerId, m.producerEpoch);
          // Complete and Empty states hold no partitions; Ongoing/Prepare hold at least one.
          if (
            m.state === TxnState.Empty ||
            m.state === TxnState.CompleteAbort ||
            m.state === TxnState.CompleteCommit
          )
            assert.equal(m.partitions.length, 0);
          else assert.ok(m.partitions.length > 0);
          // A Prepare state always has its marker write pending.
          if (m.state === TxnState.PrepareCommit || m.state === TxnState.PrepareAbort)
            assert.ok(h.markers.some((mk) => mk.producerEpoch === m.producerEpoch));
          // Commit markers are only ever for an epoch that was handed to a producer.
          for (const mk of h.markers)
            if (mk.commit)
              assert.ok(producers.some((p) => p?.pid === mk.producerId && p.epoch === mk.producerEpoch));
        }
        // Quiescence: deliver everything; nothing is left in a Prepare state.
        while (h.markers.length > 0) h.deliver();
        const m = h.meta.get(TID);
        if (m !== undefined)
          assert.ok(m.state !== TxnState.PrepareCommit && m.state !== TxnState.PrepareAbort);
      }),
      { numRuns: 400 },
    );
  });
});
