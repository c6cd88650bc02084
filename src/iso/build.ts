/**
 * The cidata.iso writer: ISO 9660 with Joliet and Rock Ridge, written into one preallocated buffer.
 * Pure and deterministic: the same files, label and epoch give the same bytes (names are sorted, every
 * timestamp is `epoch`, nothing depends on the clock, the host or the order of the input).
 */
import { epochInvalid, isoTooLarge, volumeIdInvalid } from './errors.js';
import { JOLIET_MAX_LABEL } from './joliet.js';
import { extentOf, layout, type Hierarchy, type Layout } from './layout.js';
import { FIRST_DESCRIPTOR_SECTOR, FLAG_DIRECTORY, MAX_EPOCH, SECTOR, writeDirRecord, writePathRecord, writeTerminator, writeVolumeDescriptor, type DirRecord } from './records.js';
import { ce } from './rockridge.js';
import { buildTree, type IsoFile } from './tree.js';

export type { IsoFile };

export interface BuildIsoOptions {
  /** Volume label, what blkid reports as LABEL (default `cidata`, what cloud-init's NoCloud looks for). */
  volumeId?: string;
  /**
   * Every timestamp in the image, in seconds since 1970 (default `DEFAULT_ISO_EPOCH`). The CLI passes
   * SOURCE_DATE_EPOCH here; the library never reads the environment or the clock.
   */
  epoch?: number;
}

export const DEFAULT_VOLUME_ID = 'cidata';
/** 2000-01-01T00:00:00Z: a fixed default so images are reproducible without SOURCE_DATE_EPOCH. */
export const DEFAULT_ISO_EPOCH = 946_684_800;
/**
 * Labels: d-characters plus lower case and '-' (what cloud-init's `cidata` and OpenStack's `config-2`
 * need), at most 16 so the Joliet descriptor (16 UCS-2 characters) holds the same label.
 */
export const VOLUME_ID_PATTERN = /^[A-Za-z0-9_-]{1,16}$/;
const SYSTEM_ID = 'LINUX';
const APPLICATION_ID = 'QEMU-KUBESOLO';

/** Checks a volume label; throws a USAGE QksError naming the problem. */
export function checkVolumeId(volumeId: string): void {
  if (!VOLUME_ID_PATTERN.test(volumeId)) {
    const why = volumeId.length === 0 ? 'is empty' : volumeId.length > JOLIET_MAX_LABEL ? `is ${volumeId.length} characters long (at most ${JOLIET_MAX_LABEL})` : 'may hold only letters, digits, "_" and "-"';
    throw volumeIdInvalid(volumeId, why);
  }
}

/** Checks an epoch; throws a USAGE QksError when a directory record cannot hold it. */
export function checkEpoch(epoch: number): void {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) {
    throw epochInvalid(epoch, MAX_EPOCH);
  }
}

/** Builds the ISO image. Throws QksError USAGE for a bad label, epoch or file list. */
export function buildIso(files: IsoFile[], options: BuildIsoOptions = {}): Uint8Array {
  const volumeId = options.volumeId ?? DEFAULT_VOLUME_ID;
  const epoch = options.epoch ?? DEFAULT_ISO_EPOCH;
  checkVolumeId(volumeId);
  checkEpoch(epoch);
  const plan = layout(buildTree(files), epoch);
  const bytes = plan.totalSectors * SECTOR;
  if (bytes > 2 ** 32) {
    throw isoTooLarge(bytes);
  }
  const out = Buffer.alloc(bytes); // zero-filled: the system area, padding and gaps stay zero
  writeDescriptors(out, plan, volumeId, epoch);
  for (const h of [plan.primary, plan.joliet]) {
    writePathTables(out, h);
    writeDirectories(out, h, plan, epoch);
  }
  writeContinuations(out, plan);
  for (const f of plan.files) {
    if (typeof f.data === 'string') out.write(f.data, f.extent * SECTOR, 'utf8');
    else out.set(f.data, f.extent * SECTOR);
  }
  return out;
}

function rootRecord(h: Hierarchy): DirRecord {
  const root = h.dirs[0]!;
  return { id: Uint8Array.of(0), extent: root.extent, size: root.sectors * SECTOR, flags: FLAG_DIRECTORY, systemUse: new Uint8Array(0) };
}

function writeDescriptors(out: Uint8Array, plan: Layout, volumeId: string, epoch: number): void {
  for (const [i, h] of [plan.primary, plan.joliet].entries()) {
    writeVolumeDescriptor(out, (FIRST_DESCRIPTOR_SECTOR + i) * SECTOR, {
      type: i === 0 ? 1 : 2,
      ucs2: i === 1,
      systemId: SYSTEM_ID,
      volumeId,
      volumeSetId: '',
      publisherId: '',
      preparerId: '',
      applicationId: APPLICATION_ID,
      volumeSectors: plan.totalSectors,
      pathTableSize: h.pathTableSize,
      pathTableL: h.pathTableL,
      pathTableM: h.pathTableM,
      root: rootRecord(h),
      epoch,
    });
  }
  writeTerminator(out, (FIRST_DESCRIPTOR_SECTOR + 2) * SECTOR);
}

function writePathTables(out: Uint8Array, h: Hierarchy): void {
  let l = h.pathTableL * SECTOR;
  let m = h.pathTableM * SECTOR;
  for (const d of h.dirs) {
    l += writePathRecord(out, l, d.pathId, d.extent, d.parentNumber, false);
    m += writePathRecord(out, m, d.pathId, d.extent, d.parentNumber, true);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function writeDirectories(out: Uint8Array, h: Hierarchy, plan: Layout, epoch: number): void {
  for (const d of h.dirs) {
    const base = d.extent * SECTOR;
    for (const r of d.records) {
      const entries = r.continuation === undefined ? r.inline : [...r.inline, continuationEntry(plan, r.continuation)];
      const { extent, size } = extentOf(h, r.target);
      writeDirRecord(out, base + r.offset, { id: r.id, extent, size, flags: r.target.kind === 'dir' ? FLAG_DIRECTORY : 0, systemUse: concat(entries) }, epoch);
    }
  }
}

function continuationEntry(plan: Layout, index: number): Uint8Array {
  const c = plan.continuations[index]!;
  return ce(c.sector, c.offset, c.length);
}

function writeContinuations(out: Uint8Array, plan: Layout): void {
  for (const c of plan.continuations) {
    let off = c.sector * SECTOR + c.offset;
    for (const e of c.entries) {
      out.set(e, off);
      off += e.length;
    }
  }
}
