/**
 * Compatibility levels over a subject's history: which previous versions a new schema is
 * checked against (the latest for BACKWARD/FORWARD/FULL, all of them for the _TRANSITIVE
 * levels) and in which direction (BACKWARD: the new schema reads data written with the
 * old; FORWARD: the old reads the new; FULL: both). Messages follow Confluent's verbose
 * form: the format's issues, then {oldSchemaVersion: n}, {oldSchema: '…'},
 * {compatibility: 'LEVEL'}. Pure: no I/O.
 */
import type { ParsedSchema, SchemaProvider } from './formats/provider.js';
import { formatIssue } from './formats/provider.js';
import type { CompatibilityLevel } from './types.js';

export interface PreviousVersion<P extends ParsedSchema> {
  version: number;
  schema: string;
  parsed: P;
}

/** Incompatibility messages of `candidate` against `previous` (oldest first); empty = compatible. */
export function compatibilityMessages<P extends ParsedSchema>(
  provider: SchemaProvider<P>,
  level: CompatibilityLevel,
  candidate: P,
  previous: readonly PreviousVersion<P>[],
): string[] {
  if (level === 'NONE' || previous.length === 0) return [];
  const transitive = level.endsWith('_TRANSITIVE');
  const base = level.replace('_TRANSITIVE', '');
  const against = transitive ? [...previous].reverse() : previous.slice(-1);
  for (const old of against) {
    const issues = [];
    if (base === 'BACKWARD' || base === 'FULL') {
      issues.push(...provider.check(candidate, old.parsed, { reader: 'new', writer: 'old' }));
    }
    if (base === 'FORWARD' || base === 'FULL') {
      issues.push(...provider.check(old.parsed, candidate, { reader: 'old', writer: 'new' }));
    }
    if (issues.length > 0) {
      return [
        ...issues.map(formatIssue),
        `{oldSchemaVersion: ${old.version}}`,
        `{oldSchema: '${old.schema}'}`,
        `{compatibility: '${level}'}`,
      ];
    }
  }
  return [];
}
