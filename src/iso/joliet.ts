/**
 * Joliet: a second directory tree with UCS-2 names, what Windows, 7-Zip and most non-Linux readers
 * (and blkid, for the label) use. Its limits decide which names we accept at all.
 */

/** Joliet allows 64 UCS-2 characters per name. */
export const JOLIET_MAX_NAME = 64;
/** The Joliet volume identifier field holds 32 bytes: 16 UCS-2 characters. */
export const JOLIET_MAX_LABEL = 16;

/** Why `name` cannot be a Joliet (and so our) file name, or undefined when it can. */
export function jolietNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name === '.' || name === '..') return `"${name}" is not a file name`;
  if (name.length > JOLIET_MAX_NAME) return `is ${name.length} characters long; Joliet allows ${JOLIET_MAX_NAME}`;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20) return `contains the control character U+${c.toString(16).padStart(4, '0').toUpperCase()}`;
    if (c >= 0xd800 && c <= 0xdfff) return 'contains a character outside the Basic Multilingual Plane (UCS-2 cannot hold it)';
    // ECMA-119/Joliet reserve these; '/' separates path components
    if ('*/:;?\\'.includes(name[i]!)) return `contains "${name[i]}", which Joliet does not allow`;
  }
  return undefined;
}
