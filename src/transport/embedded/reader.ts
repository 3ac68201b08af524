/**
 * PartitionReader: fetching from explicit positions, no group. assign() replaces the whole
 * assignment; poll() returns buffered records first, else fetches (the broker's long polling,
 * in slices of at most 100 ms so a close is never held up long). A position outside the log
 * (below its start after retention or DeleteRecords) restarts at the log start, as the kafka
 * transport's reader does (librdkafka's auto.offset.reset=earliest): the records below are gone
 * either way, and both transports must behave alike for the same application. The runtime
 * never positions a reader there (restores start at the log start; purges stay below committed
 * offsets). No state survives close; nothing is written.
 */
import { SluiceError } from '../../common/index.js';
import type {
  IncomingRecord,
  PartitionReader,
  PartitionReaderOptions,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.js';
import type { EmbeddedAdmin } from './admin.js';
import { type InProcessConnection, sleep } from './connection.js';
import { Fetcher } from './fetcher.js';

/** Longest single Fetch wait inside a poll. */
export const FETCH_SLICE_MS = 100;

export class EmbeddedPartitionReader implements PartitionReader {
  private readonly fetcher: Fetcher;
  private closed = false;

  constructor(
    private readonly conn: InProcessConnection,
    admin: EmbeddedAdmin,
    options: PartitionReaderOptions,
  ) {
    this.fetcher = new Fetcher(conn, admin, options.isolationLevel ?? 'read_committed', async (tp) => {
      const [start] = await admin.listOffsets([tp], 'earliest');
      return (start as TopicPartitionOffset).offset;
    });
  }

  private open(): void {
    if (this.closed) throw new SluiceError('CLOSED', 'partition reader is closed');
  }

  async assign(positions: readonly TopicPartitionOffset[]): Promise<void> {
    this.open();
    this.fetcher.clear();
    for (const p of positions) {
      if (!Number.isInteger(p.offset) || p.offset < 0)
        throw new SluiceError('INVALID_ARGUMENT', `offset ${p.offset} for ${p.topic}-${p.partition}`);
      this.fetcher.add(p, p.offset);
    }
  }

  async poll(maxRecords: number, maxWaitMs: number): Promise<IncomingRecord[]> {
    this.open();
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      if (this.fetcher.hasBuffered()) return this.fetcher.take(maxRecords);
      const left = deadline - Date.now();
      const fetched = await this.fetcher.fetchOnce(Math.max(0, Math.min(left, FETCH_SLICE_MS)));
      if (this.closed) return [];
      if (this.fetcher.hasBuffered()) return this.fetcher.take(maxRecords);
      if (left <= 0) return [];
      // Nothing to fetch (no partitions, or a topic id being refreshed): wait, do not spin.
      if (!fetched) await sleep(Math.min(left, FETCH_SLICE_MS));
    }
  }

  position(partition: TopicPartition): number {
    const p = this.fetcher.position(partition);
    if (p === null)
      throw new SluiceError('INVALID_ARGUMENT', `${partition.topic}-${partition.partition} is not assigned`);
    return p;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.fetcher.clear();
    this.conn.close();
  }
}
