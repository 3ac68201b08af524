/**
 * A stream application whose settings the cluster refuses: the error is reported, not hidden
 * in a rebuild loop. Against a `sluice broker` process over the kafka transport, an instance
 * asking for a 3 s session timeout (below the coordinator's 6 s minimum,
 * group.min.session.timeout.ms) must surface INVALID_CONFIG naming the session timeout in its
 * thread metrics (`lastError`), without rebuilding its tasks over and over, and still close
 * cleanly.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamRuntime } from '../../../src/stream/index.js';
import { brokerProcessWithTransport, rollingApp, until } from './runtime-suite.js';

describe('configuration the cluster refuses (kafka transport)', { timeout: 120_000 }, () => {
  const env = brokerProcessWithTransport();

  it('a session timeout below the broker minimum is reported as INVALID_CONFIG naming it; no rebuild loop', async () => {
    const { t } = env;
    await t.admin.ensureTopics([{ topic: 'badsession-in', partitions: 1 }]);
    const rt = new StreamRuntime(rollingApp('badsession'), {
      transport: t,
      threads: 1,
      sessionTimeoutMs: 3000,
    });
    await rt.start();
    try {
      await until(
        () => rt.metrics().threads[0]?.lastError?.code === 'INVALID_CONFIG',
        () => `INVALID_CONFIG in lastError; metrics: ${JSON.stringify(rt.metrics().threads[0])}`,
      );
      const m = rt.metrics().threads[0];
      assert.match(m?.lastError?.message ?? '', /session timeout/i);
      assert.match(m?.lastError?.message ?? '', /group\.min\.session\.timeout\.ms/);
      assert.equal(m?.revives, 0, 'the tasks were not rebuilt for a configuration error');
      assert.equal(m?.resets, 0, 'the thread did not drop and rejoin for it');
    } finally {
      await rt.close();
    }
  });
});
