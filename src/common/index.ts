/** Shared foundations every module may import: the error type and the logger. */
export {
  ERROR_CODES,
  type ErrorCode,
  isSluiceError,
  SluiceError,
  type SluiceErrorOptions,
  toSluiceError,
} from './errors.js';
export { createLogger, type Logger, rootLogger, setLogLevel } from './logger.js';
export { SLUICE_VERSION } from './version.js';
