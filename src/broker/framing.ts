/**
 * Splits a TCP byte stream into Kafka frames (int32 size + payload).
 *
 * Invariants: a frame is handed out only when all its bytes have arrived; a size that is
 * negative or above `maxFrameBytes` throws SluiceError PROTOCOL before any of that frame is
 * buffered, so a client claiming 2 GB costs nothing (the connection is then closed). Chunks
 * are kept as a list and joined once per frame, so a frame arriving in many small reads
 * costs O(size), not O(size²). A frame that sits inside one received chunk is returned as a
 * view of it, uncopied; callers keeping a frame past the next `push` need not copy it
 * (chunks are never reused by Node), but holding a view keeps the whole chunk alive.
 */
import { SluiceError } from '../common/index.js';

export class FrameSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload size of the frame being assembled, or -1 while its size prefix is incomplete. */
  private need = -1;

  constructor(readonly maxFrameBytes: number) {}

  /** Bytes received but not yet returned as frames. */
  get pending(): number {
    return this.buffered;
  }

  /** Adds received bytes; returns the frames (payloads, without size prefix) now complete. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break;
        const size = this.peekInt32();
        if (size < 0 || size > this.maxFrameBytes) {
          throw new SluiceError('PROTOCOL', `frame size ${size} outside 0..${this.maxFrameBytes}`, {
            details: { size, max: this.maxFrameBytes },
          });
        }
        this.consume(4);
        this.need = size;
      }
      if (this.buffered < this.need) break;
      out.push(this.consume(this.need));
      this.need = -1;
    }
    return out;
  }

  private peekInt32(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.concat(this.chunks, 4);
    return head.readInt32BE(0);
  }

  /** Removes and returns the next n bytes (a view when they lie in one chunk). */
  private consume(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first !== undefined && first.length >= n) {
      const view = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0] as Buffer;
      const take = Math.min(c.length, n - at);
      c.copy(out, at, 0, take);
      at += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    return out;
  }
}
