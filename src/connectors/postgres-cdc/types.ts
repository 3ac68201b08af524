/**
 * Postgres column types → Debezium's Kafka Connect schemas and values, as Debezium's
 * Postgres connector maps them with its defaults (decimal.handling.mode=precise,
 * time.precision.mode=adaptive, binary.handling.mode=bytes, interval.handling.mode=numeric).
 *
 * Input is always Postgres's text output format (snapshot and replication connections
 * run with TimeZone=UTC, DateStyle=ISO, IntervalStyle=iso_8601, extra_float_digits=3),
 * so the snapshot and the stream share one conversion path and agree exactly.
 * Values: int8/MicroTimestamp/MicroTime/MicroDuration are bigint (exact past 2^53);
 * bytes are Buffer (base64 in JSON, as Kafka Connect's JsonConverter writes them).
 * Unchanged TOAST values (pgoutput 'u') become Debezium's placeholder
 * `__debezium_unavailable_value` (as text, as its UTF-8 bytes, or a one-element list).
 */

export const UNAVAILABLE_VALUE = '__debezium_unavailable_value';

/** A Kafka Connect schema, as Debezium's JsonConverter prints it (`field` only inside structs). */
export interface ConnectSchema {
  type:
    | 'int8'
    | 'int16'
    | 'int32'
    | 'int64'
    | 'float32'
    | 'float64'
    | 'boolean'
    | 'string'
    | 'bytes'
    | 'array'
    | 'struct';
  optional: boolean;
  name?: string;
  version?: number;
  parameters?: Record<string, string>;
  items?: ConnectSchema;
  fields?: ConnectField[];
  default?: unknown;
}
export type ConnectField = ConnectSchema & { field: string };

export type DecimalMode = 'precise' | 'string' | 'double';

/** What the type catalog knows of one type OID. */
export interface PgTypeInfo {
  oid: number;
  name: string;
  /** pg_type.typtype: b base, e enum, d domain, c composite, r range, p pseudo. */
  kind: string;
  /** Element type for arrays (0 otherwise). */
  elem: number;
  /** Base type for domains (0 otherwise). */
  base: number;
  enumLabels?: string[];
}

export type TypeLookup = (oid: number) => PgTypeInfo | undefined;

export interface ColumnConverter {
  schema: ConnectSchema;
  /** Text value (non-null) → Debezium value. */
  convert: (text: string) => unknown;
  /** The value standing for an unchanged TOAST datum. */
  unavailable: unknown;
}

const DAYS_PER_MONTH_AVG = 365.25 / 12;
const MICROS_PER_DAY = 86_400_000_000n;

function numericPrecisionScale(typmod: number): { precision: number; scale: number } | undefined {
  if (typmod < 4) return undefined;
  const t = typmod - 4;
  return { precision: (t >> 16) & 0xffff, scale: t & 0xffff };
}

function timePrecision(typmod: number): number {
  return typmod < 0 ? 6 : typmod;
}

/** Unscaled integer of a decimal text at `scale` (rounded half up past it). */
export function unscaled(text: string, scale: number): bigint {
  let s = text.trim();
  let neg = false;
  if (s.startsWith('-')) {
    neg = true;
    s = s.slice(1);
  } else if (s.startsWith('+')) s = s.slice(1);
  let exp = 0;
  const e = s.search(/[eE]/);
  if (e >= 0) {
    exp = Number(s.slice(e + 1));
    s = s.slice(0, e);
  }
  const dot = s.indexOf('.');
  let digits = dot < 0 ? s : s.slice(0, dot) + s.slice(dot + 1);
  let fracLen = (dot < 0 ? 0 : s.length - dot - 1) - exp;
  if (fracLen < scale) {
    digits += '0'.repeat(scale - fracLen);
    fracLen = scale;
  }
  let v = BigInt(digits === '' ? '0' : digits);
  if (fracLen > scale) {
    const div = 10n ** BigInt(fracLen - scale);
    const q = v / div;
    v = (v % div) * 2n >= div ? q + 1n : q;
  }
  return neg ? -v : v;
}

/** Big-endian two's complement, minimal length (java.math.BigInteger.toByteArray). */
export function bigintToBytes(v: bigint): Buffer {
  const out: number[] = [];
  let x = v;
  for (;;) {
    const byte = Number(x & 0xffn);
    out.push(byte);
    x >>= 8n;
    if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) break;
  }
  return Buffer.from(out.reverse());
}

/** `bigintToBytes` for a safe integer, without BigInt arithmetic (the common case). */
export function safeIntToBytes(v: number): Buffer {
  // the fewest bytes n with -2^(8n-1) <= v < 2^(8n-1), then big-endian two's complement
  let n = 1;
  for (let x = v; x >= 128 || x < -128; x = Math.floor(x / 256)) n++;
  const out = Buffer.allocUnsafe(n);
  let y = v;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = ((y % 256) + 256) % 256;
    y = Math.floor(y / 256);
  }
  return out;
}

const PLAIN_DECIMAL = /^(-?)(\d*)(?:\.(\d*))?$/;

/** Decimal text → Kafka Connect Decimal bytes at `scale`. */
export function decimalBytes(text: string, scale: number): Buffer {
  if (text.length <= 15) {
    // Snapshot hot path: digits scanned by hand (no regex, no string building); any text
    // it does not take (no digit, a second '.', more fraction digits than the scale) goes
    // the general way below.
    let i = text.charCodeAt(0) === 45 /* - */ ? 1 : 0;
    const neg = i === 1;
    let v = 0;
    let frac = -1;
    let digits = 0;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 46 /* . */ && frac < 0) frac = 0;
      else if (c >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        digits++;
        if (frac >= 0) frac++;
      } else break;
    }
    const f = frac < 0 ? 0 : frac;
    if (i === text.length && digits > 0 && f <= scale) {
      v *= 10 ** (scale - f);
      if (Number.isSafeInteger(v)) return safeIntToBytes(neg && v !== 0 ? -v : v);
    }
    const m = PLAIN_DECIMAL.exec(text);
    const fr = m?.[3] ?? '';
    if (m !== null && fr.length <= scale) {
      const w = Number(`${m[1]}${m[2]}${fr}${'0'.repeat(scale - fr.length)}`);
      if (Number.isSafeInteger(w)) return safeIntToBytes(w === 0 ? 0 : w);
    }
  }
  return bigintToBytes(unscaled(text, scale));
}

export function bytesToBigint(b: Buffer): bigint {
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  if (b.length > 0 && (b[0] & 0x80) !== 0) v -= 1n << BigInt(b.length * 8);
  return v;
}

function scaleOf(text: string): number {
  const s = text.replace(/^[+-]/, '');
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

const DATE_RE = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/;
export function dateToDays(text: string): number {
  const m = DATE_RE.exec(text);
  if (m === null)
    return text === 'infinity' ? 2_147_483_647 : text === '-infinity' ? -2_147_483_648 : Number.NaN;
  let y = Number(m[1]);
  if (m[4] !== undefined) y = 1 - y;
  const d = new Date(0);
  d.setUTCFullYear(y, Number(m[2]) - 1, Number(m[3]));
  return Math.floor(d.getTime() / 86_400_000);
}

function fractionMicros(frac: string | undefined): bigint {
  if (frac === undefined || frac === '') return 0n;
  return BigInt(frac.slice(0, 6).padEnd(6, '0'));
}

const TS_RE =
  /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?( BC)?$/;

/** Microseconds since the epoch (UTC; the zone offset applied when present). */
export function timestampToMicros(text: string): bigint {
  const m = TS_RE.exec(text);
  if (m === null) {
    if (text === 'infinity') return 9223372036825200000n;
    if (text === '-infinity') return -9223372036832400000n;
    throw new Error(`unexpected timestamp text '${text}'`);
  }
  let y = Number(m[1]);
  if (m[12] !== undefined) y = 1 - y;
  const d = new Date(0);
  d.setUTCFullYear(y, Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), 0);
  let micros = BigInt(d.getTime()) * 1000n + fractionMicros(m[7]);
  if (m[8] !== undefined) {
    const off = (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * 1_000_000;
    micros -= BigInt(m[8] === '-' ? -off : off);
  }
  return micros;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function fractionText(micros: number): string {
  if (micros === 0) return '';
  return `.${String(micros).padStart(6, '0').replace(/0+$/, '')}`;
}

/** ISO-8601 in UTC with 'Z', fraction without trailing zeros (Debezium's ZonedTimestamp). */
const UTC_TS_RE = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d*[1-9])?0*\+00$/;

export function zonedTimestamp(text: string): string {
  if (text === 'infinity' || text === '-infinity') return text;
  // Sessions run with TimeZone=UTC, so the common text is already UTC: reshape it.
  const fast = UTC_TS_RE.exec(text);
  if (fast !== null) return `${fast[1]}T${fast[2]}${fast[3] ?? ''}Z`;
  const micros = timestampToMicros(text);
  const ms = Number(micros / 1000n - (micros % 1000n < 0n ? 1n : 0n));
  const sub = Number(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n);
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const year = y >= 0 && y <= 9999 ? pad(y, 4) : y < 0 ? `-${pad(-y, 6)}` : `+${y}`;
  return `${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${fractionText(sub)}Z`;
}

const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?$/;
export function timeToMicros(text: string): { micros: bigint; offsetSeconds: number | undefined } {
  const m = TIME_RE.exec(text);
  if (m === null) throw new Error(`unexpected time text '${text}'`);
  const micros =
    BigInt((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1_000_000) + fractionMicros(m[4]);
  const offsetSeconds =
    m[5] === undefined
      ? undefined
      : (m[5] === '-' ? -1 : 1) * (Number(m[6]) * 3600 + Number(m[7] ?? 0) * 60 + Number(m[8] ?? 0));
  return { micros, offsetSeconds };
}

function zonedTime(text: string): string {
  const { micros, offsetSeconds } = timeToMicros(text);
  let utc = micros - BigInt((offsetSeconds ?? 0) * 1_000_000);
  utc = ((utc % MICROS_PER_DAY) + MICROS_PER_DAY) % MICROS_PER_DAY;
  const total = Number(utc);
  const secs = Math.floor(total / 1_000_000);
  return `${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}${fractionText(total % 1_000_000)}Z`;
}

const ISO_INTERVAL_RE =
  /^(-)?P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)W)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$/;
/** io.debezium.time.MicroDuration: months count as 365.25/12 days, as Debezium computes it. */
export function intervalToMicros(text: string): bigint {
  const m = ISO_INTERVAL_RE.exec(text);
  if (m === null) throw new Error(`unexpected interval text '${text}' (IntervalStyle must be iso_8601)`);
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  const days = n(m[2]) * 365.25 + n(m[3]) * DAYS_PER_MONTH_AVG + n(m[4]) * 7 + n(m[5]);
  const secText = m[8] ?? '0';
  const secMicros = unscaled(secText, 6);
  const micros =
    BigInt(Math.round(days * 86_400_000_000)) +
    BigInt((n(m[6]) * 3600 + n(m[7]) * 60) * 1_000_000) +
    secMicros;
  return m[1] === '-' ? -micros : micros;
}

function hexToBytes(text: string): Buffer {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  // escape format (bytea_output=escape): octal escapes
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      if (text[i + 1] === '\\') {
        out.push(0x5c);
        i++;
      } else {
        out.push(Number.parseInt(text.slice(i + 1, i + 4), 8));
        i += 3;
      }
    } else out.push(text.charCodeAt(i));
  }
  return Buffer.from(out);
}

/** A one-dimensional Postgres array literal → element texts (null for NULL). */
export function parseArrayText(text: string): (string | null)[] {
  let s = text;
  if (s.startsWith('[')) s = s.slice(s.indexOf('=') + 1); // explicit bounds "[0:2]={...}"
  if (!s.startsWith('{') || !s.endsWith('}')) throw new Error(`unexpected array text '${text}'`);
  const out: (string | null)[] = [];
  let i = 1;
  const end = s.length - 1;
  if (end === 1) return out;
  while (i <= end) {
    if (s[i] === '{') throw new Error('multi-dimensional arrays are not supported');
    if (s[i] === '"') {
      let v = '';
      i++;
      while (s[i] !== '"') {
        if (s[i] === '\\') i++;
        v += s[i];
        i++;
      }
      i++;
      out.push(v);
    } else {
      let j = i;
      while (j < end && s[j] !== ',') j++;
      const raw = s.slice(i, j);
      out.push(raw === 'NULL' ? null : raw);
      i = j;
    }
    i++; // the comma or the closing brace
  }
  return out;
}

function nameOf(info: PgTypeInfo | undefined, oid: number): string {
  return info?.name ?? `oid${oid}`;
}

/** The converter of one column type (oid + typmod). */
export function converterFor(
  oid: number,
  typmod: number,
  lookup: TypeLookup,
  opts: { decimalMode: DecimalMode; optional: boolean },
): ColumnConverter {
  const info = lookup(oid);
  const optional = opts.optional;
  const str = (name?: string, parameters?: Record<string, string>): ColumnConverter => ({
    schema: {
      type: 'string',
      optional,
      ...(name === undefined ? {} : { name, version: 1 }),
      ...(parameters === undefined ? {} : { parameters }),
    },
    convert: (t) => t,
    unavailable: UNAVAILABLE_VALUE,
  });
  if (info?.kind === 'd' && info.base !== 0) return converterFor(info.base, typmod, lookup, opts);
  if (info?.kind === 'e') {
    const c = str('io.debezium.data.Enum', { allowed: (info.enumLabels ?? []).join(',') });
    return c;
  }
  if (info !== undefined && info.elem !== 0 && info.name.startsWith('_')) {
    const el = converterFor(info.elem, typmod, lookup, { ...opts, optional: true });
    return {
      schema: { type: 'array', optional, items: el.schema },
      convert: (t) => parseArrayText(t).map((x) => (x === null ? null : el.convert(x))),
      unavailable: [el.unavailable],
    };
  }
  const n = nameOf(info, oid);
  switch (n) {
    case 'bool':
      return { schema: { type: 'boolean', optional }, convert: (t) => t === 't', unavailable: false };
    case 'int2':
      return { schema: { type: 'int16', optional }, convert: Number, unavailable: 0 };
    case 'int4':
    case 'oid':
      return { schema: { type: n === 'oid' ? 'int64' : 'int32', optional }, convert: Number, unavailable: 0 };
    case 'int8':
      return { schema: { type: 'int64', optional }, convert: (t) => BigInt(t), unavailable: 0n };
    case 'float4':
      return { schema: { type: 'float32', optional }, convert: Number, unavailable: 0 };
    case 'float8':
      return { schema: { type: 'float64', optional }, convert: Number, unavailable: 0 };
    case 'numeric': {
      if (opts.decimalMode === 'string') return str();
      if (opts.decimalMode === 'double')
        return { schema: { type: 'float64', optional }, convert: Number, unavailable: 0 };
      const ps = numericPrecisionScale(typmod);
      if (ps === undefined) {
        return {
          schema: {
            type: 'struct',
            optional,
            name: 'io.debezium.data.VariableScaleDecimal',
            version: 1,
            fields: [
              { field: 'scale', type: 'int32', optional: false },
              { field: 'value', type: 'bytes', optional: false },
            ],
          },
          convert: (t) => {
            if (t === 'NaN' || t.includes('Infinity')) return null;
            const scale = scaleOf(t);
            return { scale, value: bigintToBytes(unscaled(t, scale)) };
          },
          unavailable: null,
        };
      }
      return {
        schema: {
          type: 'bytes',
          optional,
          name: 'org.apache.kafka.connect.data.Decimal',
          version: 1,
          parameters: { scale: String(ps.scale), 'connect.decimal.precision': String(ps.precision) },
        },
        convert: (t) => (t === 'NaN' ? null : decimalBytes(t, ps.scale)),
        unavailable: null,
      };
    }
    case 'date':
      return {
        schema: { type: 'int32', optional, name: 'io.debezium.time.Date', version: 1 },
        convert: dateToDays,
        unavailable: 0,
      };
    case 'timestamp': {
      if (timePrecision(typmod) <= 3)
        return {
          schema: { type: 'int64', optional, name: 'io.debezium.time.Timestamp', version: 1 },
          convert: (t) => timestampToMicros(t) / 1000n,
          unavailable: 0n,
        };
      return {
        schema: { type: 'int64', optional, name: 'io.debezium.time.MicroTimestamp', version: 1 },
        convert: timestampToMicros,
        unavailable: 0n,
      };
    }
    case 'timestamptz':
      return { ...str('io.debezium.time.ZonedTimestamp'), convert: zonedTimestamp };
    case 'time': {
      if (timePrecision(typmod) <= 3)
        return {
          schema: { type: 'int32', optional, name: 'io.debezium.time.Time', version: 1 },
          convert: (t) => Number(timeToMicros(t).micros / 1000n),
          unavailable: 0,
        };
      return {
        schema: { type: 'int64', optional, name: 'io.debezium.time.MicroTime', version: 1 },
        convert: (t) => timeToMicros(t).micros,
        unavailable: 0n,
      };
    }
    case 'timetz':
      return { ...str('io.debezium.time.ZonedTime'), convert: zonedTime };
    case 'interval':
      return {
        schema: { type: 'int64', optional, name: 'io.debezium.time.MicroDuration', version: 1 },
        convert: intervalToMicros,
        unavailable: 0n,
      };
    case 'uuid':
      return str('io.debezium.data.Uuid');
    case 'json':
    case 'jsonb':
      return str('io.debezium.data.Json');
    case 'xml':
      return str('io.debezium.data.Xml');
    case 'bytea':
      return {
        schema: { type: 'bytes', optional },
        convert: hexToBytes,
        unavailable: Buffer.from(UNAVAILABLE_VALUE, 'utf8'),
      };
    default:
      // text, varchar, bpchar, name, inet, cidr, macaddr, money, ranges, anything else: text
      return str();
  }
}
