/**
 * Log sequence numbers: Postgres prints them as "X/Y" (two 32-bit hex halves); Debezium's
 * `source.lsn` is the same 64-bit position as a decimal number. Held as bigint here so
 * comparisons are exact; converted to a JS number only for the envelope (WAL positions
 * stay below 2^53 for any realistic database lifetime: 9 PB of WAL).
 */

export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (m === null) throw new Error(`not an LSN: ${text}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function lsnToNumber(lsn: bigint): number {
  return Number(lsn);
}
