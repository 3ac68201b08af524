/**
 * The Nexmark event generator, following the specification of the nexmark/nexmark project
 * (Flink) and Apache Beam's Nexmark (GeneratorConfig, Person/Auction/BidGenerator):
 *
 *  - event n is a Person, Auction or Bid by n mod 50 in the 1:3:46 proportion;
 *  - ids: people from FIRST_PERSON_ID, auctions from FIRST_AUCTION_ID, dense per kind;
 *    sellers and bidders are drawn among the `numActivePeople` most recent people (plus
 *    PERSON_ID_LEAD not yet created), bids among the `numInFlightAuctions` most recent auctions
 *    (plus AUCTION_ID_LEAD); hot auctions / sellers / bidders (a multiple of 100) are chosen
 *    with probability 1 − 1/ratio;
 *  - event time: baseTime + n · interEventDelay, interEventDelay = 1 s / firstEventRate ·
 *    numEventGenerators (the rate is event-time pacing only; generation is as fast as asked);
 *  - out-of-order delivery: within groups of `outOfOrderGroupSize` events the content (and
 *    event time) of delivery slot n is that of event base + (n · 953 mod size), so event time
 *    runs at most one group behind; the watermark after slot n is the time of the group base.
 *
 * Determinism: every event's content is a function of (seed, its adjusted event number) only —
 * a small PRNG is seeded per event, like Beam's `new Random(eventId)` — so any slice of the
 * stream can be generated independently and runs repeat exactly. Strings come from pools
 * built once per seed (random strings of the configured average sizes), which keeps
 * generation allocation-light: the only allocation per event is the event object itself.
 */
import { Auction, Bid, type NexmarkEvent, Person } from './model.js';

export const FIRST_PERSON_ID = 1000;
export const FIRST_AUCTION_ID = 1000;
export const FIRST_CATEGORY_ID = 10;
export const NUM_CATEGORIES = 5;
export const PERSON_ID_LEAD = 10;
export const AUCTION_ID_LEAD = 10;
export const HOT_AUCTION_RATIO = 100;
export const HOT_SELLER_RATIO = 100;
export const HOT_BIDDER_RATIO = 100;
export const HOT_CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'] as const;
export const CHANNELS_NUMBER = 10_000;

export const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'] as const;
export const US_CITIES = [
  'Phoenix',
  'Los Angeles',
  'San Francisco',
  'Boise',
  'Portland',
  'Bend',
  'Redmond',
  'Seattle',
  'Kent',
  'Cheyenne',
] as const;
const FIRST_NAMES = [
  'Peter',
  'Paul',
  'Luke',
  'John',
  'Saul',
  'Vicky',
  'Kate',
  'Julie',
  'Sarah',
  'Deiter',
  'Walter',
];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];

/** NexmarkConfiguration's generator settings; defaults are the published ones. */
export interface NexmarkConfig {
  readonly seed?: number;
  /** Events per second of event time (pacing of timestamps). Default 10 000. */
  readonly firstEventRate?: number;
  readonly numEventGenerators?: number;
  /** Event time of event 0 (ms). Default 1 700 000 000 000 (a fixed instant: reproducible). */
  readonly baseTime?: number;
  readonly personProportion?: number;
  readonly auctionProportion?: number;
  readonly bidProportion?: number;
  readonly hotAuctionRatio?: number;
  readonly hotSellersRatio?: number;
  readonly hotBiddersRatio?: number;
  readonly hotChannelsRatio?: number;
  readonly numInFlightAuctions?: number;
  readonly numActivePeople?: number;
  readonly avgPersonByteSize?: number;
  readonly avgAuctionByteSize?: number;
  readonly avgBidByteSize?: number;
  /** 1 = in order. */
  readonly outOfOrderGroupSize?: number;
}

export type ResolvedNexmarkConfig = Required<NexmarkConfig>;

export function resolveConfig(c: NexmarkConfig = {}): ResolvedNexmarkConfig {
  return {
    seed: c.seed ?? 0,
    firstEventRate: c.firstEventRate ?? 10_000,
    numEventGenerators: c.numEventGenerators ?? 1,
    baseTime: c.baseTime ?? 1_700_000_000_000,
    personProportion: c.personProportion ?? 1,
    auctionProportion: c.auctionProportion ?? 3,
    bidProportion: c.bidProportion ?? 46,
    hotAuctionRatio: c.hotAuctionRatio ?? 2,
    hotSellersRatio: c.hotSellersRatio ?? 4,
    hotBiddersRatio: c.hotBiddersRatio ?? 4,
    hotChannelsRatio: c.hotChannelsRatio ?? 2,
    numInFlightAuctions: c.numInFlightAuctions ?? 100,
    numActivePeople: c.numActivePeople ?? 1000,
    avgPersonByteSize: c.avgPersonByteSize ?? 200,
    avgAuctionByteSize: c.avgAuctionByteSize ?? 500,
    avgBidByteSize: c.avgBidByteSize ?? 100,
    outOfOrderGroupSize: c.outOfOrderGroupSize ?? 1,
  };
}

/** Per-event PRNG (mulberry32): 32-bit state, reseeded for every event. */
class Rng {
  s = 0;
  reseed(seed: number, n: number): void {
    // Mix the event number (may exceed 2^32) and the seed into one 32-bit state.
    let h = Math.imul((n >>> 0) ^ Math.imul(seed, 0x85ebca6b), 0x9e3779b1) ^ Math.floor(n / 4294967296);
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    this.s = (h ^ (h >>> 16)) | 0;
  }
  nextU32(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  nextDouble(): number {
    return this.nextU32() / 4294967296;
  }
  /** Uniform integer in [0, n) for n ≥ 1 (n may exceed 2^32). */
  nextInt(n: number): number {
    return n <= 4294967296 ? Math.floor(this.nextDouble() * n) : Math.floor(this.nextDouble() * n);
  }
}

function randomString(rng: Rng, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(97 + (rng.nextU32() % 26));
  return s;
}

const POOL = 1024;

/** String pools for one seed; index with a random number & (POOL − 1). */
class Pools {
  readonly personExtra: string[] = [];
  readonly auctionExtra: string[] = [];
  readonly bidExtra: string[] = [];
  readonly emails: string[] = [];
  readonly cards: string[] = [];
  readonly items: string[] = [];
  readonly descriptions: string[] = [];
  readonly names: string[] = [];
  readonly channelUrls: string[] = [];
  readonly channelNames: string[] = [];
  readonly hotUrls: string[] = [];

  constructor(seed: number, c: ResolvedNexmarkConfig) {
    const r = new Rng();
    r.reseed(seed, -1);
    // Extra padding: Beam's nextExtra — the average size minus the fields' size, ±20 %.
    const extra = (avg: number, fixed: number): string => {
      const want = Math.max(0, avg - fixed);
      const delta = Math.round(want * 0.2);
      return randomString(r, want + (delta > 0 ? r.nextInt(2 * delta + 1) - delta : 0));
    };
    for (let i = 0; i < POOL; i++) {
      this.personExtra.push(extra(c.avgPersonByteSize, 100));
      this.auctionExtra.push(extra(c.avgAuctionByteSize, 120));
      this.bidExtra.push(extra(c.avgBidByteSize, 60));
      this.emails.push(`${randomString(r, 7)}@${randomString(r, 5)}.com`);
      const d = () => String(1000 + r.nextInt(9000));
      this.cards.push(`${d()} ${d()} ${d()} ${d()}`);
      this.items.push(randomString(r, 20));
      this.descriptions.push(randomString(r, 100));
      this.names.push(
        `${FIRST_NAMES[r.nextInt(FIRST_NAMES.length)]} ${LAST_NAMES[r.nextInt(LAST_NAMES.length)]}`,
      );
    }
    const url = () =>
      `https://www.nexmark.com/${randomString(r, 5)}/${randomString(r, 5)}/${randomString(r, 5)}/item.htm?query=1`;
    for (let i = 0; i < CHANNELS_NUMBER; i++) {
      this.channelNames.push(`channel-${i}`);
      this.channelUrls.push(`${url()}&channel_id=${i}`);
    }
    for (let i = 0; i < HOT_CHANNELS.length; i++) this.hotUrls.push(url());
  }
}

/** Pools are immutable: generators with the same seed and sizes share them (a few cached). */
const poolCache = new Map<string, Pools>();
function poolsFor(c: ResolvedNexmarkConfig): Pools {
  const key = `${c.seed}/${c.avgPersonByteSize}/${c.avgAuctionByteSize}/${c.avgBidByteSize}`;
  let p = poolCache.get(key);
  if (p === undefined) {
    p = new Pools(c.seed, c);
    if (poolCache.size >= 8) poolCache.delete(poolCache.keys().next().value as string);
    poolCache.set(key, p);
  }
  return p;
}

export class NexmarkGenerator {
  readonly config: ResolvedNexmarkConfig;
  /** Event-time distance between consecutive events, in ms (may be fractional). */
  readonly interEventDelayMs: number;
  private readonly denom: number;
  private readonly rng = new Rng();
  private readonly pools: Pools;
  /** Next delivery slot. */
  private n = 0;

  constructor(config: NexmarkConfig = {}) {
    this.config = resolveConfig(config);
    const c = this.config;
    if (!(c.firstEventRate > 0)) throw new RangeError('firstEventRate must be > 0');
    if (!(Number.isInteger(c.outOfOrderGroupSize) && c.outOfOrderGroupSize >= 1)) {
      throw new RangeError('outOfOrderGroupSize must be an integer ≥ 1');
    }
    this.interEventDelayMs = (1000 / c.firstEventRate) * c.numEventGenerators;
    this.denom = c.personProportion + c.auctionProportion + c.bidProportion;
    this.pools = poolsFor(c);
  }

  /** Delivery slots generated so far. */
  get eventsGenerated(): number {
    return this.n;
  }

  /** Event time of event number n. */
  timestampOf(n: number): number {
    return this.config.baseTime + Math.floor(n * this.interEventDelayMs);
  }

  /** The event number whose content fills delivery slot n (out-of-order groups). */
  adjustedEventNumber(n: number): number {
    const g = this.config.outOfOrderGroupSize;
    if (g === 1) return n;
    const base = Math.floor(n / g) * g;
    return base + ((n * 953) % g);
  }

  /** Watermark that holds after delivery slots [0, n): every later event is at or after it. */
  watermarkAfter(n: number): number {
    const g = this.config.outOfOrderGroupSize;
    return this.timestampOf(Math.floor(n / g) * g);
  }

  /** Largest event-time lag of a slot behind the slots delivered before it (watermark bound). */
  get maxOutOfOrdernessMs(): number {
    return Math.ceil(this.config.outOfOrderGroupSize * this.interEventDelayMs);
  }

  /** Restarts at delivery slot n. */
  seek(n: number): void {
    this.n = n;
  }

  /** The next event in delivery order. */
  next(): NexmarkEvent {
    return this.eventAt(this.n++);
  }

  /** Fills out[0..count) with the next events; returns count. */
  nextBatch(out: NexmarkEvent[], count: number): number {
    for (let i = 0; i < count; i++) out[i] = this.eventAt(this.n++);
    return count;
  }

  /** The event delivered in slot n (pure: depends on the seed and n only). */
  eventAt(slot: number): NexmarkEvent {
    const id = this.adjustedEventNumber(slot);
    const ts = this.timestampOf(id);
    this.rng.reseed(this.config.seed, id);
    const c = this.config;
    const rem = id % this.denom;
    if (rem < c.personProportion) return this.person(id, ts);
    if (rem < c.personProportion + c.auctionProportion) return this.auction(id, ts);
    return this.bid(id, ts);
  }

  private lastBase0PersonId(id: number): number {
    const c = this.config;
    const epoch = Math.floor(id / this.denom);
    let offset = id % this.denom;
    if (offset >= c.personProportion) offset = c.personProportion - 1;
    return epoch * c.personProportion + offset;
  }

  private lastBase0AuctionId(id: number): number {
    const c = this.config;
    let epoch = Math.floor(id / this.denom);
    let offset = id % this.denom;
    if (offset < c.personProportion) {
      epoch--;
      offset = c.auctionProportion - 1;
    } else if (offset >= c.personProportion + c.auctionProportion) {
      offset = c.auctionProportion - 1;
    } else {
      offset -= c.personProportion;
    }
    return epoch * c.auctionProportion + offset;
  }

  private nextBase0PersonId(id: number): number {
    const numPeople = this.lastBase0PersonId(id) + 1;
    const active = Math.min(numPeople, this.config.numActivePeople);
    return numPeople - active + this.rng.nextInt(active + PERSON_ID_LEAD);
  }

  private nextBase0AuctionId(id: number): number {
    const maxAuction = this.lastBase0AuctionId(id);
    const minAuction = Math.max(maxAuction - this.config.numInFlightAuctions, 0);
    return minAuction + this.rng.nextInt(maxAuction - minAuction + 1 + AUCTION_ID_LEAD);
  }

  /** Beam's nextPrice: log-uniform between 1 and 1 000 000 dollars, in cents. */
  private nextPrice(): number {
    return Math.round(10 ** (this.rng.nextDouble() * 6) * 100);
  }

  private person(id: number, ts: number): Person {
    const r = this.rng;
    const p = this.pools;
    return new Person(
      this.lastBase0PersonId(id) + FIRST_PERSON_ID,
      p.names[r.nextU32() & (POOL - 1)],
      p.emails[r.nextU32() & (POOL - 1)],
      p.cards[r.nextU32() & (POOL - 1)],
      US_CITIES[r.nextInt(US_CITIES.length)],
      US_STATES[r.nextInt(US_STATES.length)],
      ts,
      p.personExtra[r.nextU32() & (POOL - 1)],
    );
  }

  private auction(id: number, ts: number): Auction {
    const r = this.rng;
    const c = this.config;
    let seller: number;
    if (r.nextInt(c.hotSellersRatio) > 0) {
      seller = Math.floor(this.lastBase0PersonId(id) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO;
    } else {
      seller = this.nextBase0PersonId(id);
    }
    const category = FIRST_CATEGORY_ID + r.nextInt(NUM_CATEGORIES);
    const initialBid = this.nextPrice();
    // Beam's nextAuctionLengthMs: up to twice the event time in which numInFlightAuctions
    // auctions are created, so about that many are open at any time.
    const eventsForAuctions = Math.floor((c.numInFlightAuctions * this.denom) / c.auctionProportion);
    const horizon = this.timestampOf(id + eventsForAuctions) - ts;
    const length = 1 + r.nextInt(Math.max(horizon * 2, 1));
    return new Auction(
      this.lastBase0AuctionId(id) + FIRST_AUCTION_ID,
      this.pools.items[r.nextU32() & (POOL - 1)],
      this.pools.descriptions[r.nextU32() & (POOL - 1)],
      initialBid,
      initialBid + this.nextPrice(),
      ts,
      ts + length,
      seller + FIRST_PERSON_ID,
      category,
      this.pools.auctionExtra[r.nextU32() & (POOL - 1)],
    );
  }

  private bid(id: number, ts: number): Bid {
    const r = this.rng;
    const c = this.config;
    let auction: number;
    if (r.nextInt(c.hotAuctionRatio) > 0) {
      auction = Math.floor(this.lastBase0AuctionId(id) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO;
    } else {
      auction = this.nextBase0AuctionId(id);
    }
    let bidder: number;
    if (r.nextInt(c.hotBiddersRatio) > 0) {
      bidder = Math.floor(this.lastBase0PersonId(id) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1;
    } else {
      bidder = this.nextBase0PersonId(id);
    }
    const price = this.nextPrice();
    let channel: string;
    let url: string;
    if (r.nextInt(c.hotChannelsRatio) > 0) {
      const h = r.nextInt(HOT_CHANNELS.length);
      channel = HOT_CHANNELS[h];
      url = this.pools.hotUrls[h];
    } else {
      const ch = r.nextInt(CHANNELS_NUMBER);
      channel = this.pools.channelNames[ch];
      url = this.pools.channelUrls[ch];
    }
    return new Bid(
      auction + FIRST_AUCTION_ID,
      bidder + FIRST_PERSON_ID,
      price,
      channel,
      url,
      ts,
      this.pools.bidExtra[r.nextU32() & (POOL - 1)],
    );
  }
}
