/**
 * The stream chaos loop, shared by the kafka-transport and embedded-transport tests.
 *
 * Given running-or-not `sluice run` instances (AppInstance) and a way to reach the cluster:
 *   1. starts every base instance;
 *   2. repeats `kills` times: waits until the group's committed input offsets moved since the
 *      previous kill (the restarted incarnations made progress, so kills cannot livelock the
 *      run; with `earlyKillChance` some kills skip this and hit start-up and restore), waits a
 *      seeded random delay, SIGKILLs a seeded random base instance, and restarts
 *      it after another seeded random delay. After kill number `addAfterKill` the extra
 *      instance starts; after kill number `removeAfterKill` it is stopped with SIGTERM (its
 *      exit code is recorded: clean shutdown must exit 0). Each kill records the committed
 *      input at that moment, so the test can check the kills landed mid-run;
 *      A kill also goes ahead when the committed input has reached the input's end (a feed
 *      holding back its tail until `onKillsDone`: the group is idle, not stuck);
 *   3. waits for the feed (input production running concurrently) to finish, then until the
 *      application has caught up: the group's committed offsets on the input reach its end
 *      offsets, on every repartition partition they reach the end seen a poll earlier, and
 *      the output's last stable offsets stay unchanged over `quietPolls` polls a second apart;
 *   4. reads the output read_committed to its end (with the instances still running: an
 *      embedded deployment is the only way to reach its broker), then stops every instance
 *      with SIGTERM and records the exit codes.
 * Every step goes to the ChaosLog. Probes tolerate a cluster that is down (the embedded
 * deployment between a kill and its restart) by retrying.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppInstance, ChaosLog } from './app-process.js';
import { type ClusterProbe, OutputReader } from './kafka-io.js';

export interface StreamChaosOptions {
  readonly probe: ClusterProbe;
  readonly bootstrap: string;
  readonly applicationId: string;
  readonly inputTopic: string;
  readonly outputTopic: string;
  readonly outputPartitions: number;
  /** Records the input will hold once the feed is done. */
  readonly inputRecords: number;
  readonly instances: readonly AppInstance[];
  readonly extra?: {
    readonly instance: AppInstance;
    readonly addAfterKill: number;
    readonly removeAfterKill: number;
  };
  readonly kills: number;
  readonly rng: () => number;
  readonly log: ChaosLog;
  /** Concurrent input production; the run waits for it after the kills. */
  readonly feed?: Promise<unknown>;
  /** Called once the last kill's instance was restarted (a feed holding back its tail resumes). */
  readonly onKillsDone?: () => void;
  /** Delay before a kill, after progress was seen (ms). */
  readonly killDelayMs: readonly [number, number];
  readonly restartDelayMs: readonly [number, number];
  /**
   * Chance that a kill does not wait for progress: it comes a restartDelayMs-like moment after
   * the previous restart (start-up, restore, rebalance). Never twice in a row. Default 0.
   */
  readonly earlyKillChance?: number;
  /** Fail when the committed input does not move for this long before a kill (default 60 s). */
  readonly progressTimeoutMs?: number;
  /** Overall bound of the run. */
  readonly timeoutMs: number;
  /** Polls (1 s apart) with nothing moving that count as caught up (default 3). */
  readonly quietPolls?: number;
}

export interface StreamChaosResult {
  /** Committed input (sum over partitions) when each kill happened (cluster down: the last known value). */
  readonly committedAtKill: number[];
  readonly extraExitCode: number | null | undefined;
  /** Exit code of every instance's final SIGTERM, by name. */
  readonly exitCodes: Map<string, number | null>;
  readonly output: Buffer[];
  /** Records in `<app>-late-records` and `<app>-dead-letters` (-1: could not be read). */
  readonly sideOutputs: Map<string, number>;
}

const between = (rng: () => number, [lo, hi]: readonly [number, number]): number =>
  Math.round(lo + rng() * (hi - lo));

function sum(m: Map<number, number> | undefined): number {
  let s = 0;
  for (const v of m?.values() ?? []) s += v;
  return s;
}

/** Sum of the group's committed offsets on the input; -1 while the cluster cannot answer. */
async function committedInput(o: StreamChaosOptions): Promise<number> {
  try {
    return sum((await o.probe.committed(o.applicationId, [o.inputTopic])).get(o.inputTopic));
  } catch {
    return -1;
  }
}

/** Sum of the input's end offsets; -1 while the cluster cannot answer. */
async function inputEnd(o: StreamChaosOptions): Promise<number> {
  try {
    return sum(await o.probe.endOffsets(o.inputTopic));
  } catch {
    return -1;
  }
}

export async function runStreamChaos(o: StreamChaosOptions): Promise<StreamChaosResult> {
  const deadline = Date.now() + o.timeoutMs;
  const inTime = (what: string) => {
    if (Date.now() > deadline) throw new Error(`chaos run: ${what} not done within ${o.timeoutMs} ms`);
  };
  const committedAtKill: number[] = [];
  let extraExitCode: number | null | undefined;
  for (const inst of o.instances) {
    inst.start();
    o.log.add(`start ${inst.name}`);
  }
  let lastAtKill = 0;
  let lastWasEarly = false;
  for (let k = 1; k <= o.kills; k++) {
    // Some kills land early (during start-up, restore, the group's rebalance) without waiting;
    // the others wait for progress since the previous kill, so the run moves forward.
    const early: boolean = !lastWasEarly && o.rng() < (o.earlyKillChance ?? 0);
    lastWasEarly = early;
    const stuckAt = Date.now() + (o.progressTimeoutMs ?? 60_000);
    while (!early) {
      inTime(`progress before kill ${k}`);
      const c = await committedInput(o);
      if (c >= o.inputRecords) {
        throw new Error(`all input was committed after only ${k - 1} kills: make the run longer`);
      }
      if (c > lastAtKill) break;
      // Caught up with all the input there is (a feed holding back its tail until the kills
      // are done): no progress to wait for, the kill lands on a running, idle group.
      if (o.feed !== undefined && c > 0 && c >= (await inputEnd(o))) break;
      if (Date.now() > stuckAt) {
        throw new Error(`no progress on the input for ${o.progressTimeoutMs ?? 60_000} ms before kill ${k}`);
      }
      await sleep(200);
    }
    await sleep(between(o.rng, early ? o.restartDelayMs : o.killDelayMs));
    const victim = o.instances[Math.floor(o.rng() * o.instances.length)] as AppInstance;
    // -1 (cluster down: the embedded deployment is still starting): the last known value.
    const at = Math.max(await committedInput(o), lastAtKill);
    if (at >= o.inputRecords)
      throw new Error(`all input was committed after only ${k - 1} kills: make the run longer`);
    const killed = await victim.kill9();
    committedAtKill.push(at);
    o.log.add(
      `kill -9 ${victim.name}${early ? ' (early)' : ''} (pid ${victim.pid}, ${killed ? 'running' : 'not running'}), committed input ${at}`,
    );
    lastAtKill = Math.max(lastAtKill, at);
    if (o.extra !== undefined && k === o.extra.addAfterKill) {
      o.extra.instance.start();
      o.log.add(`add ${o.extra.instance.name}`);
    }
    if (o.extra !== undefined && k === o.extra.removeAfterKill) {
      // The added instance must have joined before it is removed: a SIGTERM while Node is still
      // starting (before any of Sluice runs) is Node's default, not a clean shutdown.
      await o.extra.instance.waitReady(120_000);
      extraExitCode = await o.extra.instance.terminate();
      o.log.add(`remove ${o.extra.instance.name} (SIGTERM): exit ${extraExitCode}`);
    }
    await sleep(between(o.rng, o.restartDelayMs));
    victim.start();
    o.log.add(`restart ${victim.name}`);
  }
  o.onKillsDone?.();
  if (o.feed !== undefined) {
    await o.feed;
    o.log.add('input fully produced');
  }

  // Caught up: input fully committed; every repartition partition's committed offset has
  // reached the end it had at the previous poll (the runtime keeps writing watermark control
  // records there while idle, so its end never stops moving); and the output's last stable
  // offsets unchanged for quietPolls polls.
  const quietPolls = o.quietPolls ?? 3;
  let last = '';
  let quiet = 0;
  let state = 'no answer yet';
  let prevEnds = new Map<string, Map<number, number>>();
  let progress = '';
  let movedAt = Date.now();
  for (;;) {
    inTime(`catching up (last seen: ${state})`);
    if (Date.now() - movedAt > (o.progressTimeoutMs ?? 60_000)) {
      throw new Error(
        `catching up: nothing moved for ${o.progressTimeoutMs ?? 60_000} ms (last seen: ${state})`,
      );
    }
    await sleep(1000);
    let snapshot: string;
    try {
      const repartition = (await o.probe.listTopics()).filter(
        (t) => t.startsWith(`${o.applicationId}-`) && t.endsWith('-repartition'),
      );
      const committed = await o.probe.committed(o.applicationId, [o.inputTopic, ...repartition]);
      const inputEnd = sum(await o.probe.endOffsets(o.inputTopic));
      const inputCommitted = sum(committed.get(o.inputTopic));
      const ends = new Map<string, Map<number, number>>();
      let behind = 0;
      for (const t of repartition) {
        ends.set(t, await o.probe.endOffsets(t));
        for (const [p, end] of prevEnds.get(t) ?? new Map([[0, Number.POSITIVE_INFINITY]])) {
          // − 1: a commit marker may be the partition's last offset, never consumed as a record.
          if ((committed.get(t)?.get(p) ?? 0) < end - 1) behind++;
        }
      }
      prevEnds = ends;
      state = `input end ${inputEnd}, committed ${inputCommitted}; repartition partitions behind: ${behind}`;
      const now = JSON.stringify([inputCommitted, [...committed].map(([t, m]) => [t, [...m]])]);
      if (now !== progress) {
        progress = now;
        movedAt = Date.now();
      }
      if (inputEnd < o.inputRecords || inputCommitted < inputEnd || behind > 0) {
        quiet = 0;
        continue;
      }
      const out = await o.probe.endOffsets(o.outputTopic);
      snapshot = JSON.stringify([...out].sort((a, b) => a[0] - b[0]));
    } catch (err) {
      state = `probe failed: ${(err as Error).message}`;
      quiet = 0;
      continue;
    }
    quiet = snapshot === last ? quiet + 1 : 0;
    last = snapshot;
    if (quiet >= quietPolls) break;
  }
  o.log.add('caught up: input committed and output quiet');

  const output = (await OutputReader.readToEnd(o.bootstrap, o.outputTopic, o.outputPartitions)).map(
    (r) => r.value,
  );
  o.log.add(`read ${output.length} output records (read_committed)`);
  // The workload has no late or undeserializable record: anything here is the runtime's.
  const sideOutputs = new Map<string, number>();
  for (const side of ['late-records', 'dead-letters']) {
    const topic = `${o.applicationId}-${side}`;
    try {
      const n = await o.probe.endOffsets(topic);
      const records = n.size === 0 ? [] : await OutputReader.readToEnd(o.bootstrap, topic, n.size);
      sideOutputs.set(side, records.length);
    } catch {
      sideOutputs.set(side, -1);
    }
  }
  o.log.add(`side outputs: ${[...sideOutputs].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const exitCodes = new Map<string, number | null>();
  for (const inst of o.instances) {
    exitCodes.set(inst.name, await inst.terminate());
    o.log.add(`stop ${inst.name} (SIGTERM): exit ${exitCodes.get(inst.name)}`);
  }
  return { committedAtKill, extraExitCode, exitCodes, output, sideOutputs };
}
