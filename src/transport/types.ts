/**
 * transport/: the one narrow interface through which the processor (stream/), the schema
 * registry and the connectors reach a Kafka log. Two implementations behind one shared test
 * suite (test/transport/):
 *   - `embedded`: calls the broker's request handlers in-process (no TCP, no encoding of
 *     requests); the same code paths the TCP server runs, so semantics are identical.
 *   - `kafka`: @confluentinc/kafka-javascript (librdkafka), for any real cluster and for
 *     Sluice's broker over TCP.
 * Embedded mode and a real cluster differ in configuration, never in application code.
 *
 * The interface is deliberately small:
 *   - Admin: ensure/describe/delete topics, list offsets, delete records below an offset
 *     (repartition purge), read a group's committed offsets, describe a group's members and
 *     their assignments (standby placement).
 *   - GroupConsumer: group membership with cooperative (incremental) assignment callbacks, and
 *     fetching from the assigned partitions. Used for the tasks' primary inputs.
 *   - PartitionReader: fetching without a group, from explicit positions. Used to restore
 *     state from changelogs, to read co-partitioned secondary inputs of a task, and to replay
 *     the registry's `_schemas` topic.
 *   - Producer: idempotent always (acks=all); transactional when given a transactional id —
 *     outputs, changelog writes and consumed offsets (with the consumer's group metadata,
 *     KIP-447) commit or abort together.
 *
 * Partitioning is the caller's: `send` takes an explicit partition. `partitionFor` in
 * partitioner.ts is Kafka's default (murmur2 of the key bytes), so keys land where the Java
 * client and Kafka Streams would put them, whichever implementation produces them.
 *
 * Errors are SluiceErrors: PRODUCER_FENCED (another producer took the transactional id, or
 * the group generation moved on: the caller must drop its tasks and rejoin), INVALID_TXN_STATE,
 * TIMEOUT, NETWORK, NOT_FOUND (unknown topic), INVALID_CONFIG (e.g. a topic exists with a
 * different partition count), CLOSED (used after close()).
 *
 * Offsets everywhere are "next offset to read" (Kafka's committed-offset convention).
 */

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: number;
}

export interface RecordHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

export interface OutgoingRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Create time, ms since the epoch; default: now. */
  readonly timestamp?: number;
  readonly headers?: readonly RecordHeader[];
}

export interface IncomingRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: readonly RecordHeader[];
}

export type IsolationLevel = 'read_committed' | 'read_uncommitted';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** Topic configuration, e.g. { 'cleanup.policy': 'compact' }. */
  readonly config?: Readonly<Record<string, string>>;
}

/** One member of a consumer group as the coordinator last assigned it (DescribeGroups). */
export interface GroupMemberDescription {
  readonly memberId: string;
  readonly clientId: string;
  /** Static membership id, null without one. */
  readonly groupInstanceId: string | null;
  /** The member's topic-partitions from the group's last completed assignment. */
  readonly assignment: readonly TopicPartition[];
}

export interface GroupDescription {
  readonly groupId: string;
  /** Kafka's group state name: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead. */
  readonly state: string;
  /** Sorted by member id. An unknown group is 'Dead' with no members. */
  readonly members: readonly GroupMemberDescription[];
}

export interface Admin {
  /** Partition counts of the topics that exist; a missing topic is absent from the map. */
  describeTopics(topics: readonly string[]): Promise<Map<string, number>>;
  /**
   * Creates the topics that do not exist. An existing topic with the same partition count is
   * left as it is (config not altered); a different count is INVALID_CONFIG naming the topic.
   */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** Topics that do not exist are ignored (idempotent, like ensureTopics). */
  deleteTopics(topics: readonly string[]): Promise<void>;
  /**
   * Names of every topic (internal `__` topics included). Optional: stream/ uses it to find
   * the changelogs of stores created on first use; without it only the stores it has seen.
   */
  listTopics?(): Promise<string[]>;
  /**
   * Per partition: 'earliest' = log start offset; 'latest' = high watermark with
   * read_uncommitted, last stable offset with read_committed (the default).
   */
  listOffsets(
    partitions: readonly TopicPartition[],
    which: 'earliest' | 'latest',
    isolationLevel?: IsolationLevel,
  ): Promise<TopicPartitionOffset[]>;
  /**
   * Kafka's DeleteRecords: moves each partition's log start offset up to `offset`, so every
   * record (and control record) below it is gone for every reader; nothing at or above it is
   * touched. Returns each partition's log start offset afterwards (Kafka's low watermark), in
   * the order asked. An offset at or below the current log start changes nothing (answers the
   * current start, as Kafka does). An offset beyond the high watermark is NOT clamped: it is
   * OFFSET_OUT_OF_RANGE (Kafka's answer), because a caller asking for it holds a wrong offset
   * and clamping would delete records it has never seen; ask listOffsets('latest',
   * 'read_uncommitted') for the high watermark. A failure may leave some partitions moved and
   * others not (each partition is independent, as in Kafka). Unknown topic: NOT_FOUND. The
   * deletion is durable once answered (the broker persists the new log start offset).
   */
  deleteRecords(offsets: readonly TopicPartitionOffset[]): Promise<TopicPartitionOffset[]>;
  /** A group's committed offsets (stable: waits out pending transactional commits); null = none. */
  committedOffsets(
    groupId: string,
    partitions: readonly TopicPartition[],
  ): Promise<Array<TopicPartition & { readonly offset: number | null }>>;
  /**
   * A classic consumer group's members with their assigned partitions (the consumer-protocol
   * assignment bytes decoded). During a rebalance the assignments are the last synced ones.
   */
  describeGroup(groupId: string): Promise<GroupDescription>;
}

/**
 * Rebalance callbacks. They run inside GroupConsumer.poll() (never concurrently with it), and
 * poll() returns no record of a partition before its onAssigned has resolved.
 */
export interface RebalanceListener {
  /** Partitions newly assigned to this member (incremental: existing ones are not repeated). */
  onAssigned(partitions: readonly TopicPartition[]): void | Promise<void>;
  /** Partitions leaving this member in an orderly way: commit their progress before resolving. */
  onRevoked(partitions: readonly TopicPartition[]): void | Promise<void>;
  /**
   * Partitions lost without a chance to commit (session timeout, fenced generation): drop
   * their uncommitted state; a commit would be rejected anyway.
   */
  onLost(partitions: readonly TopicPartition[]): void | Promise<void>;
}

export interface GroupConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly listener: RebalanceListener;
  /** Default read_committed. */
  readonly isolationLevel?: IsolationLevel;
  /** Default 10 000 ms. */
  readonly sessionTimeoutMs?: number;
  /** Default 300 000 ms: a member that does not poll for this long leaves the group. */
  readonly maxPollIntervalMs?: number;
  /** Static membership (group.instance.id). */
  readonly groupInstanceId?: string;
  /** Where a partition without a committed offset starts. Default 'earliest'. */
  readonly autoOffsetReset?: 'earliest' | 'latest';
  readonly clientId?: string;
}

export interface GroupConsumer {
  /** Joins the group; resolves once connected (the first assignment arrives through poll()). */
  start(): Promise<void>;
  /**
   * Up to maxRecords records from the assigned, unpaused partitions, in offset order per
   * partition, waiting up to maxWaitMs for the first. Drives rebalances and their callbacks.
   * A partition starts at its committed offset (stable), else at autoOffsetReset.
   */
  poll(maxRecords: number, maxWaitMs: number): Promise<IncomingRecord[]>;
  /** The partitions currently assigned to this member. */
  assignment(): TopicPartition[];
  /** Moves the fetch position of an assigned partition (next poll reads from offset). */
  seek(partition: TopicPartition, offset: number): void;
  /**
   * The offset of the next record a poll would return from an assigned partition, past the
   * transaction markers and aborted records already skipped; undefined when unknown (not
   * assigned, nothing fetched yet). A caller that has processed every record poll returned may
   * commit this rather than its last record's offset + 1, so its lag reaches 0 when a
   * partition ends in markers or aborted data (as Kafka Streams commits the position).
   */
  position(partition: TopicPartition): number | undefined;
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  /** Commits offsets outside a transaction (at-least-once). */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /** Revokes every partition (onRevoked), leaves the group, releases resources. */
  close(): Promise<void>;
}

export interface PartitionReaderOptions {
  /** Default read_committed. */
  readonly isolationLevel?: IsolationLevel;
  readonly clientId?: string;
}

export interface PartitionReader {
  /**
   * Replaces the assignment: reads each partition from the given offset. An offset outside the
   * log (below its start after retention or DeleteRecords) restarts at the log start, on both
   * transports (librdkafka's auto.offset.reset=earliest).
   */
  assign(positions: readonly TopicPartitionOffset[]): Promise<void>;
  /** Up to maxRecords records, waiting up to maxWaitMs for the first. */
  poll(maxRecords: number, maxWaitMs: number): Promise<IncomingRecord[]>;
  /**
   * The next offset a poll would read from this partition. After a poll it may be past the
   * last returned record (transaction markers, aborted or compacted-away records), so
   * "caught up" is `position >= listOffsets(latest)`.
   */
  position(partition: TopicPartition): number;
  close(): Promise<void>;
}

export interface ProducerOptions {
  /** Makes the producer transactional; a newer producer with the same id fences this one. */
  readonly transactionalId?: string;
  /** Default 60 000 ms. */
  readonly transactionTimeoutMs?: number;
  /** Default 5 ms. */
  readonly lingerMs?: number;
  /** Default 'none'. */
  readonly compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  readonly clientId?: string;
}

export interface Producer {
  /** Registers the producer id (transactional: fences older instances, aborts their open transaction). */
  connect(): Promise<void>;
  /**
   * Queues records for one partition, in order. Resolves when they are acknowledged (acks=all);
   * in a transaction, commitTransaction() is what makes them visible to read_committed readers,
   * so callers need not await each send.
   */
  send(topic: string, partition: number, records: readonly OutgoingRecord[]): Promise<void>;
  beginTransaction(): void;
  /** Adds the consumer's offsets (with its group metadata, KIP-447) to the open transaction. */
  sendOffsets(consumer: GroupConsumer, offsets: readonly TopicPartitionOffset[]): Promise<void>;
  commitTransaction(): Promise<void>;
  abortTransaction(): Promise<void>;
  /** Resolves when everything sent so far is acknowledged. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface Transport {
  readonly kind: 'embedded' | 'kafka';
  /** Human-readable target, for logs: 'embedded' or the bootstrap servers. */
  readonly description: string;
  readonly admin: Admin;
  groupConsumer(options: GroupConsumerOptions): GroupConsumer;
  partitionReader(options?: PartitionReaderOptions): PartitionReader;
  producer(options?: ProducerOptions): Producer;
  /** Closes what this transport opened itself (clients created from it are closed by their owners). */
  close(): Promise<void>;
}
