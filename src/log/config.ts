/**
 * Topic configuration: defaults, parsing (numbers may arrive as strings from AlterConfigs),
 * validation. Invalid values are rejected with INVALID_CONFIG naming the key; unknown keys are
 * rejected too, so a typo never silently does nothing.
 */
import { SluiceError } from '../common/index.js';
import { MAX_SEGMENT_BYTES } from './segment.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './types.js';

const NUMERIC: Record<string, { min: number; max?: number }> = {
  'segment.bytes': { min: 14, max: MAX_SEGMENT_BYTES },
  'segment.ms': { min: 1 },
  'retention.ms': { min: -1 },
  'retention.bytes': { min: -1 },
  'delete.retention.ms': { min: 0 },
  'min.compaction.lag.ms': { min: 0 },
  'min.cleanable.dirty.ratio': { min: 0, max: 1 },
  'max.message.bytes': { min: 0 },
  'index.interval.bytes': { min: 0 },
  'flush.ms': { min: -1 },
};

export function resolveConfig(
  overrides: Readonly<Record<string, unknown>> = {},
  base: Readonly<LogConfig> = DEFAULT_LOG_CONFIG,
): LogConfig {
  const out: LogConfig = { ...base };
  for (const [key, raw] of Object.entries(overrides)) {
    if (raw === undefined) continue;
    const range = NUMERIC[key];
    if (range !== undefined) {
      const v = typeof raw === 'string' ? Number(raw) : raw;
      if (
        typeof v !== 'number' ||
        !Number.isFinite(v) ||
        v < range.min ||
        (range.max !== undefined && v > range.max)
      )
        throw new SluiceError('INVALID_CONFIG', `invalid value ${String(raw)} for ${key}`, {
          kafkaErrorCode: 40,
          details: { key, value: raw },
        });
      (out as unknown as Record<string, number>)[key] = v;
    } else if (key === 'cleanup.policy') {
      const v = String(raw)
        .split(',')
        .map((s) => s.trim())
        .sort()
        .join(',');
      if (v !== 'delete' && v !== 'compact' && v !== 'compact,delete')
        throw new SluiceError('INVALID_CONFIG', `invalid value ${String(raw)} for cleanup.policy`, {
          kafkaErrorCode: 40,
        });
      out['cleanup.policy'] = v;
    } else if (key === 'message.timestamp.type') {
      if (raw !== 'CreateTime' && raw !== 'LogAppendTime')
        throw new SluiceError('INVALID_CONFIG', `invalid value ${String(raw)} for message.timestamp.type`, {
          kafkaErrorCode: 40,
        });
      out['message.timestamp.type'] = raw;
    } else {
      throw new SluiceError('INVALID_CONFIG', `unknown topic config ${key}`, { kafkaErrorCode: 40 });
    }
  }
  return out;
}

export function isCompacted(c: Readonly<LogConfig>): boolean {
  return c['cleanup.policy'].includes('compact');
}

export function isDeleteRetention(c: Readonly<LogConfig>): boolean {
  return c['cleanup.policy'].includes('delete');
}
