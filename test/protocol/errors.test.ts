import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { ErrorCode, KAFKA_ERRORS, kafkaError, kafkaErrorByName } from '../../src/protocol/index.js';

const require = createRequire(import.meta.url);

describe('Kafka error table', () => {
  it('codes run contiguously from -1 with unique names and a message for every error but NONE', () => {
    const codes = KAFKA_ERRORS.map((e) => e.code);
    assert.deepEqual(
      codes,
      Array.from({ length: codes.length }, (_, i) => i - 1),
    );
    assert.equal(new Set(KAFKA_ERRORS.map((e) => e.name)).size, KAFKA_ERRORS.length);
    for (const e of KAFKA_ERRORS) {
      assert.match(e.name, /^[A-Z][A-Z0-9_]*$/);
      if (e.code !== 0) assert.ok(e.message.length > 0, e.name);
    }
  });

  it('looks up by code and name; unknown codes read as UNKNOWN_SERVER_ERROR', () => {
    for (const e of KAFKA_ERRORS) {
      assert.equal(kafkaError(e.code), e);
      assert.equal(kafkaErrorByName(e.name), e);
      assert.equal(ErrorCode[e.name as keyof typeof ErrorCode], e.code);
    }
    assert.equal(kafkaError(32767).name, 'UNKNOWN_SERVER_ERROR');
    assert.equal(kafkaErrorByName('NO_SUCH_ERROR'), undefined);
  });

  it("agrees with kafkajs's independent table on every code it knows (retriable flags; names up to Kafka's renames)", () => {
    const { errorCodes } = require('kafkajs/src/protocol/error.js') as {
      errorCodes: { type: string; code: number; retriable: boolean }[];
    };
    const renamed: Record<string, string> = {
      UNKNOWN: 'UNKNOWN_SERVER_ERROR',
      NOT_LEADER_FOR_PARTITION: 'NOT_LEADER_OR_FOLLOWER',
      GROUP_LOAD_IN_PROGRESS: 'COORDINATOR_LOAD_IN_PROGRESS',
      GROUP_COORDINATOR_NOT_AVAILABLE: 'COORDINATOR_NOT_AVAILABLE',
      NOT_COORDINATOR_FOR_GROUP: 'NOT_COORDINATOR',
    };
    let compared = 0;
    for (const k of errorCodes) {
      if (k.code < -1) continue; // kafkajs's own client-side code -99
      const ours = kafkaError(k.code);
      assert.equal(ours.code, k.code, `code ${k.code} exists`);
      assert.equal(ours.name, renamed[k.type] ?? k.type, `code ${k.code} name`);
      assert.equal(ours.retriable, k.retriable, `${ours.name} retriable`);
      compared++;
    }
    assert.ok(compared > 80);
  });
});
