/**
 * Where libvirt puts a domain's guest-agent channel sockets, for every layout seen in the wild
 * (FACTS §1), found without virsh: from the live status XML when readable, else by looking in the
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

/** The channel libvirt itself connects to and keeps open. */
export const STANDARD_CHANNEL = 'org.qemu.guest_agent.0';
/** Our dedicated channel: its own socket and its own qemu-ga in the guest; libvirt never touches it. */
export const DEDICATED_CHANNEL = 'org.qemu.guest_agent.1';
/** Preference order: the dedicated channel first (nobody holds it), then the standard one. */
export const AGENT_CHANNELS = [DEDICATED_CHANNEL, STANDARD_CHANNEL] as const;

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

type Probe = 'exists' | 'missing' | 'denied';

async function probe(path: string): Promise<Probe> {
  try {
    await stat(path);
    return 'exists';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'denied' : 'missing';
  }
}

async function list(dir: string): Promise<string[] | 'denied' | 'missing'> {
  try {
    return await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'denied' : 'missing';
  }
}

/** Finds the agent channel sockets of the domain `vmName`. Never throws for a missing or unreadable tree. */
export async function discoverChannelSockets(vmName: string, options: DiscoverOptions = {}): Promise<Discovery> {
  const root = options.root ?? '/';
  const mode = options.mode ?? 'system';
  const channels = options.channels ?? AGENT_CHANNELS;
  const { stateDirs, libDir } = libvirtQemuDirs(mode, options.env ?? process.env);
  const at = (p: string) => join(root, p);
  const searched: string[] = [];
  const denied: string[] = [];
  const found: ChannelSocket[] = [];

  const consider = async (path: string, channel: string, source: ChannelSource, domainId?: number) => {
    searched.push(path);
    const p = await probe(path);
    if (p === 'exists') found.push({ path, channel, source, ...(domainId !== undefined ? { domainId } : {}) });
    else if (p === 'denied') denied.push(path);
  };
  const scan = async (dir: string): Promise<string[]> => {
    searched.push(dir + '/');
    const entries = await list(dir);
    if (entries === 'denied') denied.push(dir);
    return Array.isArray(entries) ? entries : [];
  };

  // 1. the live status XML names the exact paths (root can read it)
  let liveId: number | undefined;
  for (const sd of stateDirs) {
    const xmlPath = at(join(sd, `${vmName}.xml`));
    searched.push(xmlPath);
    let xml: string;
    try {
      xml = await readFile(xmlPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') denied.push(xmlPath);
      continue;
    }
    const parsed = parseStatusXml(xml);
    liveId = parsed.id;
    for (const ch of channels) {
      const c = parsed.channels.find((x) => x.name === ch);
      if (c) await consider(at(c.path), ch, 'status-xml', parsed.id);
    }
    break;
  }

  // 2. id-named directories (newest layout first); several ids can linger: prefer the live one, then the highest
  const byId = (entries: string[], re: RegExp) =>
    entries
      .map((e) => ({ e, m: re.exec(e) }))
      .filter((x): x is { e: string; m: RegExpExecArray } => !!x.m && matchesShortName(x.m[2]!, vmName))
      .map((x) => ({ entry: x.e, id: Number(x.m[1]) }))
      .sort((a, b) => (b.id === liveId ? 1 : 0) - (a.id === liveId ? 1 : 0) || b.id - a.id);

  const dirs: { dir: string; source: ChannelSource; id?: number }[] = [];
  for (const sd of stateDirs) {
    const base = at(join(sd, 'channel'));
    for (const { entry, id } of byId(await scan(base), /^(\d+)-(.+)$/)) dirs.push({ dir: join(base, entry), source: 'state-dir', id });
  }
  const target = at(join(libDir, 'channel/target'));
  const targetEntries = await scan(target);
  for (const { entry, id } of byId(targetEntries, /^domain-(\d+)-(.+)$/)) dirs.push({ dir: join(target, entry), source: 'lib-dir-id', id });
  dirs.push({ dir: join(target, `domain-${vmName}`), source: 'lib-dir-name' });

  for (const ch of channels) {
    for (const d of dirs) await consider(join(d.dir, ch), ch, d.source, d.id);
    await consider(join(target, `${vmName}.${ch}`), ch, 'lib-flat');
  }

  // best first: channel preference, then the order found (status XML, newest layout, ...); no duplicates
  const rank = (s: ChannelSocket) => channels.indexOf(s.channel);
  const seen = new Set<string>();
  const sockets = found
    .map((s, i) => ({ s, i }))
    .sort((a, b) => rank(a.s) - rank(b.s) || a.i - b.i)
    .map((x) => x.s)
    .filter((s) => (seen.has(s.path) ? false : (seen.add(s.path), true)));
  return { sockets, searched: [...new Set(searched)], denied: [...new Set(denied)] };
}
