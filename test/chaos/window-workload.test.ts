/**
 * The stream chaos tests' yardstick checked on its own, in-process and fast: the windowed app
 * file run by the TestDriver over the generated input (bytes, per partition, in produce order,
 * in batches as a consumer would fetch them) gives exactly the oracle — so a difference in the
 * chaos tests is the runtime's, not the workload's. Also: every partition gets a flush record,
 * no record is late, and the diff classifies missing, duplicated, wrong and unexpected windows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TestDriver } from '../../src/stream/index.js';
import {
  diffWindowTotals,
  generateInput,
  INPUT_TOPIC,
  OUTPUT_TOPIC,
  oracle,
  partitionsWithKeys,
  type WindowTotal,
  type WorkloadSpec,
} from './support/window-workload.js';
import windowedApp from './support/windowed-app.js';

const SPEC: WorkloadSpec = { records: 20_000, keys: 200, partitions: 12, seed: 7, stepMs: 20 };

describe('stream chaos workload', () => {
  it('the windowed app over the generated input equals the oracle exactly', async () => {
    assert.equal(partitionsWithKeys(SPEC).size, SPEC.partitions, 'every partition has keys');
    const driver = new TestDriver(windowedApp(), { startTime: Date.now() });
    const input = driver.input<Uint8Array>(INPUT_TOPIC);
    let batch: { value: Uint8Array; partition: number; timestamp: number }[] = [];
    for (const r of generateInput(SPEC)) {
      batch.push({ value: r.value, partition: r.partition, timestamp: r.timestamp });
      if (batch.length === 97) {
        input.pipeAll(batch);
        batch = [];
      }
    }
    input.pipeAll(batch);
    await driver.settle();
    // The sink's serde has run: values are the JSON bytes a Kafka sink would write.
    const got = driver
      .output<Uint8Array, string>({ sinkName: OUTPUT_TOPIC })
      .values()
      .map((b) => JSON.parse(Buffer.from(b).toString()) as WindowTotal);
    const want = oracle(SPEC);
    const diff = diffWindowTotals(want, got);
    assert.equal(driver.lateRecords().length, 0, 'no record is late');
    assert.equal(driver.deadLetters().length, 0, 'no dead letters');
    assert.ok(want.length > 1000, `the oracle has many windows (${want.length})`);
    assert.equal(
      diff.summary(),
      `oracle ${want.length} windows, output ${want.length} records: 0 missing, 0 duplicates (over 0 windows), 0 wrong, 0 unexpected`,
    );
  });

  it('the diff names missing, duplicated, wrong and unexpected windows', () => {
    const w = (key: string, start: number, count: number, sum: number): WindowTotal => ({
      key,
      start,
      end: start + 10,
      count,
      sum,
    });
    const diff = diffWindowTotals(
      [w('a', 0, 1, 5), w('b', 0, 2, 6), w('c', 0, 1, 1)],
      [w('a', 0, 1, 5), w('a', 0, 1, 5), w('a', 0, 1, 5), w('b', 0, 2, 7), w('d', 0, 1, 1)],
    );
    assert.deepEqual(diff.missing, [w('b', 0, 2, 6), w('c', 0, 1, 1)]);
    assert.deepEqual(diff.duplicated, [{ entry: w('a', 0, 1, 5), extra: 2 }]);
    assert.equal(diff.duplicates, 2);
    assert.deepEqual(diff.wrong, [{ got: w('b', 0, 2, 7), want: w('b', 0, 2, 6) }]);
    assert.deepEqual(diff.unexpected, [w('d', 0, 1, 1)]);
    assert.match(diff.summary(), /2 missing, 2 duplicates \(over 1 windows\), 1 wrong, 1 unexpected/);
  });
});
