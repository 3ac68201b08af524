/** Shared test helpers for the registry tests (not a test file itself). */
import { SluiceError } from '../../src/common/index.js';

export * from '../../src/registry/index.js';

export function isSluiceErrorWithRegistryCode(err: unknown, code: number): boolean {
  return err instanceof SluiceError && err.details?.registryErrorCode === code;
}
