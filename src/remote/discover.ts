/**
 * Finds a VM's guest-agent channel sockets on a remote hypervisor, with the layouts and preference
 * order of local discovery (src/libvirt/channels.ts: status XML, newest layout first, the dedicated
 * channel before the standard one), in one SSH round trip: a constant POSIX sh script gets the
 * places to look as quoted arguments and prints what it finds; the ranking happens here.
 *
 * Only sh (with its test, printf, cd, pwd) and sed run remotely: a minimal RHEL has them. The VM name
 * and every path are arguments of the script, never part of it.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { channelLayout, rankChannelSockets, type ChannelLayout, type ChannelSocket } from '../libvirt/channels.js';
import type { SshHost } from '../ssh/index.js';
import { validateVmName } from './destination.js';
import { remoteSessionUnsupported } from './errors.js';
import { TIMEOUTS } from '../timeouts.js';
import type { CancelSignal } from '../cancel.js';

export type RemoteAccess = 'ok' | 'perm' | 'notsock';

export interface RemoteDiscovery {
  /** `user@host:port` of the hypervisor. */
  via: string;
  /** Sockets the SSH user can open, best first. */
  sockets: ChannelSocket[];
  /** Sockets that exist but the SSH user may not open (read+write). */
  forbidden: ChannelSocket[];
  /** Every place looked at (remote paths). */
  searched: string[];
  /** Remote places the SSH user could not read. */
  denied: string[];
}

export interface RemoteDiscoverOptions {
  mode?: 'system' | 'session';
  /** Prefix for every remote path (tests lay out libvirt's trees under a temp dir). Default env QKS_CHANNEL_ROOT, else `/`. */
  root?: string;
  env?: NodeJS.ProcessEnv;
  channels?: readonly string[];
  /** Reuse a scan of the host younger than this (ms), when it knows the VM. Default SCAN_TTL_MS; 0 = always scan. */
  maxAgeMs?: number;
  signal?: CancelSignal;
}

/** A host scan serves every VM of a batch: one remote command for 20 VMs instead of 20. */
export const SCAN_TTL_MS = TIMEOUTS.remoteScanTtlMs;

// Items: C:<channel> | X:<state dir: its *.xml> | L:<dir to scan> | T:<path to test>. Prints:
//   X <xml path> + its <domain> line and <channel> blocks + boundary | E <entry> | S ok|perm|notsock <path> | D <denied>
// A directory reached twice (/var/run -> /run) is scanned once.
const SCRIPT = [
  `B=$1; shift; CH=; SEEN=;`,
  `t() { if [ -S "$1" ]; then if [ -r "$1" ] && [ -w "$1" ]; then printf 'S ok %s\\n' "$1"; else printf 'S perm %s\\n' "$1"; fi;`,
  ` elif [ -e "$1" ]; then printf 'S notsock %s\\n' "$1";`,
  ` else d=\${1%/*}; if [ -d "$d" ] && ! [ -x "$d" ]; then printf 'D %s\\n' "$d"; fi; fi; };`,
  `once() { r=$(cd -- "$1" 2>/dev/null && pwd -P) || return 0; case $SEEN in *"|$r|"*) return 1;; esac; SEEN="$SEEN|$r|"; };`,
  `for a in "$@"; do k=\${a%%:*}; p=\${a#?:};`,
  ` case $k in`,
  ` C) CH="$CH $p";;`,
  ` X) if [ -d "$p" ]; then if [ -r "$p" ] && [ -x "$p" ]; then once "$p/." || continue; for x in "$p"/*.xml; do [ -f "$x" ] || continue;`,
  ` if [ -r "$x" ]; then printf 'X %s\\n' "$x"; sed -n -e '/<domain[ >]/p' -e '/<channel/,/<\\/channel>/p' -- "$x"; printf '\\n%s\\n' "$B"; else printf 'D %s\\n' "$x"; fi; done;`,
  ` else printf 'D %s\\n' "$p"; fi; fi;;`,
  ` L) if [ -d "$p" ]; then if [ -r "$p" ] && [ -x "$p" ]; then once "$p" || continue; for e in "$p"/*; do [ -e "$e" ] || continue; printf 'E %s\\n' "$e";`,
  ` if [ -d "$e" ]; then for c in $CH; do t "$e/$c"; done; else t "$e"; fi; done;`,
  ` else printf 'D %s\\n' "$p"; fi; else t "$p"; fi;;`,
  ` T) t "$p";;`,
  ` esac; done`,
].join('');

interface Scan {
  xml: { path: string; text: string }[];
  entries: string[];
  tested: Map<string, RemoteAccess>;
  denied: string[];
}

/** Parses the script's output (pure). */
export function parseScanOutput(out: string, boundary: string): Scan {
  const scan: Scan = { xml: [], entries: [], tested: new Map(), denied: [] };
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('X ')) {
      const end = lines.indexOf(boundary, i + 1);
      const stop = end < 0 ? lines.length : end;
      scan.xml.push({ path: line.slice(2), text: lines.slice(i + 1, stop).join('\n') });
      i = stop;
    } else if (line.startsWith('E ')) scan.entries.push(line.slice(2));
    else if (line.startsWith('D ')) scan.denied.push(line.slice(2));
    else {
      const m = /^S (ok|perm|notsock) (.*)$/.exec(line);
      if (m) scan.tested.set(m[2]!, m[1] as RemoteAccess);
    }
  }
  return scan;
}

type Layout = ChannelLayout;

function layoutFor(options: RemoteDiscoverOptions): Layout {
  const env = options.env ?? process.env;
  const root = options.root ?? env.QKS_CHANNEL_ROOT ?? '/';
  if (options.mode === 'session') {
    throw remoteSessionUnsupported();
  }
  return channelLayout({ root, mode: 'system', env: {}, ...(options.channels ? { channels: options.channels } : {}) });
}

function parentOf(p: string): string {
  return p.slice(0, p.lastIndexOf('/'));
}
function baseOf(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

async function runScan(ssh: SshHost, items: string[], signal?: CancelSignal): Promise<Scan> {
  const boundary = `--qks-${randomBytes(8).toString('hex')}--`;
  const r = await ssh.exec(SCRIPT, [boundary, ...items], signal);
  return parseScanOutput(r.stdout.toString('utf8'), boundary);
}

/** Every VM's channel sockets on the host, in one remote command. */
function scanHost(ssh: SshHost, l: Layout, signal?: CancelSignal): Promise<Scan> {
  return runScan(ssh, [...l.channels.map((c) => `C:${c}`), ...l.stateDirs.map((sd) => `X:${sd}`), ...l.stateDirs.map((sd) => `L:${join(sd, 'channel')}`), `L:${l.target}`], signal);
}

type ScanCache = Map<string, { at: number; scan: Promise<Scan> }>;

// Recent scans live on the connection (SshHost.cache), shared by concurrent callers, gone with it.
function cachedScan(ssh: SshHost, l: Layout, maxAgeMs: number, signal?: CancelSignal): { scan: Promise<Scan>; fresh: boolean } {
  const key = JSON.stringify([l.stateDirs, l.target, l.channels]);
  let byLayout = ssh.cache.get('scans') as ScanCache | undefined;
  if (!byLayout) ssh.cache.set('scans', (byLayout = new Map()));
  const cache = byLayout;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < maxAgeMs) return { scan: hit.scan, fresh: false };
  const entry = { at: Date.now(), scan: scanHost(ssh, l, signal) };
  // a failed scan is forgotten, unless a newer one has replaced it meanwhile
  entry.scan.catch(() => cache.get(key) === entry && cache.delete(key));
  cache.set(key, entry);
  return { scan: entry.scan, fresh: true };
}

/** The remote lister's view of one VM, ranked by the one ranking (src/libvirt/channels.ts). */
function resolve(scan: Scan, l: Layout, vmName: string, via: string): RemoteDiscovery {
  const xml = scan.xml.find((x) => l.stateDirs.some((sd) => x.path === join(sd, `${vmName}.xml`)));
  const entries = new Map<string, string[]>();
  for (const e of scan.entries) {
    const dir = parentOf(e);
    entries.set(dir, [...(entries.get(dir) ?? []), baseOf(e)]);
  }
  const unique = rankChannelSockets(l, vmName, { ...(xml ? { statusXml: xml.text } : {}), entries });
  return {
    via,
    sockets: unique.filter((c) => scan.tested.get(c.path) === 'ok'),
    forbidden: unique.filter((c) => scan.tested.get(c.path) === 'perm'),
    searched: [...new Set([...l.stateDirs.map((sd) => join(sd, `${vmName}.xml`)), ...unique.map((c) => c.path)])],
    denied: [...new Set(scan.denied)],
  };
}

/**
 * Looks for the VM's channel sockets on the host behind `ssh`. One remote command scans every VM of
 * the host; a batch reuses that scan for SCAN_TTL_MS (a VM it does not know triggers a fresh one).
 */
export async function discoverRemoteChannels(ssh: SshHost, vmName: string, options: RemoteDiscoverOptions = {}): Promise<RemoteDiscovery> {
  validateVmName(vmName);
  const l = layoutFor(options);
  const known = (d: RemoteDiscovery) => d.sockets.length > 0 || d.forbidden.length > 0;
  let { scan, fresh } = cachedScan(ssh, l, options.maxAgeMs ?? SCAN_TTL_MS, options.signal);
  let found = resolve(await scan, l, vmName, ssh.via);
  if (!known(found) && !fresh) {
    ({ scan } = cachedScan(ssh, l, 0, options.signal));
    found = resolve(await scan, l, vmName, ssh.via);
  }
  // the live status XML may name paths outside the scanned trees: test those (rare)
  const s = await scan;
  const xmlUntested = found.searched.filter((p) => !s.tested.has(p) && !p.endsWith('.xml') && !p.startsWith(l.target) && !l.stateDirs.some((sd) => p.startsWith(sd + '/')));
  if (xmlUntested.length) {
    const more = await runScan(ssh, xmlUntested.map((p) => `T:${p}`), options.signal);
    const merged: Scan = { ...s, tested: new Map([...s.tested, ...more.tested]), denied: [...s.denied, ...more.denied] };
    found = resolve(merged, l, vmName, ssh.via);
  }
  return found;
}
