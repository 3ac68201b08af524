/**
 * Nexmark queries on Sluice's public stream API. Each query declares its input `nexmark` (the
 * mixed Person/Auction/Bid stream, event time = dateTime, watermark bounded by the generator's
 * out-of-order group) on a StreamApp and writes its result to the output `out`.
 *
 * Semantics (what the DuckDB reference in test/bench/nexmark reproduces exactly):
 *  - windows are [start, end), aligned to the epoch; window results carry the window;
 *  - q3, q4, q9, q20 are unbounded joins; q4/q9 close an auction when the watermark passes its
 *    expiry and join bids with a.dateTime ≤ b.dateTime ≤ a.expires (Flink's BETWEEN);
 *  - q4's output is an updating average per category: the last value per category is the
 *    result; q7 keeps every bid whose price is its window's maximum (ties included);
 *  - q12 runs on processing time (the input's ingestionTime): each record's window is the
 *    tumbling 10 s window of the processing-time clock when it was ingested.
 *
 * q15–q17 group by UTC day (Flink's DATE_FORMAT uses the session time zone); q17's avg_price
 * is the exact mean (Flink's AVG of a BIGINT truncates). Queries that need engine features
 * Sluice lacks (q10 file sink, q13 bounded side input, …) are listed in UNSUPPORTED.
 */
import {
  type AggregateFunction,
  type ProcessContext,
  type SinkHandle,
  type Stream,
  type StreamApp,
  session,
  sliding,
  tumbling,
  type WatermarkStrategy,
} from '../../../../stream/index.js';
import type { CsvColumn, FileSinkOptions } from '../../../file/index.js';
import {
  type Auction,
  BID,
  type Bid,
  isAuction,
  isBid,
  isPerson,
  type NexmarkEvent,
  PERSON,
  type Person,
} from '../model.js';

export interface QueryContext {
  /** Watermark strategy of the input (from the generator's out-of-order bound). */
  readonly watermark: WatermarkStrategy;
  /**
   * Deserializer of the input's values when it is a topic (bench/nexmark/kafka.ts: the codec's
   * JSON, `nexmarkSerde`); absent in process, where the values are NexmarkEvent objects.
   */
  readonly serde?: { deserialize(bytes: Uint8Array): NexmarkEvent };
}

export type QueryBuilder = (app: StreamApp, ctx: QueryContext) => SinkHandle<unknown, unknown>;

function events(app: StreamApp, ctx: QueryContext): Stream<NexmarkEvent> {
  return app.stream<NexmarkEvent>('nexmark', {
    timestamp: (e) => e.dateTime,
    watermark: ctx.watermark,
    ...(ctx.serde === undefined ? {} : { serde: ctx.serde }),
  });
}

function bids(app: StreamApp, ctx: QueryContext): Stream<Bid> {
  return events(app, ctx).filter(isBid);
}

// ---- stateless ------------------------------------------------------------------------------

/** q0: pass-through of bids. */
export const q0: QueryBuilder = (app, ctx) => bids(app, ctx).to('out');

export interface Q1Row {
  auction: number;
  bidder: number;
  price: number;
  dateTime: number;
  extra: string;
}
/** q1: currency conversion, dollars to euros (× 0.908). */
export const q1: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .map(
      (b): Q1Row => ({
        auction: b.auction,
        bidder: b.bidder,
        price: 0.908 * b.price,
        dateTime: b.dateTime,
        extra: b.extra,
      }),
    )
    .to('out');

/** q2: selection — bids on auctions whose id is a multiple of 123. */
export const q2: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .filter((b) => b.auction % 123 === 0)
    .map((b) => ({ auction: b.auction, price: b.price }))
    .to('out');

/** q14: calculation — euro price in a band, time-of-day class, count of 'c' in extra. */
export const q14: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .filter((b) => {
      const p = 0.908 * b.price;
      return p > 1_000_000 && p < 50_000_000;
    })
    .map((b) => {
      const hour = new Date(b.dateTime).getUTCHours();
      let c = 0;
      const x = b.extra;
      for (let i = 0; i < x.length; i++) if (x.charCodeAt(i) === 99) c++;
      return {
        auction: b.auction,
        bidder: b.bidder,
        price: 0.908 * b.price,
        bidTimeType:
          hour >= 8 && hour <= 18 ? 'dayTime' : hour <= 6 || hour >= 20 ? 'nightTime' : 'otherTime',
        dateTime: b.dateTime,
        extra: b.extra,
        cCounts: c,
      };
    })
    .to('out');

const HOT_CHANNEL_IDS: Record<string, string> = { apple: '0', google: '1', facebook: '2', baidu: '3' };
/** q21: add a channel id (hot channels by name, others from the url's channel_id parameter). */
export const q21: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .flatMap((b) => {
      let id: string | undefined = HOT_CHANNEL_IDS[b.channel.toLowerCase()];
      if (id === undefined) {
        const m = /(?:&|^|\?)channel_id=([^&]*)/.exec(b.url);
        id = m === null ? undefined : m[1];
      }
      return id === undefined
        ? []
        : [{ auction: b.auction, bidder: b.bidder, price: b.price, channel: b.channel, channelId: id }];
    })
    .to('out');

/** q22: split the url into its first three directories. */
export const q22: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .map((b) => {
      const parts = b.url.split('/');
      return {
        auction: b.auction,
        bidder: b.bidder,
        price: b.price,
        channel: b.channel,
        dir1: parts[3] ?? null,
        dir2: parts[4] ?? null,
        dir3: parts[5] ?? null,
      };
    })
    .to('out');

export interface Q10Row {
  auction: number;
  bidder: number;
  price: number;
  dateTime: number;
  extra: string;
  /** UTC day of dateTime, yyyy-MM-dd (the first partition level). */
  dt: string;
  /** UTC hour and minute of dateTime, HH:mm (the second partition level). */
  hm: string;
}

/**
 * q10: log bids to a file system, partitioned by day and minute (Flink's PARTITIONED BY (dt,
 * hm) filesystem sink, CSV). The rows carry dt and hm; the runner's FileSink (QUERY_IO.q10)
 * turns them into directories. Formatting is cached per minute: consecutive bids mostly share it.
 */
export const q10: QueryBuilder = (app, ctx) => {
  let minute = Number.NaN;
  let dt = '';
  let hm = '';
  return bids(app, ctx)
    .map((b): Q10Row => {
      const m = Math.floor(b.dateTime / 60_000);
      if (m !== minute) {
        minute = m;
        const iso = new Date(m * 60_000).toISOString();
        dt = iso.slice(0, 10);
        hm = iso.slice(11, 16);
      }
      return {
        auction: b.auction,
        bidder: b.bidder,
        price: b.price,
        dateTime: b.dateTime,
        extra: b.extra,
        dt,
        hm,
      };
    })
    .to('out');
};

/** A row of q13's side input: Flink's side_input table (key BIGINT, value VARCHAR). */
export interface SideInputRow {
  key: number;
  value: string;
}
/** Rows in the side input Nexmark ships (keys 0 … 9 999); bids join on auction mod this. */
export const SIDE_INPUT_ROWS = 10_000;

export interface Q13Row {
  auction: number;
  bidder: number;
  price: number;
  dateTime: number;
  value: string;
}

/**
 * q13: bounded side input join — each bid enriched with the side input row whose key is
 * auction mod 10 000 (Flink's lookup join on the filesystem table). The side input is the table
 * input `side_input` (keyed by its `key` column), complete before the first bid; an inner join:
 * a bid without a row is dropped.
 */
export const q13: QueryBuilder = (app, ctx) => {
  const side = app.table<SideInputRow, number>('side_input', { key: (r) => r.key });
  return bids(app, ctx)
    .keyBy((b) => b.auction % SIDE_INPUT_ROWS)
    .join(
      side,
      (b, s): Q13Row => ({
        auction: b.auction,
        bidder: b.bidder,
        price: b.price,
        dateTime: b.dateTime,
        value: s.value,
      }),
    )
    .to('out');
};

// ---- q3: local item suggestion (unbounded person–auction join) ------------------------------

const Q3_STATES = new Set(['OR', 'ID', 'CA']);
export interface Q3Row {
  name: string;
  city: string;
  state: string;
  id: number;
}
/**
 * q3: auctions of category 10 joined with their seller when the seller lives in OR, ID or CA.
 * Keyed by person id: the person (or `false` for a person outside those states) is kept; an
 * auction whose seller has not arrived yet waits in a pending list.
 */
export const q3: QueryBuilder = (app, ctx) =>
  events(app, ctx)
    .filter((e) => e.kind === PERSON || (isAuction(e) && e.category === 10))
    .keyBy((e) => (e.kind === PERSON ? e.id : (e as Auction).seller))
    .process<Q3Row>({
      processElement(e, c) {
        const person = c.state<Person | false>('p');
        if (isPerson(e)) {
          const ok = Q3_STATES.has(e.state);
          person.set(ok ? e : false);
          const pending = c.state<Auction[]>('pending');
          const list = pending.get();
          if (list !== undefined) {
            if (ok) for (const a of list) c.emit({ name: e.name, city: e.city, state: e.state, id: a.id });
            pending.clear();
          }
          return;
        }
        const a = e as Auction;
        const p = person.get();
        if (p === undefined) {
          const pending = c.state<Auction[]>('pending');
          const list = pending.get();
          // set() after changing the list: a store-backed state keeps a serialized copy.
          if (list === undefined) pending.set([a]);
          else {
            list.push(a);
            pending.set(list);
          }
        } else if (p !== false) {
          c.emit({ name: p.name, city: p.city, state: p.state, id: a.id });
        }
      },
    })
    .to('out');

export interface Q20Row {
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  url: string;
  bidDateTime: number;
  bidExtra: string;
  itemName: string;
  description: string;
  initialBid: number;
  reserve: number;
  auctionDateTime: number;
  expires: number;
  seller: number;
  category: number;
  auctionExtra: string;
}

function q20Row(b: Bid, a: Auction): Q20Row {
  return {
    auction: b.auction,
    bidder: b.bidder,
    price: b.price,
    channel: b.channel,
    url: b.url,
    bidDateTime: b.dateTime,
    bidExtra: b.extra,
    itemName: a.itemName,
    description: a.description,
    initialBid: a.initialBid,
    reserve: a.reserve,
    auctionDateTime: a.dateTime,
    expires: a.expires,
    seller: a.seller,
    category: a.category,
    auctionExtra: a.extra,
  };
}

/**
 * q20: expand each bid with its auction's fields, for auctions of category 10 (an unbounded
 * regular join, same shape as q3): keyed by auction id, the auction (or `false` for another
 * category) is kept; bids that arrive before their auction wait in a pending list.
 */
export const q20: QueryBuilder = (app, ctx) =>
  events(app, ctx)
    .filter((e) => e.kind !== PERSON)
    .keyBy((e) => (e.kind === BID ? (e as Bid).auction : (e as Auction).id))
    .process<Q20Row>({
      processElement(e, c) {
        const auction = c.state<Auction | false>('a');
        if (isAuction(e)) {
          const ok = e.category === 10;
          auction.set(ok ? e : false);
          const pending = c.state<Bid[]>('pending');
          const list = pending.get();
          if (list !== undefined) {
            if (ok) for (const b of list) c.emit(q20Row(b, e));
            pending.clear();
          }
          return;
        }
        const b = e as Bid;
        const a = auction.get();
        if (a === undefined) {
          const pending = c.state<Bid[]>('pending');
          const list = pending.get();
          if (list === undefined) pending.set([b]);
          else {
            list.push(b);
            pending.set(list);
          }
        } else if (a !== false) c.emit(q20Row(b, a));
      },
    })
    .to('out');

// ---- q4 / q9: auctions closed at expiry with their bids --------------------------------------

interface AuctionState {
  auction?: Auction;
  /** Highest bid in [dateTime, expires] so far (ties: the earliest, then first seen). */
  best?: Bid;
  /** Bids that arrived before their auction (out-of-order delivery). */
  pending?: Bid[];
}

function better(b: Bid, cur: Bid | undefined): boolean {
  return cur === undefined || b.price > cur.price || (b.price === cur.price && b.dateTime < cur.dateTime);
}

/**
 * The auction/bid join both q4 and q9 start from: keyed by auction id, emits (auction, winning
 * bid) once the watermark passes the auction's expiry, for auctions with at least one bid in
 * [dateTime, expires]. Bids that arrive before their auction wait until the watermark passes
 * them (after that no auction they could join can arrive on time).
 */
function closedAuctions(app: StreamApp, ctx: QueryContext) {
  return events(app, ctx)
    .filter((e) => e.kind !== PERSON)
    .keyBy((e) => (e.kind === BID ? (e as Bid).auction : (e as Auction).id))
    .process<{ auction: Auction; bid: Bid }>({
      processElement(e, c) {
        const st = c.state<AuctionState>('s');
        let s = st.get();
        if (isAuction(e)) {
          if (s === undefined) s = {};
          s.auction = e;
          if (s.pending !== undefined) {
            for (const b of s.pending) {
              if (b.dateTime >= e.dateTime && b.dateTime <= e.expires && better(b, s.best)) s.best = b;
            }
            s.pending = undefined;
          }
          st.set(s);
          c.timers.registerEventTimeTimer(e.expires);
          return;
        }
        const b = e as Bid;
        const a = s?.auction;
        if (a !== undefined) {
          if (b.dateTime >= a.dateTime && b.dateTime <= a.expires && better(b, s?.best))
            (s as AuctionState).best = b;
          return;
        }
        if (s === undefined) {
          s = { pending: [b] };
          st.set(s);
        } else {
          if (s.pending === undefined) s.pending = [b];
          else s.pending.push(b);
          st.set(s);
        }
        c.timers.registerEventTimeTimer(b.dateTime);
      },
      onTimer(ts, c) {
        const st = c.state<AuctionState>('s');
        const s = st.get();
        if (s === undefined) return;
        const a = s.auction;
        if (a === undefined) {
          if (s.pending !== undefined) s.pending = s.pending.filter((b) => b.dateTime > ts);
          if (s.pending === undefined || s.pending.length === 0) st.clear();
          else st.set(s);
          return;
        }
        if (ts < a.expires) return;
        if (s.best !== undefined) c.emit({ auction: a, bid: s.best });
        // Forget the auction: a later bid of it finds no state, waits as pending and is dropped
        // once the watermark passes it (ids are unique, the auction never comes back). This
        // keeps the state at the auctions in flight instead of every auction ever seen.
        st.clear();
      },
    });
}

/** q4: average winning (maximum) price per category; an updating result per category. */
export const q4: QueryBuilder = (app, ctx) =>
  closedAuctions(app, ctx)
    .keyBy((w) => w.auction.category)
    .process<{ category: number; avg: number }>({
      processElement(w, c) {
        const st = c.state<{ sum: number; count: number }>('avg');
        let s = st.get();
        if (s === undefined) {
          s = { sum: 0, count: 0 };
          st.set(s);
        }
        s.sum += w.bid.price;
        s.count++;
        st.set(s);
        c.emit({ category: w.auction.category, avg: s.sum / s.count });
      },
    })
    .to('out');

/**
 * q6: average selling price per seller over their last 10 closed auctions (selling price: the
 * highest bid in the auction's lifetime, as q4). Keyed by seller, the 10 latest closes by
 * (expires, auction id) are kept, so the result does not depend on the order in which auctions
 * closing at the same instant are delivered; an updating result per seller.
 */
export const q6: QueryBuilder = (app, ctx) =>
  closedAuctions(app, ctx)
    .keyBy((w) => w.auction.seller)
    .process<{ seller: number; avg: number }>({
      processElement(w, c) {
        const st = c.state<Array<{ expires: number; id: number; price: number }>>('last10');
        const list = st.get() ?? [];
        const e = { expires: w.auction.expires, id: w.auction.id, price: w.bid.price };
        let i = list.length;
        while (
          i > 0 &&
          (list[i - 1].expires > e.expires || (list[i - 1].expires === e.expires && list[i - 1].id > e.id))
        )
          i--;
        list.splice(i, 0, e);
        if (list.length > 10) list.shift();
        st.set(list);
        let sum = 0;
        for (const x of list) sum += x.price;
        c.emit({ seller: w.auction.seller, avg: sum / list.length });
      },
    })
    .to('out');

/** q9: winning bids — the highest bid of each auction (earliest on ties). */
export const q9: QueryBuilder = (app, ctx) =>
  closedAuctions(app, ctx)
    .map(({ auction: a, bid: b }) => ({
      id: a.id,
      seller: a.seller,
      category: a.category,
      expires: a.expires,
      auction: b.auction,
      bidder: b.bidder,
      price: b.price,
      bidDateTime: b.dateTime,
    }))
    .to('out');

// ---- windows --------------------------------------------------------------------------------

export interface Q5Row {
  auction: number;
  num: number;
  start: number;
  end: number;
}
/**
 * q5: hot items — per sliding window (10 s, every 2 s) the auctions with the most bids.
 * Per-auction counts, then per window end the maximum, emitted when the watermark passes it.
 */
export const q5: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .keyBy((b) => b.auction)
    .window(sliding(10_000, 2_000))
    .count()
    .keyBy((w) => w.window.end)
    .process<Q5Row>({
      processElement(w, c: ProcessContext<number, Q5Row>) {
        const st = c.state<{ max: number; auctions: number[]; start: number }>('m');
        const s = st.get();
        if (s === undefined) {
          st.set({ max: w.value, auctions: [w.key], start: w.window.start });
          c.timers.registerEventTimeTimer(w.window.end - 1);
        } else if (w.value >= s.max) {
          if (w.value > s.max) {
            s.max = w.value;
            s.auctions = [w.key];
          } else s.auctions.push(w.key);
          st.set(s);
        }
      },
      onTimer(_ts, c) {
        const st = c.state<{ max: number; auctions: number[]; start: number }>('m');
        const s = st.get();
        if (s === undefined) return;
        for (const a of s.auctions) c.emit({ auction: a, num: s.max, start: s.start, end: c.key });
        st.clear();
      },
    })
    .to('out');

/** q7: highest bid per tumbling 10 s window (every bid at the window's maximum price). */
export const q7: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .keyBy(() => 0)
    .window(tumbling(10_000))
    .aggregate<{ max: number; bids: Bid[] }, Bid[]>({
      createAccumulator: () => ({ max: -1, bids: [] }),
      add(acc, b) {
        if (b.price > acc.max) {
          acc.max = b.price;
          acc.bids = [b];
        } else if (b.price === acc.max) acc.bids.push(b);
        return acc;
      },
      merge(x, y) {
        if (x.max > y.max) return x;
        if (y.max > x.max) return y;
        return { max: x.max, bids: [...x.bids, ...y.bids] };
      },
      getResult: (acc) => acc.bids,
    })
    .flatMap((w) =>
      w.value.map((b) => ({
        auction: b.auction,
        price: b.price,
        bidder: b.bidder,
        dateTime: b.dateTime,
        windowEnd: w.window.end,
      })),
    )
    .to('out');

/**
 * q8: monitor new users — people who opened an auction in the same tumbling 10 s window in
 * which they registered (Flink's window join of distinct people and distinct sellers).
 */
export const q8: QueryBuilder = (app, ctx) =>
  events(app, ctx)
    .filter((e) => e.kind !== BID)
    .keyBy((e) => (e.kind === PERSON ? e.id : (e as Auction).seller))
    .window(tumbling(10_000))
    .aggregate<{ name: string | undefined; sold: boolean }, { name: string | undefined; sold: boolean }>({
      createAccumulator: () => ({ name: undefined, sold: false }),
      add(acc, e) {
        if (isPerson(e)) acc.name = e.name;
        else acc.sold = true;
        return acc;
      },
      merge: (x, y) => ({ name: x.name ?? y.name, sold: x.sold || y.sold }),
      getResult: (acc) => acc,
    })
    .filter((w) => w.value.sold && w.value.name !== undefined)
    .map((w) => ({ id: w.key, name: w.value.name as string, starttime: w.window.start }))
    .to('out');

/** q11: user sessions — bids per bidder per session (gap 10 s). */
export const q11: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .keyBy((b) => b.bidder)
    .window(session(10_000))
    .count()
    .filter((w) => w.kind === 'final')
    .map((w) => ({ bidder: w.key, bidCount: w.value, starttime: w.window.start, endtime: w.window.end }))
    .to('out');

/** q12: bids per bidder per processing-time tumbling 10 s window. */
export const q12: QueryBuilder = (app) =>
  app
    .stream<NexmarkEvent>('nexmark', { ingestionTime: true })
    .filter(isBid)
    .keyBy((b) => b.bidder)
    .window(tumbling(10_000))
    .count()
    .map((w) => ({ bidder: w.key, bidCount: w.value, starttime: w.window.start, endtime: w.window.end }))
    .to('out');

// ---- q18 / q19: updating results (upserts by key) ----------------------------------------------

/**
 * q18: the last bid of each (bidder, auction) — Flink's ROW_NUMBER() … ORDER BY dateTime DESC
 * = 1. An upsert stream keyed by `bidder/auction`: a bid later in event time than the kept one
 * replaces it and is emitted (ties: the first arrival stays); the last value per key is the result.
 */
export const q18: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .keyBy((b) => `${b.bidder}/${b.auction}`)
    .process<Bid>({
      processElement(b, c) {
        const st = c.state<Bid>('last');
        const cur = st.get();
        if (cur === undefined || b.dateTime > cur.dateTime) {
          st.set(b);
          c.emit(b);
        }
      },
    })
    .to('out');

/**
 * q19: the 10 highest bids of each auction (price descending, then earliest) — Flink's
 * ROW_NUMBER() ≤ 10. An upsert stream keyed by auction: whenever a bid enters the top 10 the
 * auction's new top-10 list is emitted; the last list per auction is the result.
 */
export const q19: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .keyBy((b) => b.auction)
    .process<{ auction: number; top: Bid[] }>({
      processElement(b, c) {
        const st = c.state<Bid[]>('top');
        const top = st.get() ?? [];
        let i = top.length;
        while (
          i > 0 &&
          (top[i - 1].price < b.price || (top[i - 1].price === b.price && top[i - 1].dateTime > b.dateTime))
        )
          i--;
        if (i >= 10) return;
        const next = top.slice(0, i);
        next.push(b);
        for (let j = i; j < top.length && next.length < 10; j++) next.push(top[j]);
        st.set(next);
        c.emit({ auction: b.auction, top: next });
      },
    })
    .to('out');

// ---- q15–q17: daily statistics ----------------------------------------------------------------

const DAY_MS = 86_400_000;

/** Price bands of q15–q17: rank 1 below $100, rank 2 below $10 000, rank 3 above. */
function rank(price: number): 0 | 1 | 2 {
  return price < 10_000 ? 0 : price < 1_000_000 ? 1 : 2;
}

interface DayStats {
  bids: [number, number, number, number];
  /** Distinct bidders / auctions: all, then per rank (null where a query does not need them). */
  bidders: Set<number>[] | null;
  auctions: Set<number>[] | null;
  min: number;
  max: number;
  sum: number;
  /** Latest bid time: within one day its 'HH:mm' is the latest minute (formatted at output). */
  last: number;
}

function dayStats(distinct: boolean): AggregateFunction<Bid, DayStats, DayStats> {
  const sets = () => [new Set<number>(), new Set<number>(), new Set<number>(), new Set<number>()];
  return {
    createAccumulator: () => ({
      bids: [0, 0, 0, 0],
      bidders: distinct ? sets() : null,
      auctions: distinct ? sets() : null,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
      sum: 0,
      last: Number.NEGATIVE_INFINITY,
    }),
    add(acc, b) {
      const r = rank(b.price) + 1;
      acc.bids[0]++;
      acc.bids[r]++;
      if (acc.bidders !== null && acc.auctions !== null) {
        acc.bidders[0].add(b.bidder);
        acc.bidders[r].add(b.bidder);
        acc.auctions[0].add(b.auction);
        acc.auctions[r].add(b.auction);
      }
      if (b.price < acc.min) acc.min = b.price;
      if (b.price > acc.max) acc.max = b.price;
      acc.sum += b.price;
      if (b.dateTime > acc.last) acc.last = b.dateTime;
      return acc;
    },
    merge(x, y) {
      const out = dayStats(distinct).createAccumulator();
      for (const a of [x, y]) {
        for (let i = 0; i < 4; i++) {
          out.bids[i] += a.bids[i];
          if (out.bidders !== null && a.bidders !== null) for (const v of a.bidders[i]) out.bidders[i].add(v);
          if (out.auctions !== null && a.auctions !== null)
            for (const v of a.auctions[i]) out.auctions[i].add(v);
        }
        out.min = Math.min(out.min, a.min);
        out.max = Math.max(out.max, a.max);
        out.sum += a.sum;
        if (a.last > out.last) out.last = a.last;
      }
      return out;
    },
    getResult: (acc) => acc,
  };
}

const dayOf = (start: number) => new Date(start).toISOString().slice(0, 10);
const sizes = (s: Set<number>[] | null) => (s === null ? [0, 0, 0, 0] : s.map((x) => x.size));

/** The per-band counts q15 and q16 both report: bids, distinct bidders, distinct auctions. */
function bandCounts(s: DayStats) {
  const [tb, r1b, r2b, r3b] = sizes(s.bidders);
  const [ta, r1a, r2a, r3a] = sizes(s.auctions);
  return {
    total_bids: s.bids[0],
    rank1_bids: s.bids[1],
    rank2_bids: s.bids[2],
    rank3_bids: s.bids[3],
    total_bidders: tb,
    rank1_bidders: r1b,
    rank2_bidders: r2b,
    rank3_bidders: r3b,
    total_auctions: ta,
    rank1_auctions: r1a,
    rank2_auctions: r2a,
    rank3_auctions: r3a,
  };
}

/** q15: bidding statistics per day (counts and distinct bidders/auctions per price band). */
export const q15: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .keyBy((b) => Math.floor(b.dateTime / DAY_MS))
    .window(tumbling(DAY_MS))
    .aggregate(dayStats(true))
    .map((w) => ({ day: dayOf(w.window.start), ...bandCounts(w.value) }))
    .to('out');

/** q16: channel statistics per day (q15 per channel, plus the day's latest minute). */
export const q16: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .keyBy((b) => b.channel)
    .window(tumbling(DAY_MS))
    .aggregate(dayStats(true))
    .map((w) => ({
      channel: w.key,
      day: dayOf(w.window.start),
      minute: new Date(w.value.last).toISOString().slice(11, 16),
      ...bandCounts(w.value),
    }))
    .to('out');

/** q17: auction statistics per day (counts per price band, min/max/avg/sum of prices). */
export const q17: QueryBuilder = (app, ctx) =>
  bids(app, ctx)
    .keyBy((b) => b.auction)
    .window(tumbling(DAY_MS))
    .aggregate(dayStats(false))
    .map((w) => {
      const s = w.value;
      return {
        auction: w.key,
        day: dayOf(w.window.start),
        total_bids: s.bids[0],
        rank1_bids: s.bids[1],
        rank2_bids: s.bids[2],
        rank3_bids: s.bids[3],
        min_price: s.min,
        max_price: s.max,
        avg_price: s.sum / s.bids[0],
        sum_price: s.sum,
      };
    })
    .to('out');

export const QUERIES: Readonly<Record<string, QueryBuilder>> = {
  q0,
  q1,
  q2,
  q3,
  q4,
  q5,
  q6,
  q7,
  q8,
  q9,
  q10,
  q11,
  q12,
  q13,
  q14,
  q15,
  q16,
  q17,
  q18,
  q19,
  q20,
  q21,
  q22,
};

/** Queries not implemented, with the engine feature each would need (none left). */
export const UNSUPPORTED: Readonly<Record<string, string>> = {};

/** What a query reads or writes besides the `nexmark` input and a counted `out`. */
export interface QueryIo {
  /** `out` is written as files by a FileSink with these settings (the runner picks the path). */
  readonly fileSink?: Omit<FileSinkOptions, 'path' | 'taskId'>;
  /** A table input loaded from a CSV file before the stream. */
  readonly sideInput?: { readonly input: string; readonly columns: readonly CsvColumn[] };
}

export const QUERY_IO: Readonly<Record<string, QueryIo>> = {
  q10: {
    fileSink: {
      format: 'csv',
      partitionBy: ['dt', 'hm'],
      columns: ['auction', 'bidder', 'price', 'dateTime', 'extra'],
    },
  },
  q13: {
    sideInput: {
      input: 'side_input',
      columns: [
        { name: 'key', type: 'number' },
        { name: 'value', type: 'string' },
      ],
    },
  },
};

/** Flink 1.13's published throughput per core (events/s), from the nexmark project. */
export const FLINK_PER_CORE: Readonly<Record<string, number>> = {
  q0: 155_000,
  q1: 158_000,
  q2: 175_000,
  q3: 152_000,
  q4: 34_300,
  q5: 22_100,
  q7: 12_300,
  q8: 146_000,
  q11: 39_700,
  q12: 75_700,
};
