/**
 * Where everything goes: directory records packed into sectors (never across a sector boundary),
 * Rock Ridge entries that overflow a record moved to continuation areas, path tables, and the sector
 * of every descriptor, directory, continuation area and file. Pure arithmetic over the tree; the
 * bytes are written by build.ts.
 */
import { DIR_RECORD_MAX, FIRST_DESCRIPTOR_SECTOR, SECTOR, ascii, dirRecordLength, pathRecordLength, ucs2 } from './records.js';
import { CE_LENGTH, S_IFDIR, S_IFREG, er, nm, px, sp, tf } from './rockridge.js';
import { isoIdentifier, isoSortKey, type DirNode, type IsoNode } from './tree.js';

/** One directory record to write; `target` gives its extent and size once the layout is done. */
export interface PlannedRecord {
  id: Uint8Array;
  target: IsoNode;
  /** System-use entries kept in the record (a CE entry is appended when `continuation` is set). */
  inline: Uint8Array[];
  /** Index into `Layout.continuations` of the entries that did not fit. */
  continuation?: number;
  /** Byte offset of the record inside its directory extent. */
  offset: number;
}

export interface PlannedDir {
  node: DirNode;
  /** 1-based directory number in this hierarchy's path table. */
  number: number;
  parentNumber: number;
  /** The identifier in the path table (0x00 for the root). */
  pathId: Uint8Array;
  records: PlannedRecord[];
  sectors: number;
  extent: number;
}

export interface Hierarchy {
  dirs: PlannedDir[];
  byNode: Map<DirNode, PlannedDir>;
  /** Path table length in bytes (the same for the L and M tables). */
  pathTableSize: number;
  pathTableL: number;
  pathTableM: number;
}

export interface Continuation {
  entries: Uint8Array[];
  length: number;
  sector: number;
  offset: number;
}

export interface Layout {
  primary: Hierarchy;
  joliet: Hierarchy;
  continuations: Continuation[];
  files: Array<IsoNode & { kind: 'file' }>;
  totalSectors: number;
}

const sectorsFor = (bytes: number) => Math.ceil(bytes / SECTOR);
const byName = (a: IsoNode, b: IsoNode) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const byIsoKey = (a: IsoNode, b: IsoNode) => {
  const ka = isoSortKey(a), kb = isoSortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** Breadth-first directory order, children in `order`: the path table order (ECMA-119 9.4). */
function directoriesInPathTableOrder(root: DirNode, order: (a: IsoNode, b: IsoNode) => number): Array<{ node: DirNode; parentIndex: number }> {
  const out = [{ node: root, parentIndex: 0 }];
  for (let i = 0; i < out.length; i++) {
    const subdirs = out[i]!.node.children.filter((c): c is DirNode => c.kind === 'dir').sort(order);
    for (const d of subdirs) out.push({ node: d, parentIndex: i });
  }
  return out;
}

function posix(n: IsoNode): Uint8Array {
  if (n.kind === 'file') return px({ mode: S_IFREG | n.mode, nlink: 1, uid: 0, gid: 0, ino: n.ino });
  const subdirs = n.children.reduce((k, c) => k + (c.kind === 'dir' ? 1 : 0), 0);
  return px({ mode: S_IFDIR | n.mode, nlink: 2 + subdirs, uid: 0, gid: 0, ino: n.ino });
}

/**
 * Packs records into sectors: a record that would cross a sector boundary starts the next sector
 * (ECMA-119 6.8.1.1). Returns the number of sectors.
 */
function packRecords(records: Array<{ length: number; offset: number }>): number {
  let pos = 0;
  for (const r of records) {
    const room = SECTOR - (pos % SECTOR);
    if (r.length > room) pos += room;
    r.offset = pos;
    pos += r.length;
  }
  return Math.max(1, sectorsFor(pos));
}

/** Splits a record's system-use entries into those that fit and those for a continuation area. */
function fitSystemUse(idLength: number, entries: Uint8Array[], continuations: Continuation[]): { inline: Uint8Array[]; continuation?: number; length: number } {
  const total = entries.reduce((n, e) => n + e.length, 0);
  if (dirRecordLength(idLength, total) <= DIR_RECORD_MAX) return { inline: entries, length: dirRecordLength(idLength, total) };
  const inline: Uint8Array[] = [];
  let used = 0;
  let i = 0;
  for (; i < entries.length; i++) {
    if (dirRecordLength(idLength, used + entries[i]!.length + CE_LENGTH) > DIR_RECORD_MAX) break;
    inline.push(entries[i]!);
    used += entries[i]!.length;
  }
  const rest = entries.slice(i);
  continuations.push({ entries: rest, length: rest.reduce((n, e) => n + e.length, 0), sector: 0, offset: 0 });
  return { inline, continuation: continuations.length - 1, length: dirRecordLength(idLength, used + CE_LENGTH) };
}

function planPrimary(root: DirNode, epoch: number, continuations: Continuation[]): Hierarchy {
  const order = directoriesInPathTableOrder(root, byIsoKey);
  const time = tf(epoch);
  // serial numbers in layout order, so they are stable for the same input
  let ino = 1;
  root.ino = ino++;
  for (const { node } of order) for (const c of [...node.children].sort(byIsoKey)) c.ino = ino++;

  const dirs: PlannedDir[] = order.map(({ node, parentIndex }, i) => {
    const parent = order[parentIndex]!.node;
    const raw: Array<{ id: Uint8Array; target: IsoNode; entries: Uint8Array[] }> = [
      { id: Uint8Array.of(0), target: node, entries: node === root ? [sp(), posix(node), time, er()] : [posix(node), time] },
      { id: Uint8Array.of(1), target: parent, entries: [posix(parent), time] },
      ...[...node.children].sort(byIsoKey).map((c) => ({
        id: ascii(isoIdentifier(c)),
        target: c,
        entries: [posix(c), time, nm(Buffer.from(c.name, 'utf8'))],
      })),
    ];
    const records = raw.map((r) => {
      const fit = fitSystemUse(r.id.length, r.entries, continuations);
      return { id: r.id, target: r.target, inline: fit.inline, continuation: fit.continuation, offset: 0, length: fit.length };
    });
    return {
      node,
      number: i + 1,
      parentNumber: parentIndex + 1,
      pathId: node === root ? Uint8Array.of(0) : ascii(isoIdentifier(node)),
      records,
      sectors: packRecords(records),
      extent: 0,
    };
  });
  return hierarchy(dirs);
}

function planJoliet(root: DirNode): Hierarchy {
  const order = directoriesInPathTableOrder(root, byName);
  const dirs: PlannedDir[] = order.map(({ node, parentIndex }, i) => {
    const parent = order[parentIndex]!.node;
    const records = [
      { id: Uint8Array.of(0), target: node as IsoNode },
      { id: Uint8Array.of(1), target: parent as IsoNode },
      ...[...node.children].sort(byName).map((c) => ({ id: ucs2(c.name), target: c })),
    ].map((r) => ({ ...r, inline: [], offset: 0, length: dirRecordLength(r.id.length, 0) }));
    return {
      node,
      number: i + 1,
      parentNumber: parentIndex + 1,
      pathId: node === root ? Uint8Array.of(0) : ucs2(node.name),
      records,
      sectors: packRecords(records),
      extent: 0,
    };
  });
  return hierarchy(dirs);
}

function hierarchy(dirs: PlannedDir[]): Hierarchy {
  const pathTableSize = dirs.reduce((n, d) => n + pathRecordLength(d.pathId.length), 0);
  return { dirs, byNode: new Map(dirs.map((d) => [d.node, d])), pathTableSize, pathTableL: 0, pathTableM: 0 };
}

/** Packs continuation areas into sectors; none crosses a sector boundary (Linux reads one block). */
function packContinuations(continuations: Continuation[]): number {
  let pos = 0;
  for (const c of continuations) {
    const room = SECTOR - (pos % SECTOR);
    if (c.length > room) pos += room;
    c.sector = Math.floor(pos / SECTOR);
    c.offset = pos % SECTOR;
    pos += c.length;
  }
  return sectorsFor(pos);
}

/**
 * Lays out the image: system area, primary and Joliet descriptors, terminator, four path tables,
 * primary directories, Joliet directories, continuation areas, file data.
 */
export function layout(root: DirNode, epoch: number): Layout {
  const continuations: Continuation[] = [];
  const primary = planPrimary(root, epoch, continuations);
  const joliet = planJoliet(root);
  let next = FIRST_DESCRIPTOR_SECTOR + 3; // PVD, Joliet SVD, terminator
  for (const h of [primary, joliet]) {
    h.pathTableL = next;
    next += sectorsFor(h.pathTableSize);
    h.pathTableM = next;
    next += sectorsFor(h.pathTableSize);
  }
  for (const h of [primary, joliet]) {
    for (const d of h.dirs) {
      d.extent = next;
      next += d.sectors;
    }
  }
  const ceStart = next;
  next += packContinuations(continuations);
  for (const c of continuations) c.sector += ceStart;

  // file data in primary directory order; an empty file points at the next data sector, as genisoimage does
  const files: Layout['files'] = [];
  let lastEmpty = -1;
  for (const d of primary.dirs) {
    for (const c of [...d.node.children].sort(byIsoKey)) {
      if (c.kind !== 'file') continue;
      c.extent = next;
      if (c.size === 0) lastEmpty = next;
      next += sectorsFor(c.size);
      files.push(c);
    }
  }
  // keep that sector inside the image when an empty file comes last
  const totalSectors = Math.max(next, lastEmpty + 1);
  return { primary, joliet, continuations, files, totalSectors };
}

/** The size a directory record declares for its target: whole sectors for directories. */
export function extentOf(h: Hierarchy, n: IsoNode): { extent: number; size: number } {
  if (n.kind === 'file') return { extent: n.extent, size: n.size };
  const d = h.byNode.get(n)!;
  return { extent: d.extent, size: d.sectors * SECTOR };
}
