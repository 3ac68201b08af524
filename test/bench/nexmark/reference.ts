/**
 * The DuckDB reference for the Nexmark queries: loads generated events into tables person,
 * auction and bid (times as BIGINT ms; bid.ptime = the processing time the test ingested the
 * bid at, for q12) and states each query in SQL with the semantics documented in
 * src/connectors/datagen/nexmark/queries (windows [start, end) aligned to the epoch, sessions
 * merge when consecutive bids are ≤ gap apart, joins within [a.dateTime, a.expires]).
 * q13 also needs the table side_input (key BIGINT, value VARCHAR): loadSideInput reads the
 * CSV file the query's input is fed from.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { AUCTION, BID, type NexmarkEvent, PERSON } from '../../../src/connectors/index.js';

export async function loadEvents(
  conn: DuckDBConnection,
  events: readonly NexmarkEvent[],
  ptimes?: readonly number[],
) {
  await conn.run(`CREATE OR REPLACE TABLE person (id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR,
    city VARCHAR, state VARCHAR, dateTime BIGINT, extra VARCHAR)`);
  await conn.run(`CREATE OR REPLACE TABLE auction (id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT,
    reserve BIGINT, dateTime BIGINT, expires BIGINT, seller BIGINT, category BIGINT, extra VARCHAR)`);
  await conn.run(`CREATE OR REPLACE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
    dateTime BIGINT, extra VARCHAR, ptime BIGINT)`);
  const p = await conn.createAppender('person');
  const a = await conn.createAppender('auction');
  const b = await conn.createAppender('bid');
  const big = (n: number) => BigInt(n);
  events.forEach((e, i) => {
    if (e.kind === PERSON) {
      p.appendBigInt(big(e.id));
      p.appendVarchar(e.name);
      p.appendVarchar(e.emailAddress);
      p.appendVarchar(e.creditCard);
      p.appendVarchar(e.city);
      p.appendVarchar(e.state);
      p.appendBigInt(big(e.dateTime));
      p.appendVarchar(e.extra);
      p.endRow();
    } else if (e.kind === AUCTION) {
      a.appendBigInt(big(e.id));
      a.appendVarchar(e.itemName);
      a.appendVarchar(e.description);
      a.appendBigInt(big(e.initialBid));
      a.appendBigInt(big(e.reserve));
      a.appendBigInt(big(e.dateTime));
      a.appendBigInt(big(e.expires));
      a.appendBigInt(big(e.seller));
      a.appendBigInt(big(e.category));
      a.appendVarchar(e.extra);
      a.endRow();
    } else if (e.kind === BID) {
      b.appendBigInt(big(e.auction));
      b.appendBigInt(big(e.bidder));
      b.appendBigInt(big(e.price));
      b.appendVarchar(e.channel);
      b.appendVarchar(e.url);
      b.appendBigInt(big(e.dateTime));
      b.appendVarchar(e.extra);
      b.appendBigInt(big(ptimes?.[i] ?? 0));
      b.endRow();
    }
  });
  for (const ap of [p, a, b]) {
    ap.flushSync();
    ap.closeSync();
  }
}

/** side_input as DuckDB reads the CSV file itself (its own parser, not Sluice's). */
export async function loadSideInput(conn: DuckDBConnection, path: string) {
  await conn.run(`CREATE OR REPLACE TABLE side_input AS SELECT * FROM read_csv('${path.replace(/'/g, "''")}',
    header = false, columns = {'key': 'BIGINT', 'value': 'VARCHAR'})`);
}

const EUR = 'CAST(0.908 AS DOUBLE) * price';
const WIN_JOIN =
  'FROM auction a JOIN bid b ON a.id = b.auction AND b.dateTime BETWEEN a.dateTime AND a.expires';

const R1 = 'price < 10000';
const R2 = 'price >= 10000 AND price < 1000000';
const R3 = 'price >= 1000000';
const DAY_COUNTS = `count(*) AS total_bids, count(*) FILTER (WHERE ${R1}) AS rank1_bids,
  count(*) FILTER (WHERE ${R2}) AS rank2_bids, count(*) FILTER (WHERE ${R3}) AS rank3_bids`;
const DAY_DISTINCT = ['bidder', 'auction']
  .map(
    (c) => `count(DISTINCT ${c}) AS total_${c}s, count(DISTINCT ${c}) FILTER (WHERE ${R1}) AS rank1_${c}s,
  count(DISTINCT ${c}) FILTER (WHERE ${R2}) AS rank2_${c}s, count(DISTINCT ${c}) FILTER (WHERE ${R3}) AS rank3_${c}s`,
  )
  .join(', ');

export const REFERENCE_SQL: Readonly<Record<string, string>> = {
  q0: 'SELECT auction, bidder, price, channel, url, dateTime, extra FROM bid',
  q1: `SELECT auction, bidder, ${EUR} AS price, dateTime, extra FROM bid`,
  q2: 'SELECT auction, price FROM bid WHERE auction % 123 = 0',
  q3: `SELECT p.name, p.city, p.state, a.id FROM auction a JOIN person p ON a.seller = p.id
       WHERE a.category = 10 AND p.state IN ('OR', 'ID', 'CA')`,
  q4: `SELECT category, avg(final) AS avg FROM (
         SELECT a.id, a.category, max(b.price) AS final ${WIN_JOIN} GROUP BY a.id, a.category
       ) GROUP BY category`,
  q5: `WITH w AS (SELECT auction, (dateTime // 2000) * 2000 - k * 2000 AS start FROM bid, range(0, 5) t(k)),
       c AS (SELECT auction, start, count(*) AS num FROM w GROUP BY auction, start),
       m AS (SELECT start, max(num) AS mx FROM c GROUP BY start)
       SELECT c.auction, c.num, c.start, c.start + 10000 AS "end" FROM c JOIN m ON c.start = m.start AND c.num = m.mx`,
  q6: `SELECT seller, avg(final) AS avg FROM (
         SELECT seller, final, row_number() OVER (PARTITION BY seller ORDER BY expires DESC, id DESC) AS rn FROM (
           SELECT a.id, a.seller, a.expires, max(b.price) AS final ${WIN_JOIN} GROUP BY a.id, a.seller, a.expires
         )
       ) WHERE rn <= 10 GROUP BY seller`,
  q7: `WITH w AS (SELECT *, (dateTime // 10000) * 10000 AS ws FROM bid),
       m AS (SELECT ws, max(price) AS mx FROM w GROUP BY ws)
       SELECT auction, price, bidder, dateTime, w.ws + 10000 AS windowEnd FROM w JOIN m ON w.ws = m.ws WHERE price = mx`,
  q8: `WITH p AS (SELECT DISTINCT id, name, (dateTime // 10000) * 10000 AS ws FROM person),
       a AS (SELECT DISTINCT seller, (dateTime // 10000) * 10000 AS ws FROM auction)
       SELECT p.id, p.name, p.ws AS starttime FROM p JOIN a ON p.id = a.seller AND p.ws = a.ws`,
  q9: `SELECT id, seller, category, expires, auction, bidder, price, bidDateTime FROM (
         SELECT a.id, a.seller, a.category, a.expires, b.auction, b.bidder, b.price, b.dateTime AS bidDateTime,
           row_number() OVER (PARTITION BY a.id ORDER BY b.price DESC, b.dateTime ASC) AS rn ${WIN_JOIN}
       ) WHERE rn = 1`,
  q10: `SELECT auction, bidder, price, dateTime, extra, strftime(epoch_ms(dateTime), '%Y-%m-%d') AS dt,
          strftime(epoch_ms(dateTime), '%H:%M') AS hm FROM bid`,
  q11: `WITH o AS (SELECT bidder, dateTime,
           CASE WHEN dateTime - lag(dateTime) OVER (PARTITION BY bidder ORDER BY dateTime) <= 10000 THEN 0 ELSE 1 END AS brk
         FROM bid),
       s AS (SELECT bidder, dateTime,
           sum(brk) OVER (PARTITION BY bidder ORDER BY dateTime ROWS UNBOUNDED PRECEDING) AS sid FROM o)
       SELECT bidder, count(*) AS bidCount, min(dateTime) AS starttime, max(dateTime) + 10000 AS endtime
       FROM s GROUP BY bidder, sid`,
  q12: `SELECT bidder, count(*) AS bidCount, (ptime // 10000) * 10000 AS starttime, (ptime // 10000) * 10000 + 10000 AS endtime
        FROM bid GROUP BY bidder, ptime // 10000`,
  q13: `SELECT b.auction, b.bidder, b.price, b.dateTime, s.value FROM bid b JOIN side_input s ON b.auction % 10000 = s.key`,
  q14: `SELECT auction, bidder, ${EUR} AS price,
          CASE WHEN hour(epoch_ms(dateTime)) BETWEEN 8 AND 18 THEN 'dayTime'
               WHEN hour(epoch_ms(dateTime)) <= 6 OR hour(epoch_ms(dateTime)) >= 20 THEN 'nightTime'
               ELSE 'otherTime' END AS bidTimeType,
          dateTime, extra, length(extra) - length(replace(extra, 'c', '')) AS cCounts
        FROM bid WHERE ${EUR} > 1000000 AND ${EUR} < 50000000`,
  q15: `SELECT strftime(epoch_ms(dateTime), '%Y-%m-%d') AS day, ${DAY_COUNTS}, ${DAY_DISTINCT}
        FROM bid GROUP BY day`,
  q16: `SELECT channel, strftime(epoch_ms(dateTime), '%Y-%m-%d') AS day, max(strftime(epoch_ms(dateTime), '%H:%M')) AS minute,
          ${DAY_COUNTS}, ${DAY_DISTINCT}
        FROM bid GROUP BY channel, day`,
  q17: `SELECT auction, strftime(epoch_ms(dateTime), '%Y-%m-%d') AS day, ${DAY_COUNTS},
          min(price) AS min_price, max(price) AS max_price, avg(price) AS avg_price, sum(price) AS sum_price
        FROM bid GROUP BY auction, day`,
  q18: `SELECT auction, bidder, price, channel, url, dateTime, extra FROM (
          SELECT *, row_number() OVER (PARTITION BY bidder, auction ORDER BY dateTime DESC) AS rn FROM bid
        ) WHERE rn = 1`,
  q19: `SELECT auction, bidder, price, dateTime, rn FROM (
          SELECT *, row_number() OVER (PARTITION BY auction ORDER BY price DESC, dateTime ASC) AS rn FROM bid
        ) WHERE rn <= 10`,
  q20: `SELECT b.auction, b.bidder, b.price, b.channel, b.url, b.dateTime AS bidDateTime, b.extra AS bidExtra,
          a.itemName, a.description, a.initialBid, a.reserve, a.dateTime AS auctionDateTime, a.expires, a.seller,
          a.category, a.extra AS auctionExtra
        FROM bid b JOIN auction a ON b.auction = a.id WHERE a.category = 10`,
  q21: `SELECT * FROM (SELECT auction, bidder, price, channel,
          CASE lower(channel) WHEN 'apple' THEN '0' WHEN 'google' THEN '1' WHEN 'facebook' THEN '2' WHEN 'baidu' THEN '3'
            ELSE CASE WHEN regexp_matches(url, '(&|^|\\?)channel_id=')
                      THEN regexp_extract(url, '(&|^|\\?)channel_id=([^&]*)', 2) END END AS channelId
        FROM bid) WHERE channelId IS NOT NULL`,
  q22: `SELECT auction, bidder, price, channel, split_part(url, '/', 4) AS dir1, split_part(url, '/', 5) AS dir2,
          split_part(url, '/', 6) AS dir3 FROM bid`,
};
