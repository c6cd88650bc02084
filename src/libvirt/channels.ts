/**
 * Where libvirt puts a domain's guest-agent channel sockets, for every layout seen in the wild
 * (the layouts below), found without virsh: from the live status XML when readable, else by looking in the
 * channel directories. Every path is taken under `root`, so tests lay out fake trees.
 *
 *   since ~9.2            <state>/channel/<id>-<short>/<channel>          (/run/libvirt/qemu/...)
 *   ~2016 – 9.1           <lib>/channel/target/domain-<id>-<short>/<channel>  (/var/lib/libvirt/qemu/...)
 *   ~2015 – 2016 (guide)  <lib>/channel/target/domain-<name>/<channel>
 *   older                 <lib>/channel/target/<name>.<channel>
 *
 * `<short>` is the name cut to 20 characters (libvirt's VIR_DOMAIN_SHORT_NAME_MAX); where libvirtd's
 * locale cannot decode a non-ASCII name (the C locale), it is cut to 20 bytes instead.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { AGENT_CHANNELS, DEDICATED_CHANNEL, STANDARD_CHANNEL } from './channel-names.js';

export const SHORT_NAME_MAX = 20;

export type ChannelSource = 'status-xml' | 'state-dir' | 'lib-dir-id' | 'lib-dir-name' | 'lib-flat';

export interface ChannelSocket {
  path: string;
  channel: string;
  /** Which layout found it. */
  source: ChannelSource;
  /** The domain id, when the layout carries one. */
  domainId?: number;
}

export interface DiscoverOptions {
  /** Prefix for every absolute path (tests). Default `/`. */
  root?: string;
  /** qemu:///system (default) or qemu:///session. */
  mode?: 'system' | 'session';
  /** For session paths: XDG_RUNTIME_DIR, XDG_CONFIG_HOME, HOME. */
  env?: NodeJS.ProcessEnv;
  /** Channel names to look for, in preference order. Default AGENT_CHANNELS. */
  channels?: readonly string[];
}

export interface Discovery {
  /** Existing sockets, best first: by channel preference, then by layout (status XML, newest layout, ...). */
  sockets: ChannelSocket[];
  /** Every place looked at, for error messages. */
  searched: string[];
  /** Places we could not read (EACCES): the socket may be there, hidden from this user. */
  denied: string[];
}

/** The directories libvirt uses for a connection mode. */
export function libvirtQemuDirs(mode: 'system' | 'session', env: NodeJS.ProcessEnv = {}): { stateDirs: string[]; libDir: string } {
  if (mode === 'session') {
    const home = env.HOME ?? '/root';
    const runtime = env.XDG_RUNTIME_DIR ?? join(env.XDG_CACHE_HOME ?? join(home, '.cache'));
    const config = env.XDG_CONFIG_HOME ?? join(home, '.config');
    return { stateDirs: [join(runtime, 'libvirt/qemu/run')], libDir: join(config, 'libvirt/qemu/lib') };
  }
  return { stateDirs: ['/run/libvirt/qemu', '/var/run/libvirt/qemu'], libDir: '/var/lib/libvirt/qemu' };
}

/** libvirt's short name: the first 20 characters. */
export function shortName(name: string): string {
  return [...name].slice(0, SHORT_NAME_MAX).join('');
}

/**
 * True when `candidate` (a directory suffix) names the domain `name`, also when libvirt shortened it:
 * by characters, or by bytes (virDomainDefGetShortName falls back to `%.20s` when mbstowcs fails).
 * (A byte cut inside a character makes a directory name that is not UTF-8; string paths miss it.)
 */
export function matchesShortName(candidate: string, name: string): boolean {
  return candidate === name || candidate === shortName(name) || candidate === Buffer.from(name).subarray(0, SHORT_NAME_MAX).toString('utf8');
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function unescapeXml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITY[e]!);
}

/** The domain id and the unix channels of a live status XML (`/run/libvirt/qemu/<name>.xml`). */
export function parseStatusXml(xml: string): { id?: number; channels: { name: string; path: string }[] } {
  const idMatch = /<domain\b[^>]*\bid=['"](\d+)['"]/.exec(xml);
  const channels: { name: string; path: string }[] = [];
  for (const m of xml.matchAll(/<channel\b[^>]*>([\s\S]*?)<\/channel>/g)) {
    const body = m[1]!;
    const path = /<source\b[^>]*\bpath=(?:'([^']*)'|"([^"]*)")/.exec(body);
    const name = /<target\b[^>]*\bname=(?:'([^']*)'|"([^"]*)")/.exec(body);
    if (path && name) channels.push({ name: unescapeXml(name[1] ?? name[2]!), path: unescapeXml(path[1] ?? path[2]!) });
  }
  return { ...(idMatch ? { id: Number(idMatch[1]) } : {}), channels };
}

/** Where to look, for one connection mode under one root: the input of the ranking and of both listers. */
export interface ChannelLayout {
  /** libvirt's state dirs (status XML `<name>.xml`, `channel/<id>-<short>/`), under the root. */
  stateDirs: string[];
  /** `<lib>/channel/target`, under the root. */
  target: string;
  /** Channel names, in preference order. */
  channels: readonly string[];
  /** A path from libvirt (status XML) under the root. */
  at(path: string): string;
}

export function channelLayout(options: DiscoverOptions = {}): ChannelLayout {
  const root = options.root ?? '/';
  const { stateDirs, libDir } = libvirtQemuDirs(options.mode ?? 'system', options.env ?? process.env);
  const at = (p: string) => join(root, p);
  return { stateDirs: stateDirs.map(at), target: at(join(libDir, 'channel/target')), channels: options.channels ?? AGENT_CHANNELS, at };
}

/** What a lister saw on a host: the VM's status XML (if readable) and the entries of the channel dirs. */
export interface ChannelListing {
  statusXml?: string;
  /** Directory (as in the layout) → its entry names. */
  entries: ReadonlyMap<string, readonly string[]>;
}

/**
 * Every place the VM's agent sockets may be, best first (pure: the one ranking of local and remote
 * discovery): by channel preference; within a channel the live status XML's path, then id-named
 * directories (newest layout first; the live id, then the highest), then the name-only and flat
 * layouts. No duplicates. Which of these exist is the lister's business.
 */
export function rankChannelSockets(layout: ChannelLayout, vmName: string, listing: ChannelListing): ChannelSocket[] {
  const live = listing.statusXml !== undefined ? parseStatusXml(listing.statusXml) : { channels: [] };
  const liveId = 'id' in live ? live.id : undefined;
  const byId = (dir: string, re: RegExp) =>
    (listing.entries.get(dir) ?? [])
      .map((e) => ({ e, m: re.exec(e) }))
      .filter((x): x is { e: string; m: RegExpExecArray } => !!x.m && matchesShortName(x.m[2]!, vmName))
      .map((x) => ({ dir: join(dir, x.e), id: Number(x.m[1]) }))
      .sort((a, b) => (b.id === liveId ? 1 : 0) - (a.id === liveId ? 1 : 0) || b.id - a.id);
  const dirs: { dir: string; source: ChannelSource; id?: number }[] = [];
  for (const sd of layout.stateDirs) for (const d of byId(join(sd, 'channel'), /^(\d+)-(.+)$/)) dirs.push({ ...d, source: 'state-dir' });
  for (const d of byId(layout.target, /^domain-(\d+)-(.+)$/)) dirs.push({ ...d, source: 'lib-dir-id' });
  dirs.push({ dir: join(layout.target, `domain-${vmName}`), source: 'lib-dir-name' });

  const out: ChannelSocket[] = [];
  for (const ch of layout.channels) {
    for (const c of live.channels.filter((x) => x.name === ch)) out.push({ path: layout.at(c.path), channel: ch, source: 'status-xml', ...(liveId !== undefined ? { domainId: liveId } : {}) });
    for (const d of dirs) out.push({ path: join(d.dir, ch), channel: ch, source: d.source, ...(d.id !== undefined ? { domainId: d.id } : {}) });
    out.push({ path: join(layout.target, `${vmName}.${ch}`), channel: ch, source: 'lib-flat' });
  }
  const seen = new Set<string>();
  return out.filter((c) => (seen.has(c.path) ? false : (seen.add(c.path), true)));
}

type Probe = 'exists' | 'missing' | 'denied';

const errnoProbe = (e: unknown): 'missing' | 'denied' => {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM' ? 'denied' : 'missing';
};

async function probe(path: string): Promise<Probe> {
  return stat(path).then(() => 'exists' as const, errnoProbe);
}

/** The local lister: reads the status XML and the channel directories of this host. */
async function listLocal(layout: ChannelLayout, vmName: string): Promise<{ listing: ChannelListing; searched: string[]; denied: string[] }> {
  const searched: string[] = [];
  const denied: string[] = [];
  let statusXml: string | undefined;
  for (const sd of layout.stateDirs) {
    const xmlPath = join(sd, `${vmName}.xml`);
    searched.push(xmlPath);
    try {
      statusXml = await readFile(xmlPath, 'utf8');
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') denied.push(xmlPath);
    }
  }
  const entries = new Map<string, string[]>();
  for (const dir of [...layout.stateDirs.map((sd) => join(sd, 'channel')), layout.target]) {
    searched.push(dir + '/');
    const r = await readdir(dir).catch(errnoProbe);
    if (r === 'denied') denied.push(dir);
    entries.set(dir, Array.isArray(r) ? r : []);
  }
  return { listing: { ...(statusXml !== undefined ? { statusXml } : {}), entries }, searched, denied };
}

/** Finds the agent channel sockets of the domain `vmName`. Never throws for a missing or unreadable tree. */
export async function discoverChannelSockets(vmName: string, options: DiscoverOptions = {}): Promise<Discovery> {
  const layout = channelLayout(options);
  const { listing, searched, denied } = await listLocal(layout, vmName);
  const candidates = rankChannelSockets(layout, vmName, listing);
  const probes = await Promise.all(candidates.map((c) => probe(c.path)));
  for (const [i, c] of candidates.entries()) {
    searched.push(c.path);
    if (probes[i] === 'denied') denied.push(c.path);
  }
  return { sockets: candidates.filter((_, i) => probes[i] === 'exists'), searched: [...new Set(searched)], denied: [...new Set(denied)] };
}
