/**
 * Argument check shared by both Admin.deleteRecords implementations, so they refuse the same
 * inputs before anything is sent: every offset must be a whole number >= 0. Kafka's -1 ("up to
 * the high watermark") is deliberately not part of the interface: the purge deletes below
 * offsets it committed, never "everything there is". Pure; no I/O.
 */
import { SluiceError } from '../common/index.js';
import type { TopicPartitionOffset } from './types.js';

export function checkDeleteOffsets(offsets: readonly TopicPartitionOffset[]): void {
  for (const o of offsets) {
    if (!Number.isSafeInteger(o.offset) || o.offset < 0)
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `deleteRecords ${o.topic}[${o.partition}]: offset must be an integer >= 0, got ${String(o.offset)}`,
        { details: { topic: o.topic, partition: o.partition, offset: o.offset } },
      );
  }
}
