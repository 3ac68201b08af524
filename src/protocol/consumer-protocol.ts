/**
 * The consumer protocol's embedded bytes: what a consumer puts in JoinGroup's protocol
 * metadata (ConsumerProtocolSubscription) and what the leader puts in SyncGroup's
 * assignments (ConsumerProtocolAssignment). The broker treats both as opaque, except that
 * the group coordinator reads them to describe groups (members' assignments, lag).
 *
 * Format: int16 version, then the body at that version (never flexible). Versions 0-3.
 * As in Kafka's ConsumerProtocol, a newer version than we know is read as the newest we know
 * (later versions only append fields), and trailing bytes are ignored. A body too short for
 * its declared version is read at the newest older version it fits (kafkajs declares versions
 * whose fields it does not write). An empty buffer is an empty assignment/subscription (some
 * clients send one for a member with nothing assigned).
 */
import { SluiceError } from '../common/index.js';
import { compileMessage } from './codec.js';
import { ByteReader, ByteWriter } from './primitives.js';
import { arr, type BodyOf, f, type InputOf, message } from './schema.js';

export const ConsumerProtocolSubscription = message('ConsumerProtocolSubscription', -1, 'data', 'none', [
  f('topics', '[]string', '0+'),
  f('userData', 'bytes', '0+', { nullable: '0+', default: null }),
  arr('ownedPartitions', '1+', [f('topic', 'string', '1+'), f('partitions', '[]int32', '1+')], {
    ignorable: true,
  }),
  f('generationId', 'int32', '2+', { default: -1, ignorable: true }),
  f('rackId', 'string', '3+', { nullable: '3+', default: null, ignorable: true }),
]);

export const ConsumerProtocolAssignment = message('ConsumerProtocolAssignment', -1, 'data', 'none', [
  arr('assignedPartitions', '0+', [f('topic', 'string', '0+'), f('partitions', '[]int32', '0+')]),
  f('userData', 'bytes', '0+', { nullable: '0+', default: null }),
]);

export const CONSUMER_PROTOCOL_MAX_VERSION = 3;

export type ConsumerSubscription = BodyOf<typeof ConsumerProtocolSubscription> & { version: number };
export type ConsumerAssignment = BodyOf<typeof ConsumerProtocolAssignment> & { version: number };

function decodeVersioned<T>(
  def: typeof ConsumerProtocolSubscription | typeof ConsumerProtocolAssignment,
  bytes: Uint8Array,
): T {
  const r = new ByteReader(bytes);
  if (r.remaining === 0) {
    return { version: 0, ...(compileMessage(def, 0).decode(new ByteReader(emptyBody(def))) as object) } as T;
  }
  const version = r.int16();
  if (version < 0) throw new SluiceError('PROTOCOL', `${def.name}: negative version ${version}`);
  // Some clients declare a version but write an older layout (kafkajs writes v0 fields under
  // any version): when the declared layout runs out of bytes, read the older ones in turn.
  const start = r.pos;
  for (let v = Math.min(version, CONSUMER_PROTOCOL_MAX_VERSION); ; v--) {
    r.pos = start;
    try {
      const body = compileMessage(def, v).decode(r) as object;
      return { version, ...body } as T;
    } catch (err) {
      if (v === 0) throw err;
    }
  }
}

const emptyBodies = new Map<string, Buffer>();
function emptyBody(def: typeof ConsumerProtocolSubscription | typeof ConsumerProtocolAssignment): Buffer {
  let b = emptyBodies.get(def.name);
  if (b === undefined) {
    const w = new ByteWriter(16);
    compileMessage(def, 0).encode(w, {});
    b = w.toBuffer();
    emptyBodies.set(def.name, b);
  }
  return b;
}

function encodeVersioned(
  def: typeof ConsumerProtocolSubscription | typeof ConsumerProtocolAssignment,
  version: number,
  body: unknown,
): Buffer {
  if (!Number.isInteger(version) || version < 0 || version > CONSUMER_PROTOCOL_MAX_VERSION) {
    throw new SluiceError(
      'UNSUPPORTED',
      `${def.name} v${version} is not supported (0-${CONSUMER_PROTOCOL_MAX_VERSION})`,
    );
  }
  const w = new ByteWriter(64);
  w.int16(version);
  compileMessage(def, version).encode(w, body);
  return w.toBuffer();
}

export function decodeConsumerSubscription(bytes: Uint8Array): ConsumerSubscription {
  return decodeVersioned<ConsumerSubscription>(ConsumerProtocolSubscription, bytes);
}

export function encodeConsumerSubscription(
  version: number,
  body: InputOf<typeof ConsumerProtocolSubscription>,
): Buffer {
  return encodeVersioned(ConsumerProtocolSubscription, version, body);
}

export function decodeConsumerAssignment(bytes: Uint8Array): ConsumerAssignment {
  return decodeVersioned<ConsumerAssignment>(ConsumerProtocolAssignment, bytes);
}

export function encodeConsumerAssignment(
  version: number,
  body: InputOf<typeof ConsumerProtocolAssignment>,
): Buffer {
  return encodeVersioned(ConsumerProtocolAssignment, version, body);
}
