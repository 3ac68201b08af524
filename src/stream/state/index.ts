/**
 * State stores: key-value, window and session stores behind one interface, engines in-memory
 * and LMDB, a changelogging wrapper, snapshots. See types.ts for the contract.
 */

export {
  ChangeloggingKeyValueStore,
  ChangeloggingSessionStore,
  ChangeloggingWindowStore,
  changelogTopic,
  withChangelog,
} from './changelog.js';
export { createLmdbEngine, type LmdbEngineOptions } from './lmdb.js';
export { createInMemoryEngine } from './memory.js';
export { bytesSerde, float64Serde, intSerde, jsonSerde, stringSerde } from './serdes.js';
export { restoreFromDirectory, snapshotToDirectory } from './snapshot.js';
export { BaseEngine, KeyValueStoreImpl, SessionStoreImpl, WindowStoreImpl } from './stores.js';
export type {
  AnyStore,
  ChangelogEntry,
  ChangeloggingStore,
  Clock,
  KeyValue,
  KeyValueStore,
  KeyValueStoreOptions,
  Serde,
  SessionKey,
  SessionStore,
  SessionStoreOptions,
  StateStore,
  StoreEngine,
  StoreKind,
  StoreMetrics,
  StoreOptionsBase,
  WindowedKey,
  WindowStore,
  WindowStoreOptions,
} from './types.js';
