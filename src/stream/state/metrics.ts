/** Store counters (see StoreMetrics in types.ts): a plain object, no dependency. */
import type { StoreMetrics } from './types.js';

export function newStoreMetrics(): StoreMetrics {
  return {
    gets: 0,
    puts: 0,
    deletes: 0,
    rangeScans: 0,
    flushes: 0,
    expired: 0,
    bytesWritten: 0,
    bytesRead: 0,
    changelogEntries: 0,
    changelogBytes: 0,
    restored: 0,
  };
}
