/**
 * Nexmark events as Kafka record bytes: key = the event's entity id as decimal UTF-8 (person
 * id, auction id, or a bid's auction id — so bids of one auction share a partition), value =
 * JSON in the nexmark/nexmark layout `{"event_type":0|1|2,"person"|"auction"|"bid":{…}}`.
 * decodeEvent is the inverse (a stream input's serde). A topic producer needs nothing else.
 */
import { Buffer } from 'node:buffer';
import { AUCTION, Auction, BID, Bid, type NexmarkEvent, PERSON, Person } from './model.js';

const decoder = new TextDecoder();

export interface EncodedEvent {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** Event time (the record timestamp a producer should set). */
  readonly timestamp: number;
}

export function eventKey(e: NexmarkEvent): number {
  return e.kind === BID ? e.auction : e.id;
}

const str = JSON.stringify;

/** The value's JSON text (field order fixed; strings escaped by JSON.stringify). */
export function eventJson(e: NexmarkEvent): string {
  switch (e.kind) {
    case PERSON:
      return `{"event_type":0,"person":{"id":${e.id},"name":${str(e.name)},"emailAddress":${str(e.emailAddress)},"creditCard":${str(e.creditCard)},"city":${str(e.city)},"state":${str(e.state)},"dateTime":${e.dateTime},"extra":${str(e.extra)}}}`;
    case AUCTION:
      return `{"event_type":1,"auction":{"id":${e.id},"itemName":${str(e.itemName)},"description":${str(e.description)},"initialBid":${e.initialBid},"reserve":${e.reserve},"dateTime":${e.dateTime},"expires":${e.expires},"seller":${e.seller},"category":${e.category},"extra":${str(e.extra)}}}`;
    default:
      return `{"event_type":2,"bid":{"auction":${e.auction},"bidder":${e.bidder},"price":${e.price},"channel":${str(e.channel)},"url":${str(e.url)},"dateTime":${e.dateTime},"extra":${str(e.extra)}}}`;
  }
}

export function encodeEvent(e: NexmarkEvent): EncodedEvent {
  return {
    // Buffer.from is about twice TextEncoder.encode for these short ASCII strings.
    key: Buffer.from(String(eventKey(e))),
    value: Buffer.from(eventJson(e)),
    timestamp: e.dateTime,
  };
}

export function decodeEvent(bytes: Uint8Array): NexmarkEvent {
  const o = JSON.parse(decoder.decode(bytes));
  switch (o.event_type) {
    case 0: {
      const p = o.person;
      return new Person(p.id, p.name, p.emailAddress, p.creditCard, p.city, p.state, p.dateTime, p.extra);
    }
    case 1: {
      const a = o.auction;
      return new Auction(
        a.id,
        a.itemName,
        a.description,
        a.initialBid,
        a.reserve,
        a.dateTime,
        a.expires,
        a.seller,
        a.category,
        a.extra,
      );
    }
    case 2: {
      const b = o.bid;
      return new Bid(b.auction, b.bidder, b.price, b.channel, b.url, b.dateTime, b.extra);
    }
    default:
      throw new TypeError(`not a Nexmark event: event_type ${String(o.event_type)}`);
  }
}

/** decodeEvent as a stream input's value deserializer (a topic written with encodeEvent). */
export const nexmarkSerde = { deserialize: decodeEvent } as const;
