/**
 * One stream thread of `sluice run` in a child process (kafka transport, --threads n > 1; see
 * run-workers.ts for why not a worker thread): the child loads the app file itself, opens its
 * own kafka transport and runs a StreamRuntime with one stream thread numbered `index`, so its
 * transactional id is `<app>-<instance>-<index>` as if it ran in the parent. The parent created
 * the topics before starting the children. Configuration comes as JSON in argv[2].
 *
 * IPC messages: child → parent `{type:'ready'}`, `{type:'error', code, message}` (start
 * failed), `{type:'metrics', metrics}`, `{type:'closed'}`; parent → child `'metrics'` (refresh
 * lag and report), `'close'` (commit, leave the group, close; then the child exits 0).
 * Crash behaviour: when the parent dies (kill -9) the IPC channel disconnects and the child
 * exits at once without committing — the same as if the whole instance had been killed, so no
 * orphan keeps processing (or fencing the restarted instance's producers).
 */
import { isSluiceError } from '../../common/index.js';
import { StreamRuntime } from '../../stream/index.js';
import { createKafkaTransport } from '../../transport/index.js';
import { loadApp } from './run.js';

export interface RunWorkerData {
  readonly file: string;
  readonly bootstrap: string;
  readonly requestTimeoutMs?: number;
  readonly applicationId?: string;
  readonly instanceId: string;
  readonly guarantee: 'exactly_once' | 'at_least_once';
  readonly commitIntervalMs: number;
  readonly repartitionPurgeIntervalMs?: number;
  readonly standbyReplicas?: number;
  readonly index: number;
}

const data = JSON.parse(process.argv[2] ?? '{}') as RunWorkerData;
const send = process.send?.bind(process);
if (send === undefined) throw new Error('run-worker.ts runs as a child process of sluice run');
const port = {
  postMessage: (m: unknown) => send(m),
  close: () => process.disconnect(),
  on: (event: 'message', f: (m: unknown) => void) => process.on(event, f),
};
process.on('disconnect', () => process.exit(0));
// Signals go to the parent, which closes the children in order; a child ignores them.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});

const transport = createKafkaTransport({
  bootstrap: data.bootstrap,
  requestTimeoutMs: data.requestTimeoutMs,
});
let runtime: StreamRuntime | undefined;
try {
  const app = await loadApp(data.file);
  runtime = new StreamRuntime(app, {
    transport,
    applicationId: data.applicationId,
    instanceId: data.instanceId,
    guarantee: data.guarantee,
    commitIntervalMs: data.commitIntervalMs,
    repartitionPurgeIntervalMs: data.repartitionPurgeIntervalMs,
    standbyReplicas: data.standbyReplicas,
    threads: 1,
    firstThreadIndex: data.index,
    announce: false,
  });
  await runtime.start();
  port.postMessage({ type: 'ready' });
} catch (e) {
  await transport.close().catch(() => {});
  port.postMessage({
    type: 'error',
    code: isSluiceError(e) ? e.code : 'INTERNAL',
    message: e instanceof Error ? e.message : String(e),
  });
  process.exit(1);
}

port.on('message', async (m: unknown) => {
  const rt = runtime;
  if (rt === undefined) return;
  if (m === 'metrics') {
    await rt.refreshLag();
    port.postMessage({ type: 'metrics', metrics: rt.metrics() });
  } else if (m === 'close') {
    await rt.close();
    await transport.close().catch(() => {});
    port.postMessage({ type: 'closed' });
    process.exit(0);
  }
});
