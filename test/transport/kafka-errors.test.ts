/**
 * The kafka transport's error table: librdkafka error codes (as the binding reports them, with
 * isFatal / isTxnRequiresAbort flags) to SluiceError codes, per client kind. No cluster needed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ck from '@confluentinc/kafka-javascript';
import { kafkaError } from '../../src/transport/kafka/config.js';

const E = ck.RdKafka.CODES.ERRORS;
const lib = (code: number, message = 'x', flags: Record<string, boolean> = {}) =>
  Object.assign(new Error(message), { code, ...flags });

describe('kafka transport: librdkafka errors to SluiceError codes', () => {
  const cases: Array<[string, Error, 'producer' | 'consumer' | 'admin', string]> = [
    ['local fenced', lib(E.ERR__FENCED, 'fenced', { isFatal: true }), 'producer', 'PRODUCER_FENCED'],
    ['broker PRODUCER_FENCED', lib(E.ERR_PRODUCER_FENCED), 'producer', 'PRODUCER_FENCED'],
    ['INVALID_PRODUCER_EPOCH', lib(E.ERR_INVALID_PRODUCER_EPOCH), 'producer', 'PRODUCER_FENCED'],
    ['KIP-447 ILLEGAL_GENERATION', lib(E.ERR_ILLEGAL_GENERATION), 'producer', 'PRODUCER_FENCED'],
    ['KIP-447 UNKNOWN_MEMBER_ID', lib(E.ERR_UNKNOWN_MEMBER_ID), 'consumer', 'PRODUCER_FENCED'],
    ['static member fenced', lib(E.ERR_FENCED_INSTANCE_ID), 'consumer', 'PRODUCER_FENCED'],
    ['txn call out of order', lib(E.ERR__STATE), 'producer', 'INVALID_TXN_STATE'],
    ['broker INVALID_TXN_STATE', lib(E.ERR_INVALID_TXN_STATE), 'producer', 'INVALID_TXN_STATE'],
    [
      'abortable',
      lib(E.ERR__INCONSISTENT, 'y', { isTxnRequiresAbort: true }),
      'producer',
      'INVALID_TXN_STATE',
    ],
    ['local timeout', lib(E.ERR__TIMED_OUT), 'admin', 'TIMEOUT'],
    ['message timeout', lib(E.ERR__MSG_TIMED_OUT), 'producer', 'TIMEOUT'],
    ['transport', lib(E.ERR__TRANSPORT), 'consumer', 'NETWORK'],
    ['all brokers down', lib(E.ERR__ALL_BROKERS_DOWN), 'admin', 'NETWORK'],
    ['SASL', lib(E.ERR_SASL_AUTHENTICATION_FAILED), 'admin', 'NETWORK'],
    ['unknown topic', lib(E.ERR_UNKNOWN_TOPIC_OR_PART), 'admin', 'NOT_FOUND'],
    ['topic exists', lib(E.ERR_TOPIC_ALREADY_EXISTS), 'admin', 'ALREADY_EXISTS'],
    ['authorization', lib(E.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED), 'producer', 'PERMISSION_DENIED'],
    ['too large', lib(E.ERR_MSG_SIZE_TOO_LARGE), 'producer', 'RECORD_TOO_LARGE'],
    ['rebalance', lib(E.ERR_REBALANCE_IN_PROGRESS), 'consumer', 'REBALANCE_IN_PROGRESS'],
    ['destroyed', lib(E.ERR__DESTROY), 'consumer', 'CLOSED'],
    ['binding: disconnected', new Error('KafkaConsumer is not connected'), 'consumer', 'CLOSED'],
    ['ERR__STATE outside a producer', lib(E.ERR__STATE), 'consumer', 'IO'],
  ];
  for (const [what, err, client, want] of cases) {
    it(`${what} (${client}) -> ${want}`, () => {
      const e = kafkaError(err, 'op', client);
      assert.equal(e.code, want, e.message);
      assert.equal(e.cause, err);
      assert.match(e.message, /^op: /);
    });
  }

  it('keeps the librdkafka code, the Kafka code for broker errors, and the flags', () => {
    const broker = kafkaError(lib(E.ERR_PRODUCER_FENCED, 'f', { isFatal: true }), 'commit', 'producer');
    assert.equal(broker.kafkaErrorCode, E.ERR_PRODUCER_FENCED);
    assert.deepEqual(broker.details, { client: 'producer', rdkafkaCode: E.ERR_PRODUCER_FENCED, fatal: true });
    const local = kafkaError(lib(E.ERR__TIMED_OUT, 't', { isRetriable: true }), 'flush', 'producer');
    assert.equal(local.kafkaErrorCode, undefined);
    assert.equal(local.retriable, true);
  });
});
