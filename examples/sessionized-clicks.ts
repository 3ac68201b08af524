/**
 * Example: sessionized clicks. A user's clicks less than 30 minutes apart form one session;
 * late clicks (up to 5 minutes behind the watermark) still extend or merge sessions, and a
 * session replaced by a merge is retracted. The output keeps one row per live session: pages,
 * clicks and duration. Run: node --import tsx examples/sessionized-clicks.ts
 */
import { boundedOutOfOrderness, StreamApp, session, TestDriver } from '../src/stream/index.js';

export interface Click {
  user: string;
  page: string;
  ts: number;
}

export interface SessionSummary {
  user: string;
  start: number;
  end: number;
  clicks: number;
  pages: string[];
}

export const GAP = 30 * 60_000;

export function clicksApp() {
  const app = new StreamApp('click-sessions');
  const sessions = app
    .stream<Click>('clicks', { timestamp: (c) => c.ts, watermark: boundedOutOfOrderness(60_000) })
    .keyBy((c) => c.user)
    .window(session(GAP), { allowedLateness: 5 * 60_000 })
    .aggregate({
      createAccumulator: () => ({ clicks: 0, pages: [] as string[] }),
      add: (a, c: Click) => ({
        clicks: a.clicks + 1,
        pages: a.pages.includes(c.page) ? a.pages : [...a.pages, c.page],
      }),
      merge: (a, b) => ({ clicks: a.clicks + b.clicks, pages: [...new Set([...a.pages, ...b.pages])] }),
      getResult: (a) => a,
    })
    .to('sessions');
  return { app, sessions };
}

export function sampleClicks(): Click[] {
  const m = 60_000;
  return [
    { user: 'ann', page: '/', ts: 0 },
    { user: 'ann', page: '/shoes', ts: 5 * m },
    { user: 'bob', page: '/', ts: 6 * m },
    { user: 'ann', page: '/cart', ts: 20 * m },
    { user: 'bob', page: '/help', ts: 50 * m }, // 44 min after bob's last click: a second session
    { user: 'bob', page: '/faq', ts: 28 * m }, // out of order, within lateness: bridges bob's two sessions
    { user: 'ann', page: '/', ts: 120 * m }, // a new session for ann
    { user: 'ann', page: '/shoes', ts: 125 * m },
    { user: 'bob', page: '/pricing', ts: 70 * m }, // too late (watermark ≈ 124 min): side output
    { user: 'ann', page: '/socks', ts: 123 * m }, // out of order within the 1 min bound
  ];
}

/** Runs the pipeline; returns the live sessions (latest result per session, retractions applied). */
export function runClicksExample(clicks = sampleClicks()) {
  const { app, sessions } = clicksApp();
  const driver = new TestDriver(app, { startTime: 0 });
  for (const c of clicks) driver.input<Click>('clicks').pipe(c);
  driver.end();
  const live = new Map<string, SessionSummary>();
  for (const w of driver.output(sessions).values()) {
    const id = `${w.key}|${w.window.start}|${w.window.end}`;
    if (w.kind === 'retract') live.delete(id);
    else live.set(id, { user: w.key, start: w.window.start, end: w.window.end, ...w.value });
  }
  return { sessions: [...live.values()], late: driver.lateRecords() };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { sessions, late } = runClicksExample();
  for (const s of sessions) console.log(JSON.stringify(s));
  console.log(`late clicks: ${late.length}`);
}
