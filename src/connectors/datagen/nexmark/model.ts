/**
 * Nexmark's three event types (Person, Auction, Bid), as in the nexmark/nexmark project and
 * Apache Beam's Nexmark. Each is a class with a `kind` tag (0, 1, 2) so a mixed stream keeps
 * three hidden classes and queries dispatch on a small integer. Times are ms since the epoch;
 * `dateTime` is the event time of every kind.
 *
 * Invariants: instances are created once per event and never mutated afterwards (operators may
 * keep them in state), so a generator never reuses them.
 */

export const PERSON = 0;
export const AUCTION = 1;
export const BID = 2;

export class Person {
  readonly kind = PERSON;
  constructor(
    readonly id: number,
    readonly name: string,
    readonly emailAddress: string,
    readonly creditCard: string,
    readonly city: string,
    readonly state: string,
    readonly dateTime: number,
    readonly extra: string,
  ) {}
}

export class Auction {
  readonly kind = AUCTION;
  constructor(
    readonly id: number,
    readonly itemName: string,
    readonly description: string,
    readonly initialBid: number,
    readonly reserve: number,
    readonly dateTime: number,
    readonly expires: number,
    readonly seller: number,
    readonly category: number,
    readonly extra: string,
  ) {}
}

export class Bid {
  readonly kind = BID;
  constructor(
    readonly auction: number,
    readonly bidder: number,
    readonly price: number,
    readonly channel: string,
    readonly url: string,
    readonly dateTime: number,
    readonly extra: string,
  ) {}
}

export type NexmarkEvent = Person | Auction | Bid;

export const isPerson = (e: NexmarkEvent): e is Person => e.kind === PERSON;
export const isAuction = (e: NexmarkEvent): e is Auction => e.kind === AUCTION;
export const isBid = (e: NexmarkEvent): e is Bid => e.kind === BID;
