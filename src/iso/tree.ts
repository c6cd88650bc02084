/**
 * From the caller's file list to a checked directory tree with the names each hierarchy uses:
 * the real name (Joliet and Rock Ridge) and a unique 8.3 d-character identifier (the ISO 9660 tree).
 */
import { fileAndDirectory, fileModeInvalid, fileNameInvalid, fileNameTooLong, fileTooDeep, fileTooLarge, fileTwice, fileWithoutPath } from './errors.js';
import { jolietNameProblem } from './joliet.js';
import { NM_MAX_NAME_BYTES } from './rockridge.js';

interface NodeBase {
  /** The real name (Joliet and Rock Ridge NM). */
  name: string;
  /** ISO 9660 level 1 name part (≤ 8 d-characters) and extension (≤ 3). */
  stem: string;
  ext: string;
  /** Rock Ridge serial number, assigned in layout order. */
  ino: number;
  parent: DirNode | undefined;
}
export interface FileNode extends NodeBase {
  kind: 'file';
  data: string | Uint8Array;
  size: number;
  /** Permission bits only. */
  mode: number;
  /** First sector of the data (set by the layout). */
  extent: number;
}
export interface DirNode extends NodeBase {
  kind: 'dir';
  children: Array<FileNode | DirNode>;
  mode: number;
}
export type IsoNode = FileNode | DirNode;

/** ECMA-119 limits the directory hierarchy to 8 levels (root included). */
export const MAX_DEPTH = 8;
export const DEFAULT_FILE_MODE = 0o444;
export const DEFAULT_DIR_MODE = 0o555;
const MAX_FILE_SIZE = 0xffffffff; // one extent; multi-extent files are not written

function newDir(name: string, parent: DirNode | undefined): DirNode {
  return { kind: 'dir', name, stem: '', ext: '', ino: 0, parent, children: [], mode: DEFAULT_DIR_MODE };
}

/** One file of the image (the input of buildIso, src/iso/build.ts). */
export interface IsoFile {
  /** Path inside the image, `/`-separated: `user-data` or `dir/file`. Intermediate directories are made. */
  path: string;
  /** File contents; strings are written as UTF-8. */
  data: string | Uint8Array;
  /** POSIX permission bits shown by Rock Ridge (default 0o444; directories are 0o555). */
  mode?: number;
}

/** Checks every path and builds the tree; children are not sorted yet (each hierarchy sorts its own way). */
export function buildTree(files: readonly IsoFile[]): DirNode {
  const root = newDir('', undefined);
  const byPath = new Map<string, IsoNode>();
  for (const f of files) {
    if (typeof f.path !== 'string') throw fileWithoutPath();
    const parts = f.path.split('/');
    for (const part of parts) {
      const problem = jolietNameProblem(part);
      if (problem) {
        throw fileNameInvalid(f.path, problem);
      }
      if (Buffer.byteLength(part, 'utf8') > NM_MAX_NAME_BYTES) {
        throw fileNameTooLong(f.path, NM_MAX_NAME_BYTES);
      }
    }
    if (parts.length - 1 > MAX_DEPTH - 1) {
      throw fileTooDeep(f.path, parts.length - 1, MAX_DEPTH - 1);
    }
    const size = typeof f.data === 'string' ? Buffer.byteLength(f.data, 'utf8') : f.data.byteLength;
    if (size > MAX_FILE_SIZE) throw fileTooLarge(f.path, size);
    const mode = f.mode ?? DEFAULT_FILE_MODE;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
      throw fileModeInvalid(f.path, f.mode);
    }
    let dir = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const key = parts.slice(0, i + 1).join('/');
      const existing = byPath.get(key);
      if (existing?.kind === 'file') throw fileAndDirectory(key);
      if (existing) {
        dir = existing;
      } else {
        const d = newDir(parts[i]!, dir);
        dir.children.push(d);
        byPath.set(key, d);
        dir = d;
      }
    }
    if (byPath.has(f.path)) throw byPath.get(f.path)!.kind === 'dir' ? fileAndDirectory(f.path) : fileTwice(f.path);
    const node: FileNode = { kind: 'file', name: parts[parts.length - 1]!, stem: '', ext: '', ino: 0, parent: dir, data: f.data, size, mode, extent: 0 };
    dir.children.push(node);
    byPath.set(f.path, node);
  }
  assignIsoNames(root);
  return root;
}

const NOT_D_CHAR = /[^A-Z0-9_]/g;

/** The ISO 9660 sort key (ECMA-119 9.3: name, then extension, each padded with spaces). */
export function isoSortKey(n: IsoNode): string {
  return n.stem.padEnd(8, ' ') + n.ext.padEnd(3, ' ');
}

/** Gives each child of every directory a unique 8.3 d-character identifier, in sorted real-name order. */
function assignIsoNames(dir: DirNode): void {
  dir.children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const used = new Set<string>();
  for (const c of dir.children) {
    const upper = c.name.toUpperCase();
    const dot = c.kind === 'file' ? upper.lastIndexOf('.') : -1;
    let stem = (dot >= 0 ? upper.slice(0, dot) : upper).replace(NOT_D_CHAR, '_').slice(0, 8) || '_';
    const ext = dot >= 0 ? upper.slice(dot + 1).replace(NOT_D_CHAR, '_').slice(0, 3) : '';
    const base = stem;
    for (let n = 1; used.has(`${stem}.${ext}`); n++) {
      const suffix = String(n);
      stem = base.slice(0, 8 - suffix.length) + suffix;
    }
    used.add(`${stem}.${ext}`);
    c.stem = stem;
    c.ext = ext;
    if (c.kind === 'dir') assignIsoNames(c);
  }
}

/** The ISO 9660 file identifier: `NAME.EXT;1` for files, `NAME` for directories. */
export function isoIdentifier(n: IsoNode): string {
  return n.kind === 'file' ? `${n.stem}.${n.ext};1` : n.stem;
}
