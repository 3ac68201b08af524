/**
 * fast-check arbitraries derived from Sluice's message definitions: a body of a message at a
 * version holds exactly the fields that version has (tagged ones included), with values of
 * the declared types and nulls only where the version allows them. `withDefaults` fills the
 * fields a version lacks, which is what a decoder must return for them.
 */
import fc from 'fast-check';
import { type Field, inRange, type MessageDef } from '../../../src/protocol/index.js';

const buf = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

function scalar(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 65535 });
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'int64':
      return fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -2, max: 2 }));
    case 'float64':
      return fc.double();
    case 'bool':
      return fc.boolean();
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 8 });
    case 'bytes':
    case 'records':
      return buf(24);
    case 'uuid':
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a));
    default:
      throw new Error(`no arbitrary for ${type}`);
  }
}

function fieldArb(field: Field, version: number, depth: number): fc.Arbitrary<unknown> {
  let a: fc.Arbitrary<unknown>;
  const maxLength = depth > 2 ? 1 : 3;
  if (field.type === 'struct') a = structArb(field.fields ?? [], version, depth + 1);
  else if (field.type === '[]struct')
    a = fc.array(structArb(field.fields ?? [], version, depth + 1), { maxLength });
  else if (field.type.startsWith('[]')) a = fc.array(scalar(field.type.slice(2)), { maxLength: 4 });
  else a = scalar(field.type);
  return inRange(field.nullable, version) ? fc.option(a, { nil: null, freq: 4 }) : a;
}

export function structArb(
  fields: readonly Field[],
  version: number,
  depth = 0,
): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) if (inRange(f.versions, version)) model[f.name] = fieldArb(f, version, depth);
  return fc.record(model);
}

export function bodyArb(def: MessageDef, version: number): fc.Arbitrary<Record<string, unknown>> {
  return structArb(def.fields, version);
}

/** The body a decoder returns for `body`: fields the version lacks take their defaults. */
export { withDefaults } from '../../../src/protocol/index.js';
