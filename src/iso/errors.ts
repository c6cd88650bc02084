/**
 * What the ISO writer refuses (src/iso/tree.ts, build.ts), one factory per case. All are USAGE: the
 * caller's file list, label or timestamp, never the host; nothing was written.
 */
import { QksError } from '../errors.js';

function usage(message: string, hint: string, details: Record<string, unknown>): QksError {
  return new QksError('USAGE', message, { hint, details });
}

export function volumeIdInvalid(volumeId: string, why: string): QksError {
  return usage(`invalid ISO volume label "${volumeId}": it ${why}`, 'cloud-init looks for the label "cidata"; use letters, digits, "_" or "-", at most 16.', { volumeId });
}

/** `max`: the last second a directory record holds (records.ts MAX_EPOCH, in 2155). */
export function epochInvalid(epoch: number, max: number): QksError {
  return usage(`invalid ISO timestamp ${String(epoch)}: expected whole seconds since 1970, up to ${max} (year 2155)`, 'Set SOURCE_DATE_EPOCH or --epoch to a Unix time such as 1700000000.', { epoch });
}

export function isoTooLarge(bytes: number): QksError {
  return usage(`the ISO would be ${bytes} bytes; this writer stops at 4 GiB`, 'Put fewer or smaller files in it.', { bytes });
}

export function fileWithoutPath(): QksError {
  return usage('an ISO file has no path', 'Give every file a path such as "user-data".', {});
}

/** A path component Joliet cannot name: `problem` says why (joliet.ts jolietNameProblem). */
export function fileNameInvalid(path: string, problem: string): QksError {
  return usage(`invalid file name "${path}" in the ISO: a path component ${problem}`, 'Use names like "user-data" or "dir/file": no empty components, no leading or trailing "/", at most 64 characters each.', { path });
}

/** A component past Rock Ridge's NM bound (`maxBytes` in UTF-8). */
export function fileNameTooLong(path: string, maxBytes: number): QksError {
  return usage(`invalid file name "${path}" in the ISO: a component is longer than ${maxBytes} bytes in UTF-8`, 'Use shorter names.', { path });
}

export function fileTooDeep(path: string, depth: number, max: number): QksError {
  return usage(`"${path}" is nested ${depth} directories deep; ISO 9660 allows ${max}`, 'Use a flatter layout.', { path });
}

export function fileTooLarge(path: string, size: number): QksError {
  return usage(`"${path}" is ${size} bytes; a file in the ISO may hold at most 4 GiB - 1`, 'Split the file.', { path, size });
}

export function fileModeInvalid(path: string, mode: unknown): QksError {
  return usage(`"${path}" has file mode ${String(mode)}; expected permission bits 0..0o7777`, 'Pass a mode such as 0o644.', { path });
}

/** One path named as a file and as a directory, whichever came first. */
export function fileAndDirectory(path: string): QksError {
  return usage(`"${path}" is both a file and a directory in the ISO`, 'Rename one of them.', { path });
}

export function fileTwice(path: string): QksError {
  return usage(`"${path}" appears twice in the ISO`, 'Give each file a unique path.', { path });
}
