import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isSluiceError } from '../../src/common/index.js';
import {
  CONSUMER_PROTOCOL_MAX_VERSION,
  ConsumerProtocolAssignment,
  ConsumerProtocolSubscription,
  decodeConsumerAssignment,
  decodeConsumerSubscription,
  encodeConsumerAssignment,
  encodeConsumerSubscription,
} from '../../src/protocol/index.js';
import { bodyArb, withDefaults } from './support/arbitrary.js';
import { prng } from './support/fuzz.js';

const require = createRequire(import.meta.url);

describe('consumer protocol embedded bytes', () => {
  it('subscription and assignment round-trip at every version 0-3 (property)', () => {
    for (let v = 0; v <= CONSUMER_PROTOCOL_MAX_VERSION; v++) {
      fc.assert(
        fc.property(bodyArb(ConsumerProtocolSubscription, v), (body) => {
          const d = decodeConsumerSubscription(encodeConsumerSubscription(v, body as never));
          assert.deepStrictEqual(d, {
            version: v,
            ...withDefaults(ConsumerProtocolSubscription.fields, v, body),
          });
        }),
        { numRuns: 50 },
      );
      fc.assert(
        fc.property(bodyArb(ConsumerProtocolAssignment, v), (body) => {
          const d = decodeConsumerAssignment(encodeConsumerAssignment(v, body as never));
          assert.deepStrictEqual(d, {
            version: v,
            ...withDefaults(ConsumerProtocolAssignment.fields, v, body),
          });
        }),
        { numRuns: 50 },
      );
    }
  });

  it("reads kafkajs's MemberMetadata and MemberAssignment bytes", () => {
    const { AssignerProtocol } = require('kafkajs') as typeof import('kafkajs');
    const meta = AssignerProtocol.MemberMetadata.encode({
      version: 1,
      topics: ['a', 'b'],
      userData: Buffer.from('ud'),
    });
    const s = decodeConsumerSubscription(meta);
    assert.equal(s.version, 1);
    assert.deepEqual(s.topics, ['a', 'b']);
    assert.deepEqual(s.userData, Buffer.from('ud'));
    const asg = AssignerProtocol.MemberAssignment.encode({
      version: 0,
      assignment: { a: [0, 2], b: [1] },
      userData: Buffer.alloc(0),
    });
    const a = decodeConsumerAssignment(asg);
    assert.equal(a.version, 0);
    assert.deepEqual(
      a.assignedPartitions.map((p) => [p.topic, p.partitions]),
      [
        ['a', [0, 2]],
        ['b', [1]],
      ],
    );
    // And kafkajs reads ours.
    const ours = encodeConsumerAssignment(1, {
      assignedPartitions: [{ topic: 't', partitions: [3, 4] }],
      userData: null,
    });
    assert.deepEqual(AssignerProtocol.MemberAssignment.decode(ours)?.assignment, { t: [3, 4] });
  });

  it('reads a newer version as the newest it knows (fields appended later are ignored)', () => {
    const v3 = encodeConsumerSubscription(3, {
      topics: ['x'],
      ownedPartitions: [{ topic: 'x', partitions: [0] }],
      generationId: 7,
      rackId: 'r1',
    });
    const v9 = Buffer.concat([v3, Buffer.from([0, 0, 0, 42])]);
    v9.writeInt16BE(9, 0);
    const d = decodeConsumerSubscription(v9);
    assert.equal(d.version, 9);
    assert.equal(d.generationId, 7);
    assert.equal(d.rackId, 'r1');
  });

  it('an empty buffer is an empty assignment; a negative version or garbage is a PROTOCOL error', () => {
    assert.deepEqual(decodeConsumerAssignment(Buffer.alloc(0)).assignedPartitions, []);
    assert.throws(
      () => decodeConsumerAssignment(Buffer.from([0xff, 0xff])),
      (e) => isSluiceError(e, 'PROTOCOL'),
    );
    assert.throws(
      () => encodeConsumerAssignment(4, {}),
      (e) => isSluiceError(e, 'UNSUPPORTED'),
    );
    const good = encodeConsumerAssignment(1, {
      assignedPartitions: [{ topic: 'topic', partitions: [1, 2, 3] }],
      userData: Buffer.from('u'),
    });
    const rnd = prng(99);
    for (let i = 0; i < 20_000; i++) {
      const b = Buffer.from(good.subarray(0, Math.floor(rnd() * (good.length + 1))));
      for (let k = 0; k < 3; k++) if (b.length > 0) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        decodeConsumerAssignment(b);
      } catch (e) {
        assert.ok(isSluiceError(e, 'PROTOCOL'), String(e));
      }
    }
  });
});
