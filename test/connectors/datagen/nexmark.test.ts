/**
 * The Nexmark generator against its specification: the 1:3:46 proportion per 50 events, dense
 * id spaces from 1000, bids and auctions referring only to people/auctions within the
 * in-flight/active windows plus the id leads, event-time pacing, bounded out-of-order delivery
 * (a permutation within each group), determinism per seed, and the byte codec's round trip.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AUCTION,
  AUCTION_ID_LEAD,
  type Auction,
  BID,
  type Bid,
  decodeEvent,
  encodeEvent,
  FIRST_AUCTION_ID,
  FIRST_PERSON_ID,
  NexmarkGenerator,
  NexmarkSource,
  PERSON,
  PERSON_ID_LEAD,
  type Person,
} from '../../../src/connectors/index.js';

describe('Nexmark generator', () => {
  it('follows the proportions, id spaces and reference windows', () => {
    const g = new NexmarkGenerator({ seed: 3 });
    const n = 50_000;
    const counts = [0, 0, 0];
    let nextPerson = FIRST_PERSON_ID;
    let nextAuction = FIRST_AUCTION_ID;
    let hotAuctions = 0;
    for (let i = 0; i < n; i++) {
      const e = g.next();
      counts[e.kind]++;
      if (e.kind === PERSON) {
        assert.equal((e as Person).id, nextPerson++);
      } else if (e.kind === AUCTION) {
        const a = e as Auction;
        assert.equal(a.id, nextAuction++);
        assert.ok(a.seller >= FIRST_PERSON_ID && a.seller < nextPerson + PERSON_ID_LEAD);
        assert.ok(a.category >= 10 && a.category < 15);
        assert.ok(a.expires > a.dateTime && a.reserve >= a.initialBid);
      } else {
        const b = e as Bid;
        assert.ok(b.auction >= Math.max(FIRST_AUCTION_ID, nextAuction - 1 - 100) || b.auction % 100 === 0);
        assert.ok(b.auction < nextAuction + AUCTION_ID_LEAD);
        assert.ok(b.bidder >= FIRST_PERSON_ID && b.bidder < nextPerson + PERSON_ID_LEAD);
        assert.ok(b.price >= 100 && b.price <= 100_000_000);
        if (b.auction % 100 === 0) hotAuctions++;
      }
    }
    assert.deepEqual(counts, [n / 50, (n / 50) * 3, (n / 50) * 46]);
    // hotAuctionRatio 2: about half the bids go to the current hot auction.
    assert.ok(
      hotAuctions / counts[BID] > 0.45 && hotAuctions / counts[BID] < 0.6,
      String(hotAuctions / counts[BID]),
    );
  });

  it('paces event time from the rate', () => {
    const g = new NexmarkGenerator({ seed: 1, firstEventRate: 2000, baseTime: 5000 });
    const times = Array.from({ length: 4001 }, () => g.next().dateTime);
    assert.equal(times[0], 5000);
    assert.equal(times[2000], 6000);
    assert.equal(times[4000], 7000);
    for (let i = 1; i < times.length; i++) assert.ok(times[i] >= times[i - 1]);
  });

  it('is deterministic per seed and random-access (eventAt)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 1_000_000 }), (seed, slot) => {
        const a = new NexmarkGenerator({ seed, outOfOrderGroupSize: 16 });
        const b = new NexmarkGenerator({ seed, outOfOrderGroupSize: 16 });
        b.seek(slot);
        assert.deepEqual(a.eventAt(slot), b.next());
      }),
      { numRuns: 100 },
    );
    const x = new NexmarkGenerator({ seed: 1 }).eventAt(4);
    const y = new NexmarkGenerator({ seed: 2 }).eventAt(4);
    assert.notDeepEqual(x, y);
  });

  it('delivers out of order within groups only, never behind the watermark bound', () => {
    const size = 32;
    const g = new NexmarkGenerator({ seed: 5, outOfOrderGroupSize: size, firstEventRate: 1000 });
    const inOrder = new NexmarkGenerator({ seed: 5, firstEventRate: 1000 });
    let maxSeen = Number.NEGATIVE_INFINITY;
    let outOfOrder = 0;
    for (let base = 0; base < 3200; base += size) {
      const got: string[] = [];
      const want: string[] = [];
      for (let i = 0; i < size; i++) {
        const e = g.next();
        if (e.dateTime < maxSeen) outOfOrder++;
        assert.ok(e.dateTime >= maxSeen - g.maxOutOfOrdernessMs, 'within the bound');
        assert.ok(e.dateTime >= g.watermarkAfter(base + i));
        maxSeen = Math.max(maxSeen, e.dateTime);
        got.push(JSON.stringify(e));
        want.push(JSON.stringify(inOrder.next()));
      }
      assert.deepEqual(got.sort(), want.sort(), 'each group is a permutation of the in-order events');
    }
    assert.ok(outOfOrder > 0);
  });

  it('encodes events as keyed JSON bytes and decodes them back', () => {
    const g = new NexmarkGenerator({ seed: 9 });
    for (let i = 0; i < 200; i++) {
      const e = g.next();
      const enc = encodeEvent(e);
      const key = Number(new TextDecoder().decode(enc.key));
      assert.equal(key, e.kind === BID ? (e as Bid).auction : (e as Person | Auction).id);
      assert.equal(enc.timestamp, e.dateTime);
      assert.deepEqual(decodeEvent(enc.value), e);
    }
    assert.throws(() => decodeEvent(new TextEncoder().encode('{"event_type":7}')), /not a Nexmark event/);
  });

  it('serves as a bounded Source', () => {
    const g = new NexmarkGenerator({ seed: 2 });
    const src = new NexmarkSource(g, 2500);
    let total = 0;
    let last = -1;
    while (!src.done) {
      for (const b of src.poll(1000)) {
        assert.equal(b.input, 'nexmark');
        total += b.records.length;
        assert.equal(b.nextOffset, total);
        for (const r of b.records) {
          assert.equal(r.timestamp, (r.value as Bid).dateTime);
          assert.ok(r.timestamp >= last);
          last = r.timestamp;
        }
      }
    }
    assert.equal(total, 2500);
    assert.deepEqual(src.poll(1000), []);
  });
});
