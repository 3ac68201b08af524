/**
 * Registry errors in Confluent's terms: every failure the REST API reports carries
 * Confluent's `error_code` (40401, 42201, 409, …) and the HTTP status derived from it,
 * inside a SluiceError so the rest of Sluice can switch on `code` as usual.
 */
import { type ErrorCode, SluiceError } from '../common/index.js';

export const RegistryErrorCodes = {
  SUBJECT_NOT_FOUND: 40401,
  VERSION_NOT_FOUND: 40402,
  SCHEMA_NOT_FOUND: 40403,
  SUBJECT_SOFT_DELETED: 40404,
  SUBJECT_NOT_SOFT_DELETED: 40405,
  SCHEMA_VERSION_SOFT_DELETED: 40406,
  SCHEMA_VERSION_NOT_SOFT_DELETED: 40407,
  SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED: 40408,
  SUBJECT_LEVEL_MODE_NOT_CONFIGURED: 40409,
  INCOMPATIBLE_SCHEMA: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BAD_REQUEST: 400,
  INVALID_SCHEMA: 42201,
  INVALID_VERSION: 42202,
  INVALID_COMPATIBILITY_LEVEL: 42203,
  INVALID_MODE: 42204,
  OPERATION_NOT_PERMITTED: 42205,
  REFERENCE_EXISTS: 42206,
  ID_DOES_NOT_MATCH: 42207,
  STORE_ERROR: 50001,
  OPERATION_TIMEOUT: 50002,
} as const;

const SLUICE_CODE: Record<number, ErrorCode> = {
  409: 'SCHEMA_INCOMPATIBLE',
  413: 'RECORD_TOO_LARGE',
  50001: 'IO',
  50002: 'TIMEOUT',
};

/** HTTP status for a Confluent error code: 40401 → 404, 42201 → 422, 409 → 409. */
export function httpStatusOf(errorCode: number): number {
  return errorCode >= 10000 ? Math.floor(errorCode / 100) : errorCode;
}

export function registryError(errorCode: number, message: string, cause?: unknown): SluiceError {
  const status = httpStatusOf(errorCode);
  const code: ErrorCode =
    SLUICE_CODE[errorCode] ??
    (status === 404 ? 'NOT_FOUND' : status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT');
  return new SluiceError(code, message, {
    cause,
    details: { registryErrorCode: errorCode, httpStatus: status },
  });
}

/** The Confluent error code a SluiceError carries, or 50001 for anything else. */
export function registryErrorCodeOf(err: unknown): number {
  if (err instanceof SluiceError && typeof err.details?.registryErrorCode === 'number') {
    return err.details.registryErrorCode;
  }
  return RegistryErrorCodes.STORE_ERROR;
}
