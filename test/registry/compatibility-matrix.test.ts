/**
 * Compatibility matrix: real schema evolutions per format and per level, each with the
 * verdict Confluent Schema Registry gives (Avro: Avro's schema-resolution rules as in
 * Avro's SchemaCompatibility; JSON Schema and Protobuf: Confluent's diff rules and their
 * COMPATIBLE_CHANGES sets). Every case registers its history with NONE, switches the
 * subject to the level, then asks the check endpoint's logic AND tries to register, so
 * the verdict and the 409 path must agree; incompatible verdicts must name the rule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CompatibilityLevel,
  isSluiceErrorWithRegistryCode,
  MemoryStorage,
  SchemaRegistry,
  type SchemaType,
} from './helpers.js';

interface Case {
  name: string;
  level: CompatibilityLevel;
  history: unknown[];
  candidate: unknown;
  compatible: boolean;
  rule?: string;
}

const rec = (fields: unknown[], extra: Record<string, unknown> = {}) => ({
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  ...extra,
  fields,
});
const id = { name: 'id', type: 'string' };
const enumOf = (symbols: string[], extra: Record<string, unknown> = {}) => ({
  name: 'status',
  type: { type: 'enum', name: 'Status', symbols, ...extra },
});

const AVRO: Case[] = [
  {
    name: 'add field with default',
    level: 'BACKWARD',
    history: [rec([id])],
    candidate: rec([id, { name: 'qty', type: 'int', default: 1 }]),
    compatible: true,
  },
  {
    name: 'add field without default',
    level: 'BACKWARD',
    history: [rec([id])],
    candidate: rec([id, { name: 'qty', type: 'int' }]),
    compatible: false,
    rule: 'READER_FIELD_MISSING_DEFAULT_VALUE',
  },
  {
    name: 'add field without default (forward)',
    level: 'FORWARD',
    history: [rec([id])],
    candidate: rec([id, { name: 'qty', type: 'int' }]),
    compatible: true,
  },
  {
    name: 'remove field',
    level: 'BACKWARD',
    history: [rec([id, { name: 'qty', type: 'int' }])],
    candidate: rec([id]),
    compatible: true,
  },
  {
    name: 'remove field without default (forward)',
    level: 'FORWARD',
    history: [rec([id, { name: 'qty', type: 'int' }])],
    candidate: rec([id]),
    compatible: false,
    rule: 'READER_FIELD_MISSING_DEFAULT_VALUE',
  },
  {
    name: 'remove field with default (forward)',
    level: 'FORWARD',
    history: [rec([id, { name: 'qty', type: 'int', default: 0 }])],
    candidate: rec([id]),
    compatible: true,
  },
  {
    name: 'add field with default (full)',
    level: 'FULL',
    history: [rec([id])],
    candidate: rec([id, { name: 'qty', type: 'int', default: 1 }]),
    compatible: true,
  },
  {
    name: 'add field without default (full)',
    level: 'FULL',
    history: [rec([id])],
    candidate: rec([id, { name: 'qty', type: 'int' }]),
    compatible: false,
    rule: 'READER_FIELD_MISSING_DEFAULT_VALUE',
  },
  {
    name: 'remove field with default (full)',
    level: 'FULL',
    history: [rec([id, { name: 'qty', type: 'int', default: 0 }])],
    candidate: rec([id]),
    compatible: true,
  },
  {
    name: 'rename field without alias',
    level: 'BACKWARD',
    history: [rec([id, { name: 'qty', type: 'int' }])],
    candidate: rec([id, { name: 'quantity', type: 'int' }]),
    compatible: false,
    rule: 'READER_FIELD_MISSING_DEFAULT_VALUE',
  },
  {
    name: 'rename field with alias',
    level: 'BACKWARD',
    history: [rec([id, { name: 'qty', type: 'int' }])],
    candidate: rec([id, { name: 'quantity', type: 'int', aliases: ['qty'] }]),
    compatible: true,
  },
  {
    name: 'widen int → long',
    level: 'BACKWARD',
    history: [rec([id, { name: 'n', type: 'int' }])],
    candidate: rec([id, { name: 'n', type: 'long' }]),
    compatible: true,
  },
  {
    name: 'narrow long → int',
    level: 'BACKWARD',
    history: [rec([id, { name: 'n', type: 'long' }])],
    candidate: rec([id, { name: 'n', type: 'int' }]),
    compatible: false,
    rule: 'TYPE_MISMATCH',
  },
  {
    name: 'widen int → long (forward)',
    level: 'FORWARD',
    history: [rec([id, { name: 'n', type: 'int' }])],
    candidate: rec([id, { name: 'n', type: 'long' }]),
    compatible: false,
    rule: 'TYPE_MISMATCH',
  },
  {
    name: 'widen int → long (full)',
    level: 'FULL',
    history: [rec([id, { name: 'n', type: 'int' }])],
    candidate: rec([id, { name: 'n', type: 'long' }]),
    compatible: false,
    rule: 'TYPE_MISMATCH',
  },
  {
    name: 'widen float → double',
    level: 'BACKWARD',
    history: [rec([id, { name: 'n', type: 'float' }])],
    candidate: rec([id, { name: 'n', type: 'double' }]),
    compatible: true,
  },
  {
    name: 'widen int → double',
    level: 'BACKWARD',
    history: [rec([id, { name: 'n', type: 'int' }])],
    candidate: rec([id, { name: 'n', type: 'double' }]),
    compatible: true,
  },
  {
    name: 'widen long → float',
    level: 'BACKWARD',
    history: [rec([id, { name: 'n', type: 'long' }])],
    candidate: rec([id, { name: 'n', type: 'float' }]),
    compatible: true,
  },
  {
    name: 'narrow double → float',
    level: 'BACKWARD',
    history: [rec([id, { name: 'n', type: 'double' }])],
    candidate: rec([id, { name: 'n', type: 'float' }]),
    compatible: false,
    rule: 'TYPE_MISMATCH',
  },
  {
    name: 'string → bytes',
    level: 'BACKWARD',
    history: [rec([id, { name: 'b', type: 'string' }])],
    candidate: rec([id, { name: 'b', type: 'bytes' }]),
    compatible: true,
  },
  {
    name: 'bytes → string',
    level: 'BACKWARD',
    history: [rec([id, { name: 'b', type: 'bytes' }])],
    candidate: rec([id, { name: 'b', type: 'string' }]),
    compatible: true,
  },
  {
    name: 'string → int',
    level: 'BACKWARD',
    history: [rec([id, { name: 'b', type: 'string' }])],
    candidate: rec([id, { name: 'b', type: 'int' }]),
    compatible: false,
    rule: 'TYPE_MISMATCH',
  },
  {
    name: 'add enum symbol',
    level: 'BACKWARD',
    history: [rec([id, enumOf(['NEW', 'PAID'])])],
    candidate: rec([id, enumOf(['NEW', 'PAID', 'SHIPPED'])]),
    compatible: true,
  },
  {
    name: 'add enum symbol (forward)',
    level: 'FORWARD',
    history: [rec([id, enumOf(['NEW', 'PAID'])])],
    candidate: rec([id, enumOf(['NEW', 'PAID', 'SHIPPED'])]),
    compatible: false,
    rule: 'MISSING_ENUM_SYMBOLS',
  },
  {
    name: 'add enum symbol, old enum has a default (forward)',
    level: 'FORWARD',
    history: [rec([id, enumOf(['NEW', 'PAID'], { default: 'NEW' })])],
    candidate: rec([id, enumOf(['NEW', 'PAID', 'SHIPPED'], { default: 'NEW' })]),
    compatible: true,
  },
  {
    name: 'remove enum symbol',
    level: 'BACKWARD',
    history: [rec([id, enumOf(['NEW', 'PAID', 'VOID'])])],
    candidate: rec([id, enumOf(['NEW', 'PAID'])]),
    compatible: false,
    rule: 'MISSING_ENUM_SYMBOLS',
  },
  {
    name: 'remove enum symbol, new enum has a default',
    level: 'BACKWARD',
    history: [rec([id, enumOf(['NEW', 'PAID', 'VOID'])])],
    candidate: rec([id, enumOf(['NEW', 'PAID'], { default: 'NEW' })]),
    compatible: true,
  },
  {
    name: 'make field nullable (union)',
    level: 'BACKWARD',
    history: [rec([id, { name: 'note', type: 'string' }])],
    candidate: rec([id, { name: 'note', type: ['null', 'string'], default: null }]),
    compatible: true,
  },
  {
    name: 'make field nullable (union, forward)',
    level: 'FORWARD',
    history: [rec([id, { name: 'note', type: 'string' }])],
    candidate: rec([id, { name: 'note', type: ['null', 'string'], default: null }]),
    compatible: false,
    rule: 'TYPE_MISMATCH',
  },
  {
    name: 'union → its string branch',
    level: 'BACKWARD',
    history: [rec([id, { name: 'note', type: ['null', 'string'] }])],
    candidate: rec([id, { name: 'note', type: 'string' }]),
    compatible: false,
    rule: 'TYPE_MISMATCH',
  },
  {
    name: 'add union branch',
    level: 'BACKWARD',
    history: [rec([id, { name: 'v', type: ['null', 'string'] }])],
    candidate: rec([id, { name: 'v', type: ['null', 'string', 'int'] }]),
    compatible: true,
  },
  {
    name: 'remove union branch',
    level: 'BACKWARD',
    history: [rec([id, { name: 'v', type: ['null', 'string', 'int'] }])],
    candidate: rec([id, { name: 'v', type: ['null', 'string'] }]),
    compatible: false,
    rule: 'MISSING_UNION_BRANCH',
  },
  {
    name: 'rename record without alias',
    level: 'BACKWARD',
    history: [rec([id])],
    candidate: rec([id], { name: 'Purchase' }),
    compatible: false,
    rule: 'NAME_MISMATCH',
  },
  {
    name: 'rename record with alias',
    level: 'BACKWARD',
    history: [rec([id])],
    candidate: rec([id], { name: 'Purchase', aliases: ['Order'] }),
    compatible: true,
  },
  {
    name: 'nested record gains a field without default',
    level: 'BACKWARD',
    history: [
      rec([
        id,
        { name: 'addr', type: { type: 'record', name: 'Addr', fields: [{ name: 'city', type: 'string' }] } },
      ]),
    ],
    candidate: rec([
      id,
      {
        name: 'addr',
        type: {
          type: 'record',
          name: 'Addr',
          fields: [
            { name: 'city', type: 'string' },
            { name: 'zip', type: 'string' },
          ],
        },
      },
    ]),
    compatible: false,
    rule: 'READER_FIELD_MISSING_DEFAULT_VALUE',
  },
  {
    name: 'array items int → long',
    level: 'BACKWARD',
    history: [rec([id, { name: 'xs', type: { type: 'array', items: 'int' } }])],
    candidate: rec([id, { name: 'xs', type: { type: 'array', items: 'long' } }]),
    compatible: true,
  },
  {
    name: 'map values long → int',
    level: 'BACKWARD',
    history: [rec([id, { name: 'm', type: { type: 'map', values: 'long' } }])],
    candidate: rec([id, { name: 'm', type: { type: 'map', values: 'int' } }]),
    compatible: false,
    rule: 'TYPE_MISMATCH',
  },
  {
    name: 'fixed size change',
    level: 'BACKWARD',
    history: [rec([id, { name: 'h', type: { type: 'fixed', name: 'Hash', size: 16 } }])],
    candidate: rec([id, { name: 'h', type: { type: 'fixed', name: 'Hash', size: 32 } }]),
    compatible: false,
    rule: 'FIXED_SIZE_MISMATCH',
  },
  // v1 has a:int, v2 drops it, v3 brings a back as a string: fine against v2 only.
  {
    name: 're-added field of another type (backward, latest only)',
    level: 'BACKWARD',
    history: [rec([id, { name: 'a', type: 'int' }]), rec([id])],
    candidate: rec([id, { name: 'a', type: 'string', default: '' }]),
    compatible: true,
  },
  {
    name: 're-added field of another type (backward transitive)',
    level: 'BACKWARD_TRANSITIVE',
    history: [rec([id, { name: 'a', type: 'int' }]), rec([id])],
    candidate: rec([id, { name: 'a', type: 'string', default: '' }]),
    compatible: false,
    rule: 'TYPE_MISMATCH',
  },
  {
    name: 're-added field of another type (full)',
    level: 'FULL',
    history: [rec([id, { name: 'a', type: 'int' }]), rec([id])],
    candidate: rec([id, { name: 'a', type: 'string', default: '' }]),
    compatible: true,
  },
  {
    name: 're-added field of another type (full transitive)',
    level: 'FULL_TRANSITIVE',
    history: [rec([id, { name: 'a', type: 'int' }]), rec([id])],
    candidate: rec([id, { name: 'a', type: 'string', default: '' }]),
    compatible: false,
    rule: 'TYPE_MISMATCH',
  },
  // v1 x has no default, v2 gives it one, v3 removes it: old readers of v1 cannot fill x.
  {
    name: 'remove field defaulted only later (forward, latest only)',
    level: 'FORWARD',
    history: [
      rec([id, { name: 'x', type: 'string' }]),
      rec([id, { name: 'x', type: 'string', default: '' }]),
    ],
    candidate: rec([id]),
    compatible: true,
  },
  {
    name: 'remove field defaulted only later (forward transitive)',
    level: 'FORWARD_TRANSITIVE',
    history: [
      rec([id, { name: 'x', type: 'string' }]),
      rec([id, { name: 'x', type: 'string', default: '' }]),
    ],
    candidate: rec([id]),
    compatible: false,
    rule: 'READER_FIELD_MISSING_DEFAULT_VALUE',
  },
  {
    name: 'any change under NONE',
    level: 'NONE',
    history: [rec([id, { name: 'b', type: 'string' }])],
    candidate: rec([id, { name: 'b', type: 'int' }]),
    compatible: true,
  },
];

const obj = (props: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties: { id: { type: 'string' }, ...props },
  required: ['id'],
  ...extra,
});
const closed = { additionalProperties: false };

const JSON_CASES: Case[] = [
  {
    name: 'add optional property to open model',
    level: 'BACKWARD',
    history: [obj({})],
    candidate: obj({ email: { type: 'string' } }),
    compatible: false,
    rule: 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
  },
  {
    name: 'add optional property to closed model',
    level: 'BACKWARD',
    history: [obj({}, closed)],
    candidate: obj({ email: { type: 'string' } }, closed),
    compatible: true,
  },
  {
    name: 'add required property to closed model',
    level: 'BACKWARD',
    history: [obj({}, closed)],
    candidate: obj({ email: { type: 'string' } }, { ...closed, required: ['id', 'email'] }),
    compatible: false,
    rule: 'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
  },
  {
    name: 'add required property with default to closed model',
    level: 'BACKWARD',
    history: [obj({}, closed)],
    candidate: obj({ email: { type: 'string', default: '' } }, { ...closed, required: ['id', 'email'] }),
    compatible: true,
  },
  {
    name: 'add optional property to open model (forward)',
    level: 'FORWARD',
    history: [obj({})],
    candidate: obj({ email: { type: 'string' } }),
    compatible: true,
  },
  {
    name: 'add optional property to closed model (full)',
    level: 'FULL',
    history: [obj({}, closed)],
    candidate: obj({ email: { type: 'string' } }, closed),
    compatible: false,
    rule: 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL',
  },
  {
    name: 'remove property from open model',
    level: 'BACKWARD',
    history: [obj({ email: { type: 'string' } })],
    candidate: obj({}),
    compatible: true,
  },
  {
    name: 'remove property from closed model',
    level: 'BACKWARD',
    history: [obj({ email: { type: 'string' } }, closed)],
    candidate: obj({}, closed),
    compatible: false,
    rule: 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL',
  },
  {
    name: 'make property required',
    level: 'BACKWARD',
    history: [obj({ email: { type: 'string' } })],
    candidate: obj({ email: { type: 'string' } }, { required: ['id', 'email'] }),
    compatible: false,
    rule: 'REQUIRED_ATTRIBUTE_ADDED',
  },
  {
    name: 'make property required (forward)',
    level: 'FORWARD',
    history: [obj({ email: { type: 'string' } })],
    candidate: obj({ email: { type: 'string' } }, { required: ['id', 'email'] }),
    compatible: true,
  },
  {
    name: 'drop required',
    level: 'BACKWARD',
    history: [obj({ email: { type: 'string' } }, { required: ['id', 'email'] })],
    candidate: obj({ email: { type: 'string' } }),
    compatible: true,
  },
  {
    name: 'close the content model',
    level: 'BACKWARD',
    history: [obj({})],
    candidate: obj({}, closed),
    compatible: false,
    rule: 'ADDITIONAL_PROPERTIES_REMOVED',
  },
  {
    name: 'open the content model',
    level: 'BACKWARD',
    history: [obj({}, closed)],
    candidate: obj({}),
    compatible: true,
  },
  {
    name: 'integer → number',
    level: 'BACKWARD',
    history: [obj({ n: { type: 'integer' } })],
    candidate: obj({ n: { type: 'number' } }),
    compatible: true,
  },
  {
    name: 'number → integer',
    level: 'BACKWARD',
    history: [obj({ n: { type: 'number' } })],
    candidate: obj({ n: { type: 'integer' } }),
    compatible: false,
    rule: 'TYPE_NARROWED',
  },
  {
    name: 'string → integer',
    level: 'BACKWARD',
    history: [obj({ n: { type: 'string' } })],
    candidate: obj({ n: { type: 'integer' } }),
    compatible: false,
    rule: 'TYPE_CHANGED',
  },
  {
    name: 'enum extended',
    level: 'BACKWARD',
    history: [obj({ s: { enum: ['A', 'B'] } })],
    candidate: obj({ s: { enum: ['A', 'B', 'C'] } }),
    compatible: true,
  },
  {
    name: 'enum narrowed',
    level: 'BACKWARD',
    history: [obj({ s: { enum: ['A', 'B', 'C'] } })],
    candidate: obj({ s: { enum: ['A', 'B'] } }),
    compatible: false,
    rule: 'ENUM_ARRAY_NARROWED',
  },
  {
    name: 'maximum decreased',
    level: 'BACKWARD',
    history: [obj({ n: { type: 'integer', maximum: 100 } })],
    candidate: obj({ n: { type: 'integer', maximum: 10 } }),
    compatible: false,
    rule: 'MAXIMUM_DECREASED',
  },
  {
    name: 'maximum increased',
    level: 'BACKWARD',
    history: [obj({ n: { type: 'integer', maximum: 10 } })],
    candidate: obj({ n: { type: 'integer', maximum: 100 } }),
    compatible: true,
  },
  {
    name: 'minimum added',
    level: 'BACKWARD',
    history: [obj({ n: { type: 'integer' } })],
    candidate: obj({ n: { type: 'integer', minimum: 0 } }),
    compatible: false,
    rule: 'MINIMUM_ADDED',
  },
  {
    name: 'maxLength increased',
    level: 'BACKWARD',
    history: [obj({ s: { type: 'string', maxLength: 5 } })],
    candidate: obj({ s: { type: 'string', maxLength: 50 } }),
    compatible: true,
  },
  {
    name: 'minLength increased',
    level: 'BACKWARD',
    history: [obj({ s: { type: 'string', minLength: 1 } })],
    candidate: obj({ s: { type: 'string', minLength: 3 } }),
    compatible: false,
    rule: 'MIN_LENGTH_INCREASED',
  },
  {
    name: 'array items string → integer',
    level: 'BACKWARD',
    history: [obj({ xs: { type: 'array', items: { type: 'string' } } })],
    candidate: obj({ xs: { type: 'array', items: { type: 'integer' } } }),
    compatible: false,
    rule: 'TYPE_CHANGED',
  },
  {
    name: 'maxItems decreased',
    level: 'BACKWARD',
    history: [obj({ xs: { type: 'array', maxItems: 10 } })],
    candidate: obj({ xs: { type: 'array', maxItems: 2 } }),
    compatible: false,
    rule: 'MAX_ITEMS_DECREASED',
  },
  {
    name: 'string → string or null',
    level: 'BACKWARD',
    history: [obj({ s: { type: 'string' } })],
    candidate: obj({ s: { anyOf: [{ type: 'string' }, { type: 'null' }] } }),
    compatible: true,
  },
  {
    name: 'string or null → string',
    level: 'BACKWARD',
    history: [obj({ s: { anyOf: [{ type: 'string' }, { type: 'null' }] } })],
    candidate: obj({ s: { type: 'string' } }),
    compatible: false,
  },
  {
    name: 'any change under NONE',
    level: 'NONE',
    history: [obj({ n: { type: 'string' } })],
    candidate: obj({ n: { type: 'integer' } }),
    compatible: true,
  },
];

const proto = (body: string, pkg = 'shop') => `syntax = "proto3";\npackage ${pkg};\n${body}`;
const M = (fields: string) => `message Order {\n${fields}\n}`;

const PROTO_CASES: Case[] = [
  {
    name: 'add field',
    level: 'BACKWARD',
    history: [proto(M('string id = 1;'))],
    candidate: proto(M('string id = 1; int32 qty = 2;')),
    compatible: true,
  },
  {
    name: 'remove field',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; int32 qty = 2;'))],
    candidate: proto(M('string id = 1;')),
    compatible: true,
  },
  {
    name: 'rename field, same number',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; int32 qty = 2;'))],
    candidate: proto(M('string id = 1; int32 quantity = 2;')),
    compatible: true,
  },
  {
    name: 'change field number (Confluent: remove + add)',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; int32 qty = 2;'))],
    candidate: proto(M('string id = 1; int32 qty = 3;')),
    compatible: true,
  },
  {
    name: 'reuse a number with another wire type',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; int32 qty = 2;'))],
    candidate: proto(M('string id = 1; string qty_text = 2;')),
    compatible: false,
    rule: 'FIELD_SCALAR_KIND_CHANGED',
  },
  {
    name: 'int32 → int64 (same varint group)',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; int32 qty = 2;'))],
    candidate: proto(M('string id = 1; int64 qty = 2;')),
    compatible: true,
  },
  {
    name: 'int32 → string',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; int32 qty = 2;'))],
    candidate: proto(M('string id = 1; string qty = 2;')),
    compatible: false,
    rule: 'FIELD_SCALAR_KIND_CHANGED',
  },
  {
    name: 'int32 → string (forward)',
    level: 'FORWARD',
    history: [proto(M('string id = 1; int32 qty = 2;'))],
    candidate: proto(M('string id = 1; string qty = 2;')),
    compatible: false,
    rule: 'FIELD_SCALAR_KIND_CHANGED',
  },
  {
    name: 'int32 → sint32 (zigzag)',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; int32 qty = 2;'))],
    candidate: proto(M('string id = 1; sint32 qty = 2;')),
    compatible: false,
    rule: 'FIELD_SCALAR_KIND_CHANGED',
  },
  {
    name: 'fixed32 → sfixed32',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; fixed32 n = 2;'))],
    candidate: proto(M('string id = 1; sfixed32 n = 2;')),
    compatible: true,
  },
  {
    name: 'string → bytes',
    level: 'BACKWARD',
    history: [proto(M('string id = 1;'))],
    candidate: proto(M('bytes id = 1;')),
    compatible: true,
  },
  {
    name: 'scalar → message',
    level: 'BACKWARD',
    history: [proto(`${M('string id = 1; string addr = 2;')}\nmessage Addr { string city = 1; }`)],
    candidate: proto(`${M('string id = 1; Addr addr = 2;')}\nmessage Addr { string city = 1; }`),
    compatible: false,
    rule: 'FIELD_KIND_CHANGED',
  },
  {
    name: 'enum field → int32',
    level: 'BACKWARD',
    history: [proto(`${M('string id = 1; Status status = 2;')}\nenum Status { NEW = 0; PAID = 1; }`)],
    candidate: proto(`${M('string id = 1; int32 status = 2;')}\nenum Status { NEW = 0; PAID = 1; }`),
    compatible: true,
  },
  {
    name: 'field message type renamed',
    level: 'BACKWARD',
    history: [proto(`${M('string id = 1; Addr addr = 2;')}\nmessage Addr { string city = 1; }`)],
    candidate: proto(`${M('string id = 1; Place addr = 2;')}\nmessage Place { string city = 1; }`),
    compatible: false,
    rule: 'FIELD_NAMED_TYPE_CHANGED',
  },
  {
    name: 'nested message field type changed',
    level: 'BACKWARD',
    history: [proto(`${M('string id = 1; Addr addr = 2;')}\nmessage Addr { string city = 1; }`)],
    candidate: proto(`${M('string id = 1; Addr addr = 2;')}\nmessage Addr { int32 city = 1; }`),
    compatible: false,
    rule: 'FIELD_SCALAR_KIND_CHANGED',
  },
  {
    name: 'remove a message',
    level: 'BACKWARD',
    history: [proto(`${M('string id = 1;')}\nmessage Refund { string id = 1; }`)],
    candidate: proto(M('string id = 1;')),
    compatible: false,
    rule: 'MESSAGE_REMOVED',
  },
  {
    name: 'add a message',
    level: 'BACKWARD',
    history: [proto(M('string id = 1;'))],
    candidate: proto(`${M('string id = 1;')}\nmessage Refund { string id = 1; }`),
    compatible: true,
  },
  {
    name: 'change package',
    level: 'BACKWARD',
    history: [proto(M('string id = 1;'))],
    candidate: proto(M('string id = 1;'), 'store'),
    compatible: false,
    rule: 'PACKAGE_CHANGED',
  },
  {
    name: 'add enum value',
    level: 'BACKWARD',
    history: [proto(`${M('Status s = 1;')}\nenum Status { NEW = 0; PAID = 1; }`)],
    candidate: proto(`${M('Status s = 1;')}\nenum Status { NEW = 0; PAID = 1; SHIPPED = 2; }`),
    compatible: true,
  },
  {
    name: 'remove enum value',
    level: 'BACKWARD',
    history: [proto(`${M('Status s = 1;')}\nenum Status { NEW = 0; PAID = 1; SHIPPED = 2; }`)],
    candidate: proto(`${M('Status s = 1;')}\nenum Status { NEW = 0; PAID = 1; }`),
    compatible: true,
  },
  {
    name: 'add a oneof of new fields',
    level: 'BACKWARD',
    history: [proto(M('string id = 1;'))],
    candidate: proto(M('string id = 1; oneof pay { string card = 2; string iban = 3; }')),
    compatible: true,
  },
  {
    name: 'remove a field from a oneof',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; oneof pay { string card = 2; string iban = 3; }'))],
    candidate: proto(M('string id = 1; oneof pay { string card = 2; }')),
    compatible: false,
    rule: 'ONEOF_FIELD_REMOVED',
  },
  {
    name: 'add a field to a oneof',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; oneof pay { string card = 2; }'))],
    candidate: proto(M('string id = 1; oneof pay { string card = 2; string iban = 3; }')),
    compatible: true,
  },
  {
    name: 'move two existing fields into a oneof',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; string card = 2; string iban = 3;'))],
    candidate: proto(M('string id = 1; oneof pay { string card = 2; string iban = 3; }')),
    compatible: false,
    rule: 'MULTIPLE_FIELDS_MOVED_TO_ONEOF',
  },
  {
    name: 'move one existing field into a new oneof',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; string card = 2;'))],
    candidate: proto(M('string id = 1; oneof pay { string card = 2; string iban = 3; }')),
    compatible: true,
  },
  {
    name: 'string → repeated string',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; string tag = 2;'))],
    candidate: proto(M('string id = 1; repeated string tag = 2;')),
    compatible: true,
  },
  {
    name: 'int32 → repeated int32',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; int32 n = 2;'))],
    candidate: proto(M('string id = 1; repeated int32 n = 2;')),
    compatible: false,
    rule: 'FIELD_NUMERIC_LABEL_CHANGED',
  },
  {
    name: 'proto2 required field added',
    level: 'BACKWARD',
    history: ['syntax = "proto2";\npackage shop;\nmessage Order { optional string id = 1; }'],
    candidate:
      'syntax = "proto2";\npackage shop;\nmessage Order { optional string id = 1; required int32 n = 2; }',
    compatible: false,
    rule: 'REQUIRED_FIELD_ADDED',
  },
  {
    name: 'reuse a reserved field number',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; reserved 2;'))],
    candidate: proto(M('string id = 1; string note = 2;')),
    compatible: false,
    rule: 'RESERVED_FIELD_NUMBER_REUSED',
  },
  {
    name: 'add a field outside the reserved range',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; reserved 2 to 5;'))],
    candidate: proto(M('string id = 1; string note = 6; reserved 2 to 5;')),
    compatible: true,
  },
  {
    name: 'add field (full)',
    level: 'FULL',
    history: [proto(M('string id = 1;'))],
    candidate: proto(M('string id = 1; int32 qty = 2;')),
    compatible: true,
  },
  {
    name: 'type change two versions back (backward, latest only)',
    level: 'BACKWARD',
    history: [proto(M('string id = 1; int32 n = 2;')), proto(M('string id = 1;'))],
    candidate: proto(M('string id = 1; string n = 2;')),
    compatible: true,
  },
  {
    name: 'type change two versions back (backward transitive)',
    level: 'BACKWARD_TRANSITIVE',
    history: [proto(M('string id = 1; int32 n = 2;')), proto(M('string id = 1;'))],
    candidate: proto(M('string id = 1; string n = 2;')),
    compatible: false,
    rule: 'FIELD_SCALAR_KIND_CHANGED',
  },
  {
    name: 'type change two versions back (forward transitive)',
    level: 'FORWARD_TRANSITIVE',
    history: [proto(M('string id = 1; int32 n = 2;')), proto(M('string id = 1;'))],
    candidate: proto(M('string id = 1; string n = 2;')),
    compatible: false,
    rule: 'FIELD_SCALAR_KIND_CHANGED',
  },
  {
    name: 'any change under NONE',
    level: 'NONE',
    history: [proto(M('string id = 1; int32 n = 2;'))],
    candidate: proto(M('string id = 1; string n = 2;')),
    compatible: true,
  },
];

const text = (s: unknown) => (typeof s === 'string' ? s : JSON.stringify(s));

async function runCase(type: SchemaType, c: Case): Promise<void> {
  const registry = await SchemaRegistry.open(new MemoryStorage());
  try {
    const subject = 'matrix-value';
    await registry.setConfig(subject, { compatibility: 'NONE' });
    for (const h of c.history) await registry.register(subject, { schema: text(h), schemaType: type });
    await registry.setConfig(subject, { compatibility: c.level });
    const input = { schema: text(c.candidate), schemaType: type };
    const verdict = registry.checkCompatibility(subject, 'latest', input, { verbose: true });
    assert.equal(verdict.is_compatible, c.compatible, `verdict; messages: ${verdict.messages?.join(' | ')}`);
    if (c.compatible) {
      assert.deepEqual(verdict.messages, []);
      const { id } = await registry.register(subject, input);
      assert.equal(registry.getVersion(subject, 'latest').id, id);
    } else {
      const messages = verdict.messages ?? [];
      assert.ok(messages.length > 0);
      if (c.rule !== undefined) {
        assert.ok(
          messages.some((m) => m.includes(`errorType:'${c.rule}'`)),
          `expected rule ${c.rule} in ${messages.join(' | ')}`,
        );
      }
      assert.ok(
        messages.some((m) => /path '[^']*'/.test(m) || /at path/.test(m)),
        'a message names the path',
      );
      assert.ok(messages.includes(`{compatibility: '${c.level}'}`));
      const before = registry.versions(subject);
      await assert.rejects(registry.register(subject, input), (err) =>
        isSluiceErrorWithRegistryCode(err, 409),
      );
      assert.deepEqual(registry.versions(subject), before, 'nothing stored');
    }
  } finally {
    await registry.close();
  }
}

for (const [type, cases] of [
  ['AVRO', AVRO],
  ['JSON', JSON_CASES],
  ['PROTOBUF', PROTO_CASES],
] as const) {
  describe(`compatibility matrix: ${type}`, () => {
    for (const c of cases) {
      it(`${c.level}: ${c.name} → ${c.compatible ? 'compatible' : `incompatible${c.rule ? ` (${c.rule})` : ''}`}`, () =>
        runCase(type, c));
    }
  });
}

describe('compatibility matrix size', () => {
  it('covers at least 60 evolutions across the three formats and every level', () => {
    const all = [...AVRO, ...JSON_CASES, ...PROTO_CASES];
    assert.ok(all.length >= 60, `${all.length} cases`);
    const levels = new Set(all.map((c) => c.level));
    for (const l of [
      'NONE',
      'BACKWARD',
      'BACKWARD_TRANSITIVE',
      'FORWARD',
      'FORWARD_TRANSITIVE',
      'FULL',
      'FULL_TRANSITIVE',
    ]) {
      assert.ok(levels.has(l as CompatibilityLevel), `level ${l} covered`);
    }
  });
});
