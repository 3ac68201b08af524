/**
 * A minimal Kafka responder for golden tests: listens on 127.0.0.1 (ephemeral port), records
 * every request frame a client sends, and answers with Sluice's own encoder: ApiVersions,
 * Metadata (one broker: itself; every requested topic exists with one partition), Produce
 * (success, offsets counting up), ListOffsets (offset 0), Fetch (no records, high watermark 0,
 * so a consumer sees the end of the partition) and InitProducerId. Other requests are recorded
 * and the connection is closed, which clients treat as a broken connection. It stores nothing:
 * used only by tests; the real broker lives in src/broker/.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { decodeRequest, encodeResponse, SUPPORTED_APIS } from '../../../src/protocol/index.js';

export interface Captured {
  apiKey: number;
  apiVersion: number;
  /** The frame without its size prefix. */
  frame: Buffer;
}

export class Responder {
  readonly captured: Captured[] = [];
  readonly errors: unknown[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;
  private nextOffset = 0;

  /**
   * answerAll: answer every other supported API too, with an all-defaults body (error NONE,
   * empty lists), so clients' admin calls go on and their requests get captured.
   */
  constructor(
    readonly topics: readonly string[] = ['golden'],
    readonly answerAll = false,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((s) => this.accept(s));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server === undefined) return;
    const closed = once(this.server, 'close');
    this.server.close();
    await closed;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) break;
        const frame = Buffer.from(pending.subarray(4, 4 + size));
        pending = pending.subarray(4 + size);
        this.handle(socket, frame);
      }
    });
  }

  private handle(socket: Socket, frame: Buffer): void {
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    this.captured.push({ apiKey, apiVersion, frame });
    let req: ReturnType<typeof decodeRequest>;
    try {
      req = decodeRequest(frame);
    } catch (err) {
      this.errors.push(err);
      socket.destroy();
      return;
    }
    if (req.apiKey === 18) {
      socket.write(
        Buffer.concat(
          encodeResponse(18, req.apiVersion, req.correlationId, {
            errorCode: 0,
            apiKeys: SUPPORTED_APIS.map((a) => ({
              apiKey: a.key,
              minVersion: a.minVersion,
              maxVersion: a.maxVersion,
            })),
          }),
        ),
      );
    } else if (req.apiKey === 3) {
      const wanted = req.body.topics === null ? this.topics : req.body.topics.map((t) => t.name ?? '');
      socket.write(
        Buffer.concat(
          encodeResponse(3, req.apiVersion, req.correlationId, {
            brokers: [{ nodeId: 1, host: '127.0.0.1', port: this.port, rack: null }],
            clusterId: 'sluice-golden',
            controllerId: 1,
            topics: wanted.map((name, i) => ({
              errorCode: 0,
              name,
              topicId: Buffer.alloc(16, i + 1),
              isInternal: false,
              partitions: [
                {
                  errorCode: 0,
                  partitionIndex: 0,
                  leaderId: 1,
                  leaderEpoch: 0,
                  replicaNodes: [1],
                  isrNodes: [1],
                  offlineReplicas: [],
                },
              ],
            })),
          }),
        ),
      );
    } else if (req.apiKey === 0) {
      if (req.body.acks === 0) return;
      socket.write(
        Buffer.concat(
          encodeResponse(0, req.apiVersion, req.correlationId, {
            responses: req.body.topicData.map((t) => ({
              name: t.name,
              partitionResponses: t.partitionData.map((p) => ({
                index: p.index,
                errorCode: 0,
                baseOffset: this.nextOffset++,
              })),
            })),
          }),
        ),
      );
    } else if (req.apiKey === 2) {
      socket.write(
        Buffer.concat(
          encodeResponse(2, req.apiVersion, req.correlationId, {
            topics: req.body.topics.map((t) => ({
              name: t.name,
              partitions: t.partitions.map((p) => ({
                partitionIndex: p.partitionIndex,
                errorCode: 0,
                offset: 0,
                timestamp: -1,
                ...(req.apiVersion === 0 ? { oldStyleOffsets: [0] } : {}),
              })),
            })),
          }),
        ),
      );
    } else if (req.apiKey === 1) {
      socket.write(
        Buffer.concat(
          encodeResponse(1, req.apiVersion, req.correlationId, {
            responses: req.body.topics.map((t) => ({
              topic: t.topic,
              partitions: t.partitions.map((p) => ({
                partitionIndex: p.partition,
                errorCode: 0,
                highWatermark: 0,
                lastStableOffset: 0,
                logStartOffset: 0,
                records: Buffer.alloc(0),
              })),
            })),
          }),
        ),
      );
    } else if (req.apiKey === 22) {
      socket.write(
        Buffer.concat(
          encodeResponse(22, req.apiVersion, req.correlationId, { producerId: 1000, producerEpoch: 0 }),
        ),
      );
    } else {
      socket.destroy();
    }
  }
}
