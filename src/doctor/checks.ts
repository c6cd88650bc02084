/**
 * The checklist `qemu-kubesolo doctor` runs, in order: what the guide's troubleshooting asks, each line
 * with its fix. To add a check, write a `Check` and add it to CHECKS (one line).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { PERMISSION_HINT } from '../agent/errors.js';
import { selinuxLabelCommands, SELINUX_ISO_TYPE } from '../iso/selinux.js';
import { DEDICATED_CHANNEL, STANDARD_CHANNEL, type ChannelSource } from '../libvirt/channels.js';
import { DEFAULT_REMOTE_PATH } from '../kubeconfig/options.js';
import { parseApiAddress, rewriteServerUrl } from '../kubeconfig/rewrite.js';
import { parseKubeconfig } from '../kubeconfig/schema.js';
import { verifyCluster } from '../kubeconfig/tls.js';
import { probeLibvirt } from '../agent/libvirt-rpc/transport.js';
import { libvirtdSocketCandidates } from '../libvirt/uri.js';
import { isQksError } from '../errors.js';
import { checkSshHop } from '../remote/doctor.js';
import { apiReadyzCheck, nodeReadyCheck } from './checks/api-ready.js';
import { accessFix, parseIdFile } from './identity.js';
import type { DoctorState } from './state.js';
import { skipped, type Check } from './types.js';

const LAYOUTS: Record<ChannelSource, string> = {
  'status-xml': "the domain's live status XML",
  'state-dir': 'libvirt ≥ 9.2 layout (/run/libvirt/qemu/channel/<id>-<name>/)',
  'lib-dir-id': 'libvirt 2016–9.1 layout (/var/lib/libvirt/qemu/channel/target/domain-<id>-<name>/)',
  'lib-dir-name': 'libvirt 2015–2016 layout (/var/lib/libvirt/qemu/channel/target/domain-<name>/)',
  'lib-flat': 'old flat layout (/var/lib/libvirt/qemu/channel/target/<name>.<channel>)',
};

const ADD_CHANNEL_FIX =
  `Add the dedicated channel to the VM (qemu-kubesolo domain-xml / virt-install-args include it): ` +
  `<channel type='unix'><source mode='bind'/><target type='virtio' name='${DEDICATED_CHANNEL}'/></channel>, ` +
  `and run the qemu-guest-agent-kubesolo service in the guest (our cloud-init does).`;

const agentNeeded = (s: DoctorState) => s.agent().then((a) => (a.ok ? undefined : skipped('the agent does not answer (see "agent answering")')));

const identityCheck: Check = {
  id: 'identity',
  title: 'who you are',
  async run(s) {
    const f = await s.identity();
    if (!f.ok) return { status: 'warn', detail: `cannot tell: ${f.error.message}` };
    const id = f.value;
    const who = `${id.user} (uid ${id.uid}; groups ${id.groups.join(', ') || 'none'})`;
    const data = { user: id.user, uid: id.uid, groups: id.groups };
    if (id.root) return { status: 'ok', detail: `${who}: root opens the channel sockets and libvirtd's socket`, data };
    if (id.qemuGroup) return { status: 'ok', detail: `${who}: the ${id.qemuGroup} group opens the channel sockets`, data };
    if (id.libvirtGroup) {
      return {
        status: 'warn',
        detail: `${who}: the libvirt group opens libvirtd's socket, not the channel sockets (those need root or the ${id.hostQemuGroup ?? 'qemu'} group)`,
        fix: 'Use --transport libvirt (through libvirtd), or run as root / join the qemu group for the direct channel.',
        data,
      };
    }
    if (s.options.socket) return { status: 'ok', detail: `${who}: not root nor in a qemu or libvirt group; fine if you own --socket`, data };
    return { status: 'warn', detail: `${who}: neither root nor in the ${id.hostQemuGroup ?? 'qemu'} or libvirt group: libvirt's channel sockets will refuse you`, fix: accessFix(id), data };
  },
};

const channelDirCheck: Check = {
  id: 'channel-dir',
  title: 'channel directory',
  async run(s) {
    if (s.options.socket) return skipped(`--socket ${s.options.socket} given: no discovery needed`);
    if (s.uri.transport !== 'unix') return skipped(`${s.uri.raw} is a remote hypervisor: see "SSH hop"`);
    const d = await s.discovery();
    if (!d.ok) return { status: 'fail', detail: d.error.message, ...(d.error.hint ? { fix: d.error.hint } : {}) };
    const found = d.value!;
    const vm = s.options.vmName!;
    if (found.sockets.length) {
      const first = found.sockets[0]!;
      const dir = dirname(first.path);
      return { status: 'ok', detail: `${dir}/ (${LAYOUTS[first.source]})`, data: { dir, layout: first.source, domainId: first.domainId } };
    }
    if (found.denied.length) {
      const id = await s.identity();
      return {
        status: 'fail',
        detail: `permission denied reading ${found.denied.join(', ')}: the sockets of ${vm} may be there, hidden from you`,
        fix: id.ok ? accessFix(id.value) : PERMISSION_HINT,
        data: { denied: found.denied },
      };
    }
    return {
      status: 'fail',
      detail: `no guest-agent channel socket for VM ${vm} under ${s.uri.raw} (looked in ${found.searched.length} places, e.g. ${found.searched.slice(0, 3).join(', ')})`,
      fix: `Check the VM runs and is named ${vm} (virsh list --all), and that it has guest-agent channels (qemu-kubesolo domain-xml adds ${STANDARD_CHANNEL} and ${DEDICATED_CHANNEL}); or pass --socket PATH.`,
      data: { searched: found.searched },
    };
  },
};

const dedicatedChannelCheck: Check = {
  id: 'dedicated-channel',
  title: 'dedicated channel',
  async run(s) {
    const sockets = await s.sockets();
    if (s.options.socket) {
      const ch = sockets[0]?.channel;
      if (ch === DEDICATED_CHANNEL) return { status: 'ok', detail: `--socket is the dedicated channel ${DEDICATED_CHANNEL}` };
      if (ch === STANDARD_CHANNEL) return { status: 'warn', detail: `--socket is the standard channel ${STANDARD_CHANNEL}, which libvirt holds while the VM runs under it`, fix: ADD_CHANNEL_FIX };
      return skipped(`cannot tell which channel --socket ${s.options.socket} is`);
    }
    if (!sockets.length) return skipped('no channel socket found (see "channel directory")');
    const ded = sockets.find((x) => x.channel === DEDICATED_CHANNEL);
    if (ded) return { status: 'ok', detail: `${DEDICATED_CHANNEL} at ${ded.path}`, data: { path: ded.path } };
    return {
      status: 'warn',
      detail: `only ${STANDARD_CHANNEL}: libvirt keeps that socket open, so direct reads time out while libvirt runs the VM`,
      fix: ADD_CHANNEL_FIX + ' Or use --transport libvirt.',
    };
  },
};

/** `srwxrwxr-x` from a mode. */
function modeString(mode: number): string {
  const t = (mode & 0o170000) === 0o140000 ? 's' : (mode & 0o170000) === 0o040000 ? 'd' : '-';
  const rwx = (b: number) => `${b & 4 ? 'r' : '-'}${b & 2 ? 'w' : '-'}${b & 1 ? 'x' : '-'}`;
  return t + rwx((mode >> 6) & 7) + rwx((mode >> 3) & 7) + rwx(mode & 7);
}

const socketPermissionCheck: Check = {
  id: 'socket-permission',
  title: 'socket permission',
  async run(s) {
    const sockets = await s.sockets();
    if (!sockets.length) return skipped('no channel socket found (see "channel directory")');
    const [passwd, group] = await Promise.all(['/etc/passwd', '/etc/group'].map((p) => readFile(s.at(p), 'utf8').catch(() => '')));
    const users = parseIdFile(passwd!);
    const groups = parseIdFile(group!);
    const lines: string[] = [];
    let denied: string | undefined;
    let missing: string | undefined;
    let usable = 0;
    for (const sock of sockets) {
      const label = sock.channel ? `${sock.channel}: ` : '';
      try {
        const st = await stat(sock.path);
        const owner = `${users.get(st.uid) ?? st.uid}:${groups.get(st.gid) ?? st.gid}`;
        if (!st.isSocket()) {
          lines.push(`${label}${sock.path} is not a socket (${modeString(st.mode)} ${owner})`);
          missing ??= sock.path;
          continue;
        }
        // connect() needs write permission on the socket (and search on its directories)
        await access(sock.path, constants.W_OK).then(
          () => {
            usable++;
            lines.push(`${label}${sock.path} ${modeString(st.mode)} ${owner}, you may connect`);
          },
          () => {
            denied ??= sock.path;
            lines.push(`${label}${sock.path} ${modeString(st.mode)} ${owner}, you may NOT connect`);
          },
        );
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') {
          denied ??= sock.path;
          lines.push(`${label}permission denied reaching ${sock.path}`);
        } else {
          missing ??= sock.path;
          lines.push(`${label}no socket at ${sock.path} (${code})`);
        }
      }
    }
    const detail = lines.join('; ');
    if (usable) return { status: denied || missing ? 'warn' : 'ok', detail };
    if (denied) {
      const id = await s.identity();
      const fix = id.ok ? accessFix(id.value) : PERMISSION_HINT;
      return { status: 'fail', detail, fix: s.options.socket ? `${fix} For a socket of your own making, give your user access to it (owner, group and mode are shown above).` : fix, data: { denied } };
    }
    return {
      status: 'fail',
      detail,
      fix: s.options.socket ? 'The VM is not running, or --socket names the wrong path (QEMU: -chardev socket,path=...,server=on,wait=off).' : 'Start the VM; check its name.',
      data: { missing },
    };
  },
};

const agentCheck: Check = {
  id: 'agent',
  title: 'agent answering',
  async run(s) {
    const a = await s.agent();
    if (a.ok) {
      const t = a.value.client.transportInfo;
      const where = [t.channel, t.socketPath ?? t.uri].filter(Boolean).join(' at ');
      return { status: 'ok', detail: `guest-ping answered over ${t.kind}${where ? ` (${where})` : ''} in ${a.value.ms} ms`, data: { transport: t, ms: a.value.ms } };
    }
    const e = a.error;
    const data = { code: e.code, ...e.details };
    if (e.code === 'SOCKET_HELD') {
      return {
        status: 'fail',
        detail: `${e.message} [SOCKET_HELD]`,
        fix: `${e.hint ?? ''} To see who holds it: ss -xp | grep <socket inode> (libvirtd holds ${STANDARD_CHANNEL} while qemu-ga runs).`.trim(),
        data,
      };
    }
    const fixes: Partial<Record<string, string>> = {
      AGENT_TIMEOUT: 'In the guest: rc-service qemu-guest-agent-kubesolo status (Alpine) / systemctl status qemu-guest-agent; check /var/log/qemu-ga-kubesolo.log.',
      SOCKET_NOT_FOUND: 'Start the VM, or fix --socket / --vm-name.',
    };
    return { status: 'fail', detail: `${e.message} [${e.code}]`, fix: e.hint ?? fixes[e.code] ?? 'Run with --verbose and see the agent client error.', data };
  },
};

/** What the kubeconfig retrieval needs from the agent. */
const FILE_COMMANDS = ['guest-file-open', 'guest-file-read', 'guest-file-close'];
const EXEC_COMMANDS = ['guest-exec', 'guest-exec-status'];
const ENABLE_FIX =
  'In the guest, stop blocking them: RHEL 9.0–9.3 ships FILTER_RPC_ARGS="--allow-rpcs=..." in /etc/sysconfig/qemu-ga (add guest-file-open,guest-file-read,guest-file-close,guest-exec,guest-exec-status, ' +
  'or remove the line) and restart qemu-guest-agent; elsewhere drop them from qemu-ga --block-rpcs / -b.';

const agentCommandsCheck: Check = {
  id: 'agent-commands',
  title: 'guest-file and guest-exec enabled',
  async run(s) {
    const skip = await agentNeeded(s);
    if (skip) return skip;
    const f = await s.info();
    if (!f.ok) return { status: 'fail', detail: `guest-info failed: ${f.error.message} [${f.error.code}]`, ...(f.error.hint ? { fix: f.error.hint } : {}) };
    const { version, commands } = f.value;
    const enabled = (n: string) => commands.some((c) => c.name === n && c.enabled);
    const off = (names: string[]) => names.filter((n) => !enabled(n));
    const fileOff = off(FILE_COMMANDS);
    const execOff = off(EXEC_COMMANDS);
    const data = { version, disabled: [...fileOff, ...execOff] };
    if (!fileOff.length && !execOff.length) return { status: 'ok', detail: `qemu-ga ${version}: guest-file-* and guest-exec* enabled`, data };
    if (!fileOff.length || !execOff.length) {
      const way = fileOff.length ? 'guest-exec of cat' : 'guest-file-read';
      return { status: 'warn', detail: `qemu-ga ${version}: ${[...fileOff, ...execOff].join(', ')} disabled; the kubeconfig can still be read by ${way}`, fix: ENABLE_FIX, data };
    }
    return { status: 'fail', detail: `qemu-ga ${version}: ${[...fileOff, ...execOff].join(', ')} disabled: no way to read the kubeconfig through the agent`, fix: `${ENABLE_FIX} Or use --method ssh.`, data };
  },
};

const kubeconfigCheck: Check = {
  id: 'kubeconfig',
  title: 'kubeconfig in the guest',
  async run(s) {
    const skip = await agentNeeded(s);
    if (skip) return skip;
    const path = s.options.remotePath ?? DEFAULT_REMOTE_PATH;
    const f = await s.kubeconfig();
    if (f.ok) return { status: 'ok', detail: `${path} present (${f.value.length} bytes)`, data: { path, bytes: f.value.length } };
    const e = f.error;
    if (e.code === 'GUEST_FILE_NOT_FOUND') {
      return {
        status: 'fail',
        detail: `${path} does not exist yet`,
        fix: 'Kubesolo writes it 2–3 minutes after first boot: wait (kubeconfig --wait), then check in the guest rc-service kubesolo status and /var/log/kubesolo.log, /var/log/kubesolo.err.',
        data: { path },
      };
    }
    return { status: 'fail', detail: `cannot read ${path}: ${e.message} [${e.code}]`, ...(e.hint ? { fix: e.hint } : {}), data: { path, code: e.code } };
  },
};

const apiReachableCheck: Check = {
  id: 'api-reachable',
  title: 'API server reachable',
  async run(s) {
    const raw = s.apiServer();
    if (!raw) return skipped('no --api-server (or KUBECONFIG_API_ADDRESS) given');
    const addr = parseApiAddress(raw);
    if (!addr) return { status: 'fail', detail: `--api-server (KUBECONFIG_API_ADDRESS) ${JSON.stringify(raw)} is not a host, host:port or https://host:port`, fix: 'e.g. --api-server 10.0.0.50 or --api-server k8s.example.com:6443' };
    const port = addr.port ?? 6443;
    const timeoutMs = s.options.tcpTimeoutMs ?? 2000;
    const target = `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${port}`;
    const started = performance.now();
    const r = await new Promise<{ ok: true } | { ok: false; why: string; code?: string }>((resolve) => {
      const sock = connect({ host: addr.host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        resolve({ ok: false, why: `no answer within ${timeoutMs} ms`, code: 'TIMEOUT' });
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.destroy();
        resolve({ ok: true });
      });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve({ ok: false, why: e.code === 'ECONNREFUSED' ? 'connection refused' : `${e.code ?? ''} ${e.message}`.trim(), ...(e.code ? { code: e.code } : {}) });
      });
    });
    const ms = Math.round(performance.now() - started);
    if (r.ok) return { status: 'ok', detail: `TCP connect to ${target} in ${ms} ms`, data: { host: addr.host, port, ms } };
    const fix =
      r.code === 'ECONNREFUSED'
        ? `Nothing listens on ${target}: Kubesolo is not running there yet, or a NAT/port forward to the VM's 6443 is missing.`
        : `Check the address and the route to it, and that port ${port}/tcp is open (firewall-cmd --permanent --add-port=${port}/tcp; firewall-cmd --reload), then regenerate the kubeconfig with the right --api-server.`;
    return { status: 'fail', detail: `TCP connect to ${target}: ${r.why}`, fix, data: { host: addr.host, port, code: r.code } };
  },
};

const execFileP = promisify(execFile);

/** A file's SELinux context via coreutils stat, else getfattr; undefined when it has none. */
async function readSelinuxContext(path: string): Promise<string | undefined> {
  try {
    const { stdout } = await execFileP('stat', ['-c', '%C', path], { timeout: 5000 });
    const c = stdout.trim();
    if (c && c !== '?') return c;
  } catch {
    // fall through
  }
  try {
    const { stdout } = await execFileP('getfattr', ['--absolute-names', '--only-values', '-n', 'security.selinux', path], { timeout: 5000 });
    return stdout.replace(/\0/g, '').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Types QEMU may read under sVirt: ours, libvirt's image type, and the per-VM label libvirt sets. */
const READABLE_TYPES = [SELINUX_ISO_TYPE, 'virt_image_t', 'svirt_image_t'];

const isoSelinuxCheck: Check = {
  id: 'iso-selinux',
  title: 'ISO SELinux label',
  async run(s) {
    const iso = s.options.iso;
    if (!iso) return skipped('no --iso given');
    try {
      await stat(iso);
    } catch (e) {
      return { status: 'fail', detail: `${iso}: ${(e as NodeJS.ErrnoException).code}`, fix: 'Make it with qemu-kubesolo artifacts --create-iso, or fix --iso.' };
    }
    let enforce: string;
    try {
      enforce = (await readFile(s.at('/sys/fs/selinux/enforce'), 'utf8')).trim();
    } catch {
      return skipped('SELinux is not enabled on this host: no label needed');
    }
    const context = await (s.options.selinuxContext ?? readSelinuxContext)(iso);
    const type = context?.split(':')[2];
    const data = { context, enforcing: enforce === '1' };
    if (type && READABLE_TYPES.includes(type)) return { status: 'ok', detail: `${iso}: ${context}`, data };
    const fix = `Label it (as root): ${selinuxLabelCommands(iso).join(' && ')}`;
    const detail = `${iso}: ${context ?? 'no SELinux context'} — QEMU (svirt) cannot read it unless its type is ${SELINUX_ISO_TYPE}`;
    return enforce === '1' ? { status: 'fail', detail, fix, data } : { status: 'warn', detail: `${detail} (SELinux permissive now)`, fix, data };
  },
};

const sshHopCheck: Check = {
  id: 'ssh-hop',
  title: 'SSH hop to the hypervisor',
  async run(s) {
    if (s.uri.transport !== 'ssh') return skipped(`${s.uri.raw} is local: no SSH hop`);
    const { status, detail, fix, data } = await checkSshHop({ uri: s.uri, ...(s.options.vmName ? { vmName: s.options.vmName } : {}), env: s.env, ...(s.options.signal ? { signal: s.options.signal } : {}) });
    return { status, detail, ...(fix ? { fix } : {}), ...(data ? { data } : {}) };
  },
};

const libvirtdCheck: Check = {
  id: 'libvirtd',
  title: 'libvirtd path (--transport libvirt)',
  async run(s) {
    if (!s.options.vmName || s.options.socket) return skipped('needs --vm-name (the libvirt domain), without --socket');
    if (s.uri.transport !== 'unix') return skipped('run doctor on the hypervisor itself for its libvirtd');
    const candidates = libvirtdSocketCandidates(s.uri, s.env).map((p) => s.at(p));
    const present: string[] = [];
    for (const p of candidates) if (await stat(p).then((st) => st.isSocket(), () => false)) present.push(p);
    if (!present.length) return skipped(`no libvirtd socket (${candidates.join(', ')}): the libvirt transport is not available here`);
    const r = await probeLibvirt({ uri: s.uri.raw, domain: s.options.vmName, socketPath: present[0]!, env: s.env, ...(s.options.handshakeTimeoutMs ? { timeoutMs: s.options.handshakeTimeoutMs } : {}) });
    const data = { socket: r.socketPath ?? present[0], auth: r.auth, agentConnected: r.agentConnected, ms: Math.round(r.ms), ...(r.error ? { code: r.error.code } : {}) };
    if (r.ok) return { status: 'ok', detail: `${data.socket} (auth ${r.auth ?? '?'}): the agent answers through libvirtd in ${data.ms} ms`, data };
    const e = r.error!;
    // the direct path may still work, so a libvirtd problem alone is a warning
    return { status: 'warn', detail: `${data.socket}: ${e.message} [${e.code}]`, ...(e.hint ? { fix: e.hint } : {}), data };
  },
};

const apiCertificateCheck: Check = {
  id: 'api-certificate',
  title: 'API certificate valid for the address',
  async run(s) {
    const raw = s.apiServer();
    if (!raw) return skipped('no --api-server (or KUBECONFIG_API_ADDRESS) given');
    const addr = parseApiAddress(raw);
    if (!addr) return skipped('the address is not valid (see "API server reachable")');
    const kc = await s.kubeconfig();
    if (!kc.ok) return skipped('the kubeconfig cannot be read from the guest (see "kubeconfig in the guest"), so its CA is unknown');
    try {
      const cluster = parseKubeconfig(kc.value).config.clusters[0]!.cluster;
      const server = rewriteServerUrl(cluster.server, addr);
      const r = await verifyCluster({ ...cluster, server }, { rewritten: true, timeoutMs: s.options.tcpTimeoutMs ?? 2000 });
      const data = { server, reason: r.reason, ...(r.tlsServerName ? { tlsServerName: r.tlsServerName } : {}) };
      if (r.reason === 'address-covered' || r.reason === 'server-name-covered') return { status: 'ok', detail: `${server}: ${r.detail}`, data };
      if (r.reason === 'tls-server-name-set') {
        return {
          status: 'warn',
          detail: `${server}: the certificate does not name ${addr.host}; kubectl verifies it only with tls-server-name: ${r.tlsServerName}`,
          fix: `qemu-kubesolo kubeconfig --api-server ${raw} sets tls-server-name for you; or give the address to Kubesolo at first boot: artifacts --api-address ${addr.host}.`,
          data,
        };
      }
      return skipped(`${server}: ${r.detail}`);
    } catch (e) {
      if (!isQksError(e)) throw e;
      return { status: 'fail', detail: `${e.message} [${e.code}]`, ...(e.hint ? { fix: e.hint } : {}), data: { code: e.code } };
    }
  },
};

/** The checklist, in order. Add a check here: one line. */
export const CHECKS: readonly Check[] = [
  identityCheck,
  sshHopCheck,
  channelDirCheck,
  dedicatedChannelCheck,
  socketPermissionCheck,
  agentCheck,
  agentCommandsCheck,
  kubeconfigCheck,
  libvirtdCheck,
  apiReachableCheck,
  apiCertificateCheck,
  apiReadyzCheck, nodeReadyCheck,
  isoSelinuxCheck,
];
