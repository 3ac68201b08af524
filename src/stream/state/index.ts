/**
 * State stores: key-value, window and session stores behind one interface, engines in-memory
 * and LMDB, a changelogging wrapper, snapshots. See types.ts for the contract.
 */

export { bytesSerde, float64Serde, intSerde, jsonSerde, stringSerde } from './serdes.js';
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
