/**
 * Broker: the pieces wired together from a BrokerConfig — Cluster over a LogStore (log/'s
 * LogManager in production), the group coordinator with its offset store, SASL when
 * configured, and the TCP server with every handler. `sluice broker` and tests start one.
 *
 * Lifecycle: `start` opens log/'s LogManager on `config.dataDir` (unless `deps.logs` is given),
 * replays committed offsets from `__consumer_offsets` (LogOffsetStore), listens and resolves
 * with the bound address (port 0 picks one, and the advertised port follows it unless set).
 * `close` stops accepting, closes connections, answers waiting group requests and then closes
 * the LogManager it opened (clean-shutdown markers: the next start skips recovery). A LogStore
 * passed in `deps.logs` is the caller's: close it after the broker.
 *
 * Handlers: `handlers` is the one table of request handlers, built once; the TCP server
 * dispatches to it and the embedded transport (transport/) calls it in-process with request
 * objects, so both reach the same idempotence, transaction and group code.
 *
 * Transactions: the transaction coordinator loads `__transaction_state` before the server
 * listens, so every transaction left unfinished by a crash is completed (PrepareX) or aborted
 * (Ongoing) before any client can read; it checks for timed-out transactions every
 * `txnAbortCheckMs` (default 1 s).
 */

import { LogManager } from '../log/index.js';
import { Cluster } from './cluster.js';
import type { BrokerConfig } from './config.js';
import { GroupCoordinator } from './group-coordinator.js';
import { clusterHandlers } from './handlers/cluster-handlers.js';
import { groupHandlers } from './handlers/group-handlers.js';
import { txnHandlers } from './handlers/txn-handlers.js';
import { LogOffsetStore, OFFSETS_TOPIC } from './log-offset-store.js';
import type { LogStore } from './log-port.js';
import type { OffsetStore } from './offset-store.js';
import { RequestTrace } from './request-trace.js';
import { SaslAuthenticator } from './sasl.js';
import { type HandlerTable, KafkaServer } from './server.js';
import { TransactionCoordinator } from './txn/coordinator.js';
import { logMarkerWriter, openTxnStateLog } from './txn/log-edge.js';
import { PendingTxnOffsets } from './txn/txn-offsets.js';

export interface BrokerDeps {
  /** Default: a LogManager opened on config.dataDir, owned (and closed) by the broker. */
  logs?: LogStore;
  /** Default: LogOffsetStore (the compacted `__consumer_offsets` topic in `logs`). */
  offsets?: OffsetStore;
  /** How often timed-out transactions are looked for (default 1000 ms). */
  txnAbortCheckMs?: number;
  /** Keep a RequestTrace (request timings, GC, loop lateness) in `broker.trace`: diagnostics. */
  trace?: boolean;
}

export class Broker {
  private constructor(
    readonly config: BrokerConfig,
    readonly cluster: Cluster,
    readonly coordinator: GroupCoordinator,
    readonly server: KafkaServer,
    readonly address: { host: string; port: number },
    readonly transactions: TransactionCoordinator,
    readonly logs: LogStore,
    /** Every request handler by API key (ApiVersions and SASL are the server's own). */
    readonly handlers: Readonly<HandlerTable>,
    private readonly owned: LogManager | undefined,
    /** Present when started with `deps.trace`; stopped by close(), written by its owner. */
    readonly trace: RequestTrace | undefined,
  ) {}

  static async start(config: BrokerConfig, deps: BrokerDeps = {}): Promise<Broker> {
    let owned: LogManager | undefined;
    let logs = deps.logs;
    if (logs === undefined) {
      owned = await LogManager.open({
        dataDir: config.dataDir,
        defaults: config.topicDefaults as Record<string, never>,
      });
      owned.start();
      logs = owned;
    }
    try {
      return await Broker.wire(config, logs, owned, deps);
    } catch (err) {
      await owned?.close().catch(() => undefined);
      throw err;
    }
  }

  private static async wire(
    config: BrokerConfig,
    logs: LogStore,
    owned: LogManager | undefined,
    deps: BrokerDeps,
  ): Promise<Broker> {
    const node = { nodeId: config.nodeId, host: config.advertisedHost, port: config.advertisedPort };
    const cluster = new Cluster({
      logs,
      node,
      clusterId: config.clusterId,
      autoCreateTopics: config.autoCreateTopics,
      defaultPartitions: config.defaultPartitions,
    });
    const coordinator = new GroupCoordinator({
      initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
      minSessionTimeoutMs: config.groupMinSessionTimeoutMs,
      maxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
    });
    // Offsets: log-backed in `__consumer_offsets` unless the caller brings a store; loaded
    // before the transaction coordinator, whose recovery writes markers the store must see.
    const logOffsets = deps.offsets === undefined ? await LogOffsetStore.open(logs) : undefined;
    const offsets: OffsetStore = logOffsets ?? (deps.offsets as OffsetStore);
    const memoryTxnOffsets = logOffsets === undefined ? new PendingTxnOffsets(offsets) : undefined;
    const txnOffsets = logOffsets?.txnSink ?? (memoryTxnOffsets as PendingTxnOffsets);
    const transactions = await TransactionCoordinator.load({
      log: await openTxnStateLog(logs),
      markers: logMarkerWriter(logs, (tp, producerId, commit) => {
        if (tp.topic === OFFSETS_TOPIC) logOffsets?.onMarker(producerId, commit);
        // The last stable offset moved: read_committed fetches waiting on it can answer now.
        else cluster.wakeFetches(tp.topic, tp.partition);
      }),
      allocateProducerId: () => cluster.allocateProducerId().producerId,
      onComplete: (t) => memoryTxnOffsets?.complete(t.producerId, t.commit),
    });
    transactions.start(deps.txnAbortCheckMs ?? 1000);
    const partitionLog = (topic: string, partition: number) => {
      try {
        return logs.getLog(topic, partition);
      } catch {
        return undefined;
      }
    };
    const handlers: HandlerTable = Object.freeze({
      ...clusterHandlers(cluster, transactions),
      ...txnHandlers({ txn: transactions, groups: coordinator, txnOffsets, cluster, partitionLog }),
      ...groupHandlers({
        node,
        coordinator,
        offsets,
        partitionExists: (t, p) => cluster.partitionExists(t, p),
      }),
    });
    const trace = deps.trace === true ? new RequestTrace((id) => cluster.topicById(id)) : undefined;
    const server = new KafkaServer({
      host: config.host,
      port: config.port,
      maxRequestBytes: config.maxRequestBytes,
      maxConnections: config.maxConnections,
      ...(config.sasl.enabled
        ? { sasl: new SaslAuthenticator(config.sasl.users, config.sasl.mechanisms) }
        : {}),
      handlers,
      ...(trace === undefined ? {} : { observer: trace }),
    });
    let address: { host: string; port: number };
    try {
      address = await server.listen();
    } catch (err) {
      await transactions.close();
      trace?.stop();
      throw err;
    }
    // With port 0 the advertised port follows the bound one unless it was set explicitly.
    if (config.port === 0 && config.advertisedPort === 0) node.port = address.port;
    return new Broker(
      config,
      cluster,
      coordinator,
      server,
      address,
      transactions,
      logs,
      handlers,
      owned,
      trace,
    );
  }

  async close(): Promise<void> {
    this.coordinator.shutdown();
    await this.server.close();
    await this.transactions.close();
    await this.owned?.close();
    this.trace?.stop();
  }
}
