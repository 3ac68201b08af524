/**
 * Stream applications on the embedded transport under kill -9.
 *
 * Design. The embedded transport calls the broker's Cluster inside the broker's process, so
 * several app processes cannot share one embedded transport: "three instances" is the kafka
 * transport's test (stream-kafka-chaos.test.ts). The embedded deployment is one process —
 * `sluice run --embedded --data-dir D` runs the broker and the app together on a single
 * machine — and the failure that matters is that whole process dying. So:
 *   1. load: `sluice broker` on D (its own process), create the 12-partition input and the
 *      output topic, produce SLUICE_CHAOS_EMBEDDED_RECORDS records (default 500 000, 1 000
 *      keys) with librdkafka, stop the broker with SIGTERM (exit 0);
 *   2. run `sluice run --embedded --data-dir D --port P` (two stream threads, exactly_once)
 *      and SIGKILL the whole process at least 10 times at seeded random moments — most after
 *      it committed progress since the previous kill, some (earlyKillChance) during its start:
 *      log recovery, transaction recovery, group join, changelog restore — restarting it each
 *      time on the same data dir and port;
 *   3. once the group (over P, the deployment's own TCP listener) has committed all input and
 *      nothing moves, read the output read_committed over P with librdkafka and compare with
 *      the oracle exactly (no missing, duplicated, wrong or unexpected window).
 * The kills hit broker and app at once, so this also checks the broker's crash recovery
 * (segments, producer state, __transaction_state, __consumer_offsets) under the runtime's
 * transactions. Seed: SLUICE_CHAOS_SEED; the kill log and the process's last output lines are
 * printed on failure.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, spawnSluiceBroker } from '../helpers/broker-process.js';
import { prng } from '../protocol/support/fuzz.js';
import { AppInstance, ChaosLog, chaosSeed } from './support/app-process.js';
import { ClusterProbe, produceRecords } from './support/kafka-io.js';
import { runStreamChaos } from './support/stream-chaos.js';
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

const here = new URL('.', import.meta.url).pathname;
const APP = join(here, 'support/windowed-app.ts');
const PARTITIONS = 12;
const KEYS = 1000;
const KILLS = 10;
const RECORDS = Number(process.env.SLUICE_CHAOS_EMBEDDED_RECORDS ?? 500_000);

describe('stream app chaos: embedded transport (broker and app in one process)', { timeout: 300_000 }, () => {
  it(`exactly_once: ${RECORDS} records, ${KILLS} kill -9s of the whole deployment: output equals the oracle exactly`, async () => {
    const seed = chaosSeed();
    const log = new ChaosLog(seed);
    process.stdout.write(`# embedded exactly_once: seed ${seed}\n`);
    const spec: WorkloadSpec = { records: RECORDS, keys: KEYS, partitions: PARTITIONS, seed };
    assert.equal(partitionsWithKeys(spec).size, PARTITIONS, 'every partition gets keys (and flush records)');
    const dir = mkdtempSync(join(tmpdir(), 'sluice-stream-embedded-chaos-'));
    const dataDir = join(dir, 'data');
    const applicationId = 'chaos-windows-embedded';
    const total = RECORDS + KEYS;
    const port = await freePort();
    const bootstrap = `127.0.0.1:${port}`;
    const app = new AppInstance('embedded', {
      app: APP,
      args: [
        '--embedded',
        '--data-dir',
        dataDir,
        '--port',
        String(port),
        '--application-id',
        applicationId,
        '--instance-id',
        'solo',
        '--guarantee',
        'exactly_once',
        '--threads',
        '2',
        '--commit-interval-ms',
        '100',
        '--metrics-interval-ms',
        '2000',
      ],
      env: { SLUICE_BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '300' },
    });
    const loader = await spawnSluiceBroker(dataDir);
    try {
      // 1. Load the input with a standalone broker on the same data dir.
      const loadBootstrap = `127.0.0.1:${loader.port}`;
      const loadProbe = new ClusterProbe(loadBootstrap);
      await loadProbe.createTopic(INPUT_TOPIC, PARTITIONS);
      await loadProbe.createTopic(OUTPUT_TOPIC, PARTITIONS);
      assert.equal(await produceRecords(loadBootstrap, INPUT_TOPIC, generateInput(spec)), total);
      await loadProbe.close();
      const stopped = once(loader.child, 'exit');
      loader.child.kill('SIGTERM');
      assert.equal((await stopped)[0], 0, 'the loading broker stops cleanly');
      log.add(`loaded ${total} input records`);

      // 2. The deployment, killed and restarted on the same data dir and port.
      const probe = new ClusterProbe(bootstrap);
      // The reason comes first and again last: CI keeps only the tail of a long failure.
      const failMessage = (what: string) =>
        `${what}\n${log}\nembedded deployment (${app.starts} starts):\n${app.tail(60)}` +
        `\n(seed ${seed}) ${what.split('\n')[0]}`;
      try {
        const run = await runStreamChaos({
          probe,
          bootstrap,
          applicationId,
          inputTopic: INPUT_TOPIC,
          outputTopic: OUTPUT_TOPIC,
          outputPartitions: PARTITIONS,
          inputRecords: total,
          instances: [app],
          kills: KILLS,
          rng: prng(seed ^ 0xe1bed),
          log,
          killDelayMs: [100, 800],
          restartDelayMs: [0, 500],
          earlyKillChance: 0.3,
          timeoutMs: 240_000,
        }).catch((err: Error) => assert.fail(failMessage(`chaos run failed: ${err.message}`)));
        await probe.close();
        const diff = diffWindowTotals(
          oracle(spec),
          run.output.map((b) => JSON.parse(b.toString()) as WindowTotal),
        );
        process.stdout.write(`# embedded: ${diff.summary().split('\n')[0]}\n`);
        process.stdout.write(`# embedded: committed input at each kill: ${run.committedAtKill.join(', ')}\n`);
        assert.equal(run.exitCodes.get('embedded'), 0, failMessage('SIGTERM → exit 0'));
        assert.ok(
          diff.missing.length === 0 &&
            diff.duplicates === 0 &&
            diff.wrong.length === 0 &&
            diff.unexpected.length === 0,
          failMessage(diff.summary()),
        );
        assert.equal(diff.received, diff.expected);
        assert.deepEqual(
          [...run.sideOutputs],
          [
            ['late-records', 0],
            ['dead-letters', 0],
          ],
          failMessage('no late records, no dead letters'),
        );
        assert.ok(
          run.committedAtKill.filter((c) => c < total).length >= KILLS,
          failMessage('every kill landed before the input was committed'),
        );
      } finally {
        await probe.close();
      }
    } finally {
      if (loader.child.exitCode === null) loader.child.kill('SIGKILL');
      await app.kill9();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
