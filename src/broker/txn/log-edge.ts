/**
 * The transaction coordinator's ports over log/: the `__transaction_state` topic (one
 * partition, cleanup.policy=compact, so only the newest record per transactional id survives
 * compaction) and marker writes to partition logs.
 *
 * Format: each append is one uncompressed record batch v2 (producer id -1) with one record per
 * changed transactional id, key/value as txn-log-codec.ts. Reads walk whole stored batches
 * from the log start (compaction may have removed records; the newest per key remains).
 * Crash behaviour: an append resolves only when durable under the topic's flush policy; the
 * topic is created with flush.ms=0 (fsync before acknowledging, group commit) so every
 * coordinator state change is on disk before a client hears of it. A torn tail is truncated by the log's own recovery.
 * Concurrency: single event loop; the coordinator serializes its appends.
 */

import { decodeRecordBatch, encodeRecordBatch, readBatchHeader } from '../../protocol/index.js';
import type { LogStore, PartitionLogPort } from '../log-port.js';
import type { MarkerWriter, TxnLogRecord, TxnStateLog } from './coordinator.js';
import type { TopicPartition } from './state-machine.js';
import { TXN_STATE_TOPIC } from './txn-log-codec.js';

/** Creates `__transaction_state` if missing and returns its port. */
export async function openTxnStateLog(logs: LogStore): Promise<TxnStateLog> {
  if (!logs.hasTopic(TXN_STATE_TOPIC))
    await logs.createTopic(TXN_STATE_TOPIC, 1, { 'cleanup.policy': 'compact', 'flush.ms': 0 });
  return new PartitionTxnStateLog(logs.getLog(TXN_STATE_TOPIC, 0));
}

export class PartitionTxnStateLog implements TxnStateLog {
  constructor(private readonly log: PartitionLogPort) {}

  async append(records: readonly TxnLogRecord[]): Promise<void> {
    if (records.length === 0) return;
    const batch = encodeRecordBatch({
      records: records.map((r) => ({ key: r.key, value: r.value })),
    });
    await this.log.append(batch);
  }

  *readAll(): Iterable<TxnLogRecord> {
    let offset = this.log.logStartOffset;
    const end = this.log.logEndOffset;
    while (offset < end) {
      const { records } = this.log.read(offset, { maxBytes: 1 << 20 });
      if (records.length === 0) break;
      let pos = 0;
      let next = offset;
      while (pos < records.length) {
        const h = readBatchHeader(records, pos);
        if (!h.isControl) {
          for (const r of decodeRecordBatch(records, pos).records)
            if (r.key !== null && r.offset >= offset) yield { key: r.key, value: r.value };
        }
        next = h.baseOffset + h.lastOffsetDelta + 1;
        pos += h.size;
      }
      if (next <= offset) break;
      offset = next;
    }
  }
}

/** Writes markers through the log manager; a partition that is gone counts as written. */
export function logMarkerWriter(
  logs: LogStore,
  onWritten?: (tp: TopicPartition, producerId: number, commit: boolean) => void,
): MarkerWriter {
  return {
    async writeMarker(tp, producerId, producerEpoch, commit, coordinatorEpoch) {
      let log: PartitionLogPort;
      try {
        log = logs.getLog(tp.topic, tp.partition);
      } catch {
        return; // deleted topic or partition: nothing to mark (Kafka skips it too)
      }
      // A store without markers (the in-memory test log) has no transactions to end.
      if (log.appendTxnMarker !== undefined)
        await log.appendTxnMarker(producerId, producerEpoch, commit, coordinatorEpoch);
      onWritten?.(tp, producerId, commit);
    },
  };
}
