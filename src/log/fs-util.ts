/**
 * File helpers with explicit crash semantics.
 *
 * `writeFileAtomic`: write `<path>.tmp`, fsync it, rename over `<path>`, fsync the directory.
 * After a crash at any point the path holds either the complete old or the complete new
 * content (rename is atomic on POSIX file systems; the directory fsync makes the rename
 * itself durable). Leftover `.tmp` files are ignored and removed by their owners on open.
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { SluiceError } from '../common/index.js';

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    // Some file systems refuse fsync on directories (EINVAL/EISDIR); nothing more can be done there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw ioError(`fsync of ${dir}`, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function writeFileAtomic(path: string, data: Uint8Array | string, syncDir = true): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (syncDir) fsyncDir(dirname(path));
}

/** Writes all of buf at `position`, looping over short writes. */
export function writeFully(fd: number, buf: Uint8Array, position: number): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, position + off);
}

export function readFileOrNull(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError(`read of ${path}`, err);
  }
}

export function unlinkIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`unlink of ${path}`, err);
  }
}

export function removeTree(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

export function ioError(what: string, err: unknown): SluiceError {
  return new SluiceError('IO', `${what} failed: ${(err as Error).message}`, { cause: err });
}

/** The 20-digit zero-padded file name stem Kafka uses for segment and snapshot files. */
export function offsetFileStem(offset: number): string {
  return String(offset).padStart(20, '0');
}
