/**
 * A raw Kafka client for broker tests: writes frames as given (well-formed or not) and reads
 * whole response frames, noticing when the server closes the connection.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameSplitter } from '../../../src/broker/index.js';

export class RawClient {
  private readonly splitter = new FrameSplitter(64 * 1024 * 1024);
  private readonly frames: Buffer[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      for (const f of this.splitter.push(c)) this.frames.push(f);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => {});
  }

  static async open(port: number): Promise<RawClient> {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    return new RawClient(s);
  }

  send(b: Buffer): void {
    this.socket.write(b);
  }

  /** Next response frame, or null when the server closed the connection. */
  async next(timeoutMs = 5000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error('no response');
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), sleep(50)]);
    }
    return this.frames.shift() as Buffer;
  }

  async closedByServer(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await sleep(10);
    return this.closed;
  }

  end(): void {
    this.socket.destroy();
  }
}
