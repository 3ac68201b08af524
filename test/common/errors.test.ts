import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES, isSluiceError, SluiceError, toSluiceError } from '../../src/common/index.js';

describe('SluiceError', () => {
  it('carries code, retriable default and cause', () => {
    const cause = new Error('disk full');
    const e = new SluiceError('IO', 'append failed', { cause, details: { topic: 't' } });
    assert.equal(e.code, 'IO');
    assert.equal(e.retriable, false);
    assert.equal(e.cause, cause);
    assert.ok(e instanceof Error);
    assert.deepEqual(e.toJSON(), {
      name: 'SluiceError',
      code: 'IO',
      message: 'append failed',
      retriable: false,
      details: { topic: 't' },
      cause: { name: 'Error', message: 'disk full' },
    });
  });

  it('timeouts and rebalances are retriable by default; explicit flag wins', () => {
    assert.equal(new SluiceError('TIMEOUT', 'x').retriable, true);
    assert.equal(new SluiceError('REBALANCE_IN_PROGRESS', 'x').retriable, true);
    assert.equal(new SluiceError('TIMEOUT', 'x', { retriable: false }).retriable, false);
  });

  it('codes are a closed, duplicate-free set', () => {
    assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length);
  });

  it('toSluiceError wraps foreign errors and keeps SluiceErrors', () => {
    const mine = new SluiceError('NOT_FOUND', 'nope');
    assert.equal(toSluiceError(mine), mine);
    const wrapped = toSluiceError(new TypeError('bad'), 'USER_FUNCTION');
    assert.ok(isSluiceError(wrapped, 'USER_FUNCTION'));
    assert.equal(wrapped.message, 'bad');
    assert.ok(!isSluiceError(wrapped, 'IO'));
  });
});
