/**
 * The transaction handlers called directly (no TCP), over a real log, the real transaction
 * and group coordinators and the log-backed offset store: TxnOffsetCommit fences a zombie from
 * an older group generation or an unknown member (KIP-447) and its offsets become visible only
 * when the transaction commits; OffsetFetch with requireStable answers UNSTABLE_OFFSET_COMMIT
 * meanwhile; PRODUCER_FENCED is INVALID_PRODUCER_EPOCH for old request versions;
 * DescribeTransactions, ListTransactions and DescribeProducers report what happened.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { offsetFetchHandler } from '../../../src/broker/handlers/09-offset-fetch.js';
import { initProducerIdHandler } from '../../../src/broker/handlers/22-init-producer-id.js';
import type { TxnHandlerContext } from '../../../src/broker/handlers/txn-context.js';
import { txnHandlers } from '../../../src/broker/handlers/txn-handlers.js';
import { Cluster, GroupCoordinator, LogOffsetStore } from '../../../src/broker/index.js';
import { logMarkerWriter, openTxnStateLog, TransactionCoordinator } from '../../../src/broker/txn/index.js';
import { LogManager } from '../../../src/log/index.js';
import { ErrorCode, encodeRecordBatch } from '../../../src/protocol/index.js';

// biome-ignore lint/suspicious/noExplicitAny: handlers are called with hand-built requests
type AnyHandler = (req: any, ctx: any) => any;
const call = (h: unknown, apiVersion: number, body: object) =>
  (h as AnyHandler)({ apiVersion, body, correlationId: 1, clientId: 't' }, {});

describe('transaction handlers', { timeout: 30_000 }, () => {
  let dir = '';
  let logs: LogManager;
  let txn: TransactionCoordinator;
  let store: LogOffsetStore;
  let groups: GroupCoordinator;
  let cluster: Cluster;
  let table: ReturnType<typeof txnHandlers>;
  let memberId = '';
  let generationId = -1;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-txn-handlers-'));
    logs = await LogManager.open({ dataDir: dir });
    await logs.createTopic('in', 1);
    await logs.createTopic('out', 2);
    cluster = new Cluster({ logs, node: { nodeId: 1, host: '127.0.0.1', port: 9092 } });
    store = await LogOffsetStore.open(logs);
    txn = await TransactionCoordinator.load({
      log: await openTxnStateLog(logs),
      markers: logMarkerWriter(logs, (tp, pid, commit) => {
        if (tp.topic === '__consumer_offsets') store.onMarker(pid, commit);
      }),
      allocateProducerId: () => cluster.allocateProducerId().producerId,
    });
    groups = new GroupCoordinator({ initialRebalanceDelayMs: 0, minSessionTimeoutMs: 100 });
    const ctx: TxnHandlerContext = {
      txn,
      groups,
      txnOffsets: store.txnSink,
      cluster,
      partitionLog: (t, p) => {
        try {
          return logs.getLog(t, p);
        } catch {
          return undefined;
        }
      },
    };
    table = txnHandlers(ctx);
    const joined = await groups.join({
      groupId: 'g',
      memberId: '',
      groupInstanceId: null,
      clientId: 'c',
      clientHost: 'h',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
      requireKnownMemberId: false,
    });
    assert.equal(joined.errorCode, 0);
    memberId = joined.memberId;
    generationId = joined.generationId;
    const sync = await groups.sync({
      groupId: 'g',
      generationId,
      memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId, assignment: Buffer.alloc(0) }],
    });
    assert.equal(sync.errorCode, 0);
  });

  after(async () => {
    groups.shutdown();
    await txn.close();
    await logs.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('KIP-447: offsets from an old generation or unknown member are fenced; the live ones wait for commit', async () => {
    const init = await call(initProducerIdHandler(cluster, txn), 4, {
      transactionalId: 'app',
      transactionTimeoutMs: 60_000,
      producerId: -1,
      producerEpoch: -1,
    });
    assert.equal(init.errorCode, 0);
    const { producerId, producerEpoch } = init;
    const add = await call(table[24], 3, {
      v3AndBelowTransactionalId: 'app',
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: 'out', partitions: [0, 1] }],
    });
    assert.deepEqual(
      add.resultsByTopicV3AndBelow[0].resultsByPartition.map(
        (p: { partitionErrorCode: number }) => p.partitionErrorCode,
      ),
      [0, 0],
    );
    await logs.getLog('out', 0).append(
      encodeRecordBatch({
        isTransactional: true,
        producerId,
        producerEpoch,
        baseSequence: 0,
        records: [{ key: null, value: Buffer.from('o') }],
      }),
    );
    const offsetsBody = (gen: number, member: string) => ({
      transactionalId: 'app',
      groupId: 'g',
      producerId,
      producerEpoch,
      generationId: gen,
      memberId: member,
      groupInstanceId: null,
      topics: [
        {
          name: 'in',
          partitions: [
            { partitionIndex: 0, committedOffset: 7, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    });
    // Before AddOffsetsToTxn the group is not in the transaction.
    let r = await call(table[28], 3, offsetsBody(generationId, memberId));
    assert.equal(r.topics[0].partitions[0].errorCode, ErrorCode.INVALID_TXN_STATE);
    assert.equal(
      (await call(table[25], 3, { transactionalId: 'app', producerId, producerEpoch, groupId: 'g' }))
        .errorCode,
      0,
    );
    r = await call(table[28], 3, offsetsBody(generationId - 1, memberId));
    assert.equal(r.topics[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
    r = await call(table[28], 3, offsetsBody(generationId, 'zombie-member'));
    assert.equal(r.topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    r = await call(table[28], 3, offsetsBody(generationId, memberId));
    assert.equal(r.topics[0].partitions[0].errorCode, 0);
    assert.equal(store.fetch('g', 'in', 0), undefined, 'invisible before the commit');
    const fetchStable = await call(
      offsetFetchHandler({
        node: cluster.node,
        coordinator: groups,
        offsets: store,
        partitionExists: () => true,
      }),
      7,
      {
        groupId: 'g',
        topics: [{ name: 'in', partitionIndexes: [0] }],
        requireStable: true,
      },
    );
    assert.equal(fetchStable.topics[0].partitions[0].errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT);

    // Describe/List while Ongoing.
    const d = await call(table[65], 0, { transactionalIds: ['app', 'nope'] });
    assert.equal(d.transactionStates[0].transactionState, 'Ongoing');
    assert.deepEqual(d.transactionStates[0].topics.map((t: { topic: string }) => t.topic).sort(), [
      '__consumer_offsets',
      'out',
    ]);
    assert.equal(d.transactionStates[1].errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    const l = await call(table[66], 1, {
      stateFilters: ['Ongoing', 'Bogus'],
      producerIdFilters: [],
      durationFilter: -1,
    });
    assert.deepEqual(l.unknownStateFilters, ['Bogus']);
    assert.deepEqual(
      l.transactionStates.map((t: { transactionalId: string }) => t.transactionalId),
      ['app'],
    );
    const p = await call(table[61], 0, { topics: [{ name: 'out', partitionIndexes: [0, 9] }] });
    const active = p.topics[0].partitions[0].activeProducers;
    assert.equal(active.length, 1);
    assert.equal(active[0].producerId, producerId);
    assert.equal(active[0].currentTxnStartOffset, 0);
    assert.equal(p.topics[0].partitions[1].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

    const end = await call(table[26], 3, {
      transactionalId: 'app',
      producerId,
      producerEpoch,
      committed: true,
    });
    assert.equal(end.errorCode, 0);
    assert.equal(store.fetch('g', 'in', 0)?.offset, 7, 'visible with the commit');
    const after = await call(table[65], 0, { transactionalIds: ['app'] });
    assert.equal(after.transactionStates[0].transactionState, 'CompleteCommit');
  });

  it('PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH to old request versions', async () => {
    const init = initProducerIdHandler(cluster, txn);
    const a = await call(init, 4, {
      transactionalId: 'f',
      transactionTimeoutMs: 60_000,
      producerId: -1,
      producerEpoch: -1,
    });
    await call(init, 4, {
      transactionalId: 'f',
      transactionTimeoutMs: 60_000,
      producerId: -1,
      producerEpoch: -1,
    });
    const body = {
      transactionalId: 'f',
      producerId: a.producerId,
      producerEpoch: a.producerEpoch,
      groupId: 'g',
    };
    assert.equal((await call(table[25], 1, body)).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal((await call(table[25], 3, body)).errorCode, ErrorCode.PRODUCER_FENCED);
    const stale = await call(init, 4, {
      transactionalId: 'f',
      transactionTimeoutMs: 60_000,
      producerId: a.producerId,
      producerEpoch: a.producerEpoch,
    });
    assert.equal(stale.errorCode, ErrorCode.PRODUCER_FENCED);
  });
});
