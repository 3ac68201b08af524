/**
 * Records of the compacted internal topic `__transaction_state`, in Kafka's layout, so the
 * data is what a Kafka broker would store.
 *
 * Key:   int16 version (0), TransactionLogKey v0 { TransactionalId: string (int16 length) }.
 * Value: int16 version, TransactionLogValue:
 *   v0 (classic):  ProducerId int64, ProducerEpoch int16, TransactionTimeoutMs int32,
 *                  TransactionStatus int8, TransactionPartitions nullable array (int32 count)
 *                  of { Topic string, PartitionIds array of int32 },
 *                  TransactionLastUpdateTimestampMs int64, TransactionStartTimestampMs int64.
 *   v1 (flexible): the same fields with compact strings/arrays (uvarint length + 1), struct
 *                  tagged fields after each partition entry, and the value's tagged fields:
 *                  0 PreviousProducerId int64 (default -1), 1 NextProducerId int64 (default -1),
 *                  2 ClientTransactionVersion int16 (default 0).
 * A null value (tombstone) removes the transactional id (state Dead, expired).
 * Sluice writes v1; it reads v0 and v1 and skips unknown tags.
 *
 * `lastProducerEpoch` is not in Kafka's layout (Kafka keeps it in memory only); after a reload
 * it is -1, which only means a retried InitProducerId from before the crash bumps once more.
 * Crash behaviour: decoding a truncated or malformed record throws; callers skip the record.
 */
import { ByteReader, ByteWriter } from '../../protocol/index.js';
import { type TopicPartition, type TxnMetadata, type TxnState, unionPartitions } from './state-machine.js';

export const TXN_STATE_TOPIC = '__transaction_state';

export function encodeTxnKey(transactionalId: string): Buffer {
  return new ByteWriter(8 + transactionalId.length).int16(0).string(transactionalId).toBuffer();
}

export function decodeTxnKey(b: Buffer): string {
  const r = new ByteReader(b);
  const version = r.int16();
  if (version !== 0) throw new Error(`unknown TransactionLogKey version ${version}`);
  const id = r.string();
  if (id === null) throw new Error('null transactional id');
  return id;
}

function groupPartitions(parts: readonly TopicPartition[]): Map<string, number[]> {
  const byTopic = new Map<string, number[]>();
  for (const p of parts) {
    const l = byTopic.get(p.topic);
    if (l === undefined) byTopic.set(p.topic, [p.partition]);
    else l.push(p.partition);
  }
  return byTopic;
}

export function encodeTxnValue(m: TxnMetadata, version: 0 | 1 = 1): Buffer {
  const w = new ByteWriter(64);
  w.int16(version);
  w.int64n(m.producerId);
  w.int16(m.producerEpoch);
  w.int32(m.timeoutMs);
  w.int8(m.state);
  const byTopic = groupPartitions(m.partitions);
  if (version === 0) {
    w.int32(byTopic.size);
    for (const [topic, ids] of byTopic) {
      w.string(topic);
      w.int32(ids.length);
      for (const id of ids) w.int32(id);
    }
  } else {
    w.uvarint(byTopic.size + 1);
    for (const [topic, ids] of byTopic) {
      w.compactString(topic);
      w.uvarint(ids.length + 1);
      for (const id of ids) w.int32(id);
      w.uvarint(0); // no tagged fields in the partition entry
    }
  }
  w.int64n(m.lastUpdateTimestamp);
  w.int64n(m.txnStartTimestamp);
  if (version === 1) {
    const tags: [number, Buffer][] = [];
    if (m.previousProducerId !== -1)
      tags.push([0, new ByteWriter(8).int64n(m.previousProducerId).toBuffer()]);
    w.uvarint(tags.length);
    for (const [tag, data] of tags) {
      w.uvarint(tag);
      w.uvarint(data.length);
      w.raw(data);
    }
  }
  return w.toBuffer();
}

export function decodeTxnValue(transactionalId: string, b: Buffer): TxnMetadata {
  const r = new ByteReader(b);
  const version = r.int16();
  if (version !== 0 && version !== 1) throw new Error(`unknown TransactionLogValue version ${version}`);
  const flexible = version === 1;
  const producerId = r.int64n();
  const producerEpoch = r.int16();
  const timeoutMs = r.int32();
  const state = r.int8();
  if (state < 0 || state > 7) throw new Error(`unknown transaction state ${state}`);
  const parts: TopicPartition[] = [];
  const topicCount = flexible ? r.uvarint() - 1 : r.int32();
  for (let i = 0; i < topicCount; i++) {
    const topic = flexible ? r.compactString() : r.string();
    if (topic === null) throw new Error('null topic in transaction partitions');
    const n = flexible ? r.uvarint() - 1 : r.int32();
    for (let j = 0; j < n; j++) parts.push({ topic, partition: r.int32() });
    if (flexible) skipTags(r);
  }
  const lastUpdateTimestamp = r.int64n();
  const txnStartTimestamp = r.int64n();
  let previousProducerId = -1;
  if (flexible) {
    const n = r.uvarint();
    for (let i = 0; i < n; i++) {
      const tag = r.uvarint();
      const size = r.uvarint();
      const data = r.raw(size);
      if (tag === 0) previousProducerId = new ByteReader(data).int64n();
    }
  }
  return {
    transactionalId,
    producerId,
    previousProducerId,
    lastProducerEpoch: -1,
    producerEpoch,
    timeoutMs,
    state: state as TxnState,
    partitions: unionPartitions(parts, []),
    txnStartTimestamp,
    lastUpdateTimestamp,
  };
}

function skipTags(r: ByteReader): void {
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    r.uvarint();
    r.raw(r.uvarint());
  }
}
