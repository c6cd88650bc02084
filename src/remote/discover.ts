/**
 * Finds a VM's guest-agent channel sockets on a remote hypervisor, with the layouts and preference
 * order of local discovery (src/libvirt/channels.ts: status XML, newest layout first, the dedicated
 * channel before the standard one), in one SSH round trip: a constant POSIX sh script gets the
 * places to look as quoted arguments and prints what it finds; the ranking happens here.
 *
 * Only sh, test, cat and printf run remotely: a minimal RHEL has them. The VM name and every path are
 * arguments of the script, never part of it.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { QksError } from '../errors.js';
import { AGENT_CHANNELS, libvirtQemuDirs, matchesShortName, parseStatusXml, shortName, type ChannelSocket, type ChannelSource } from '../libvirt/channels.js';
import { validateVmName, type SshHost } from './ssh.js';

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
  signal?: AbortSignal;
}

// Items: C:<channel> | X:<status xml> | L:<dir to scan> | T:<path to test>. Prints:
//   X <path> + content + boundary | E <entry path> | S ok|perm|notsock <path> | D <denied path>
const SCRIPT = [
  `B=$1; n=$2; s=$3; shift 3; CH=;`,
  `t() { if [ -S "$1" ]; then if [ -r "$1" ] && [ -w "$1" ]; then printf 'S ok %s\\n' "$1"; else printf 'S perm %s\\n' "$1"; fi;`,
  ` elif [ -e "$1" ]; then printf 'S notsock %s\\n' "$1";`,
  ` else d=\${1%/*}; if [ -d "$d" ] && ! [ -x "$d" ]; then printf 'D %s\\n' "$d"; fi; fi; };`,
  `for a in "$@"; do k=\${a%%:*}; p=\${a#?:};`,
  ` case $p in @HOME@*) p=$HOME\${p#@HOME@};; @RUNTIME@*) p=\${XDG_RUNTIME_DIR:-$HOME/.cache}\${p#@RUNTIME@};; esac;`,
  ` case $k in`,
  ` C) CH="$CH $p";;`,
  ` X) if [ -f "$p" ] && [ -r "$p" ]; then printf 'X %s\\n' "$p"; cat -- "$p"; printf '\\n%s\\n' "$B"; elif [ -e "$p" ]; then printf 'D %s\\n' "$p"; fi;;`,
  ` L) if [ -d "$p" ]; then if [ -r "$p" ] && [ -x "$p" ]; then for e in "$p"/*; do b=\${e##*/};`,
  ` case $b in *-"$n"|*-"$s") printf 'E %s\\n' "$e"; for c in $CH; do t "$e/$c"; done;; esac; done;`,
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

function rootedJoin(root: string, p: string): string {
  // session paths start with a placeholder the remote shell expands; they are never under a test root
  return p.startsWith('@') ? p : join(root, p);
}

/** Looks for the VM's channel sockets on the host behind `ssh` (one round trip, two if the status XML names unusual paths). */
export async function discoverRemoteChannels(ssh: SshHost, vmName: string, options: RemoteDiscoverOptions = {}): Promise<RemoteDiscovery> {
  validateVmName(vmName);
  const env = options.env ?? process.env;
  const root = options.root ?? env.QKS_CHANNEL_ROOT ?? '/';
  const mode = options.mode ?? 'system';
  const channels = options.channels ?? AGENT_CHANNELS;
  const { stateDirs, libDir } = mode === 'session' ? libvirtQemuDirs('session', { HOME: '@HOME@', XDG_RUNTIME_DIR: '@RUNTIME@' }) : libvirtQemuDirs('system');
  const at = (p: string) => rootedJoin(root, p);
  const target = at(join(libDir, 'channel/target'));
  const fixed = channels.flatMap((ch) => [join(target, `domain-${vmName}`, ch), join(target, `${vmName}.${ch}`)]);
  const items = [
    ...channels.map((c) => `C:${c}`),
    ...stateDirs.map((sd) => `X:${at(join(sd, `${vmName}.xml`))}`),
    ...stateDirs.map((sd) => `L:${at(join(sd, 'channel'))}`),
    `L:${target}`,
    ...fixed.map((p) => `T:${p}`),
  ];
  const boundary = `--qks-${randomBytes(8).toString('hex')}--`;
  const r = await ssh.exec(SCRIPT, [boundary, vmName, shortName(vmName), ...items], options.signal);
  const scan = parseScanOutput(r.stdout, boundary);

  // the live status XML names the exact paths; test any the scan did not reach
  const live = scan.xml[0] ? parseStatusXml(scan.xml[0].text) : { channels: [] };
  const xmlPaths = live.channels.filter((c) => channels.includes(c.name)).map((c) => ({ ...c, path: at(c.path) }));
  const untested = xmlPaths.filter((c) => !scan.tested.has(c.path)).map((c) => c.path);
  if (untested.length) {
    const more = parseScanOutput((await ssh.exec(SCRIPT, [boundary, vmName, shortName(vmName), ...untested.map((p) => `T:${p}`)], options.signal)).stdout, boundary);
    for (const [p, a] of more.tested) scan.tested.set(p, a);
    scan.denied.push(...more.denied);
  }

  // the candidates in local discovery's order: status XML, id dirs (live id first, then highest), named dir, flat file
  const liveId = 'id' in live ? live.id : undefined;
  const idDirs: { dir: string; source: ChannelSource; id: number }[] = [];
  for (const e of scan.entries) {
    const base = e.slice(e.lastIndexOf('/') + 1);
    const parent = e.slice(0, e.lastIndexOf('/'));
    const m = parent === target ? /^domain-(\d+)-(.+)$/.exec(base) : /^(\d+)-(.+)$/.exec(base);
    if (m && matchesShortName(m[2]!, vmName)) idDirs.push({ dir: e, source: parent === target ? 'lib-dir-id' : 'state-dir', id: Number(m[1]) });
  }
  const order: ChannelSource[] = ['state-dir', 'lib-dir-id'];
  idDirs.sort((a, b) => order.indexOf(a.source) - order.indexOf(b.source) || (b.id === liveId ? 1 : 0) - (a.id === liveId ? 1 : 0) || b.id - a.id);

  const candidates: ChannelSocket[] = [];
  for (const ch of channels) {
    for (const c of xmlPaths.filter((x) => x.name === ch)) candidates.push({ path: c.path, channel: ch, source: 'status-xml', ...(liveId !== undefined ? { domainId: liveId } : {}) });
    for (const d of idDirs) candidates.push({ path: join(d.dir, ch), channel: ch, source: d.source, domainId: d.id });
    candidates.push({ path: join(target, `domain-${vmName}`, ch), channel: ch, source: 'lib-dir-name' });
    candidates.push({ path: join(target, `${vmName}.${ch}`), channel: ch, source: 'lib-flat' });
  }
  const seen = new Set<string>();
  const unique = candidates.filter((c) => (seen.has(c.path) ? false : (seen.add(c.path), true)));
  return {
    via: ssh.via,
    sockets: unique.filter((c) => scan.tested.get(c.path) === 'ok'),
    forbidden: unique.filter((c) => scan.tested.get(c.path) === 'perm'),
    searched: [...new Set([...stateDirs.map((sd) => at(join(sd, `${vmName}.xml`))), ...unique.map((c) => c.path)])],
    denied: [...new Set(scan.denied)],
  };
}

/** The error for a discovery that found nothing usable, naming the host. */
export function remoteDiscoveryError(d: RemoteDiscovery, vmName: string): QksError {
  if (d.forbidden.length || d.denied.length) {
    const what = d.forbidden.length ? d.forbidden.map((s) => s.path) : d.denied;
    return new QksError('SOCKET_PERMISSION', `on ${d.via}: the SSH user may not open the agent socket of ${vmName} (${what.join(', ')})`, {
      hint: 'Log in as root (qemu+ssh://root@host/system) or as a member of the qemu group (libvirt-qemu on Debian): the socket is opened by sshd as the SSH user.',
      details: { host: d.via, vmName, forbidden: d.forbidden.map((s) => s.path), denied: d.denied },
    });
  }
  return new QksError('SOCKET_NOT_FOUND', `on ${d.via}: no guest-agent channel socket found for VM ${vmName}`, {
    hint: 'The VM is not running there, has another name, or has no guest-agent channel (add org.qemu.guest_agent.1).',
    details: { host: d.via, vmName, searched: d.searched },
  });
}
