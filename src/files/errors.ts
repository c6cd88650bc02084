/**
 * What can go wrong with the files a user names (inputs we read, outputs we write), as QksErrors with
 * their hints, in one place: every verb says the same thing about the same path.
 */
import type { Stats } from 'node:fs';
import { QksError } from '../errors.js';

/** errno codes that mean "not yours to write": the user picks another path, it is no bug (exit 4). */
const PERMISSION_ERRNOS = new Set(['EACCES', 'EPERM', 'EROFS']);
/** errno codes that mean "this path cannot hold a file": the user's mistake (exit 2), not a bug. */
const PATH_ERRNOS = new Set(['ENOTDIR', 'EISDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP', 'ENXIO', 'ENODEV', 'EINVAL']);

/** What a non-regular file is, in words for messages. */
export function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return st.isFile() ? 'a regular file' : 'not a regular file';
}

/** An output path that cannot take the file (exit 2); nothing was touched. */
export function outputInvalid(path: string, why: string, hint = 'Name a regular file (or a new path) to write to.', errno?: string): QksError {
  return new QksError('OUTPUT_INVALID', `cannot write ${path}: ${why}`, { hint, retryable: false, details: { path, ...(errno ? { errno } : {}) } });
}

/** A failed write of `path`: a permission is theirs to fix (exit 4), a path that cannot hold a file exit 2, the rest exit 1. */
export function outputError(path: string, e: unknown): QksError {
  if (e instanceof QksError) return e;
  const err = e as NodeJS.ErrnoException;
  const errno = err.code ?? '';
  if (PATH_ERRNOS.has(errno)) {
    const why = errno === 'ENOTDIR' || errno === 'EEXIST' ? 'a part of its directory path is not a directory' : errno === 'EISDIR' ? 'it is a directory' : err.message;
    return new QksError('OUTPUT_INVALID', `cannot write ${path}: ${why} (${errno})`, { hint: 'Choose a path whose parents are directories.', details: { path, errno }, cause: e });
  }
  const denied = PERMISSION_ERRNOS.has(errno);
  // Node's fs messages already start with the errno code ("EACCES: permission denied, open '…'")
  return new QksError(denied ? 'OUTPUT_PERMISSION' : 'OUTPUT_FAILED', `cannot write ${path}: ${err.message}`, {
    hint: denied ? 'Choose an output path you can write to.' : errno === 'ENOSPC' ? 'The disk is full.' : undefined,
    retryable: false,
    details: { path, errno: err.code },
    cause: e,
  });
}

/** `what` names the input in messages: "--ssh-key (SSH_PUBLIC_KEY)", "template", "input file". */
export function inputNotFound(path: string, what: string): QksError {
  return new QksError('INPUT_NOT_FOUND', `${what}: ${path} does not exist`, { hint: 'Check the path.', details: { path } });
}

export function inputNotRegular(path: string, what: string, kind: string): QksError {
  return new QksError('INPUT_INVALID', `${what}: ${path} is ${kind}, not a regular file`, {
    hint: 'Name a regular file (a pipe such as <(command) works too).',
    details: { path, kind },
  });
}

export function inputTooLarge(path: string, what: string, cap: number): QksError {
  return new QksError('INPUT_INVALID', `${what}: ${path} is larger than ${cap} bytes, the cap for this input`, {
    hint: 'Check that the path names the file you meant (see "Input caps" in the README).',
    details: { path, cap },
  });
}

export function inputTimeout(path: string, what: string, ms: number): QksError {
  return new QksError('INPUT_TIMEOUT', `${what}: ${path} sent no end of data within ${ms / 1000} s`, {
    hint: 'Whatever writes into that pipe did not finish; check the command behind it.',
    details: { path, ms },
  });
}

export function inputError(path: string, what: string, e: unknown): QksError {
  if (e instanceof QksError) return e;
  const errno = (e as NodeJS.ErrnoException).code;
  if (errno === 'ENOENT' || errno === 'ENOTDIR') return inputNotFound(path, what);
  if (errno === 'EISDIR') return inputNotRegular(path, what, 'a directory');
  if (errno === 'EACCES' || errno === 'EPERM') {
    return new QksError('INPUT_INVALID', `${what}: permission denied reading ${path}`, { hint: 'Check the file permissions.', details: { path, errno } });
  }
  return new QksError('INPUT_INVALID', `${what}: cannot read ${path} (${errno ?? String(e)})`, { hint: 'Check the path.', details: { path, errno }, cause: e });
}
