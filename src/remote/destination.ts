/**
 * A qemu+ssh URI as an SSH destination (`qemu+ssh://[user@]host[:port]/system?keyfile=K&no_verify=1`),
 * with the libvirt parameters of its remote helper (proxy=, socket=, netcat=, name=). The SSH work
 * itself is src/ssh/; this file knows only what libvirt's URI means for it.
 */
import { uriInvalid, uriParamsUnsupported } from '../libvirt/errors.js';
import type { LibvirtUri } from '../libvirt/uri.js';
import type { SshDestination, SshHints } from '../ssh/index.js';
import { vmNameInvalid } from './errors.js';

// Host names, IPv4 and IPv6 literals; never starting with '-' (ssh would take it for an option).
const HOST_RE = /^[A-Za-z0-9_][A-Za-z0-9._:%-]*$/;
const USER_RE = /^[A-Za-z0-9_][A-Za-z0-9._@\\$-]*$/;
/** libvirt's ssh-transport parameters we honour (libvirt's uri.html); `command=` (another ssh binary) is refused. */
export const SSH_URI_PARAMS = ['keyfile', 'no_verify', 'no_tty', 'socket', 'mode', 'proxy', 'netcat', 'name'] as const;

const SSH_URI_HINT = 'Use qemu+ssh://[user@]host[:port]/system[?keyfile=PATH].';
const HELPER_HINT = 'proxy=auto|native|netcat; netcat= only with auto or netcat (libvirt uri.html).';

const truthy = (v: string | undefined) => v !== undefined && v !== '0' && v !== '';

/** The SSH destination of a qemu+ssh URI; rejects what ssh could mistake for an option. */
export function sshDestination(uri: LibvirtUri): SshDestination {
  const bad = (why: string) => uriInvalid(uri.raw, why, SSH_URI_HINT);
  if (uri.transport !== 'ssh' || !uri.host) throw bad('not a qemu+ssh URI with a host');
  if (!HOST_RE.test(uri.host)) throw bad(`host ${JSON.stringify(uri.host)} is not a host name or address`);
  if (uri.user !== undefined && !USER_RE.test(uri.user)) throw bad(`user ${JSON.stringify(uri.user)} is not a user name`);
  const unsupported = Object.keys(uri.params).filter((k) => !(SSH_URI_PARAMS as readonly string[]).includes(k));
  if (unsupported.length) throw uriParamsUnsupported(uri.raw, unsupported, 'ssh', SSH_URI_PARAMS, SSH_URI_HINT);
  return {
    host: uri.host,
    ...(uri.user ? { user: uri.user } : {}),
    ...(uri.port ? { port: uri.port } : {}),
    ...(uri.params.keyfile ? { keyfile: uri.params.keyfile } : {}),
    hostKey: truthy(uri.params.no_verify) ? 'no' : 'config',
  };
}

/** What fixes an SSH failure when the destination came from LIBVIRT_URI. */
export function uriSshHints(dest: SshDestination): SshHints {
  const port = dest.port ? `-p ${dest.port} ` : '';
  return {
    'host-key': `Check the key's fingerprint and add it to known_hosts (ssh-keyscan ${port}${dest.host} >> ~/.ssh/known_hosts, or log in once with ssh); no_verify=1 in the URI skips the check as libvirt does.`,
    auth: `Give a key it accepts: keyfile=PATH in the URI, an ssh-agent, or IdentityFile in ~/.ssh/config (install it with ssh-copy-id ${port}${dest.user ? `${dest.user}@` : ''}${dest.host}).`,
    unresolved: 'Check the host name in LIBVIRT_URI.',
  };
}

/** libvirt's `proxy=`: which remote helper carries the RPC (auto: virt-ssh-helper, else netcat). */
export type RemoteProxy = 'auto' | 'native' | 'netcat';

export interface RemoteHelper {
  proxy: RemoteProxy;
  /** `socket=`: libvirtd's socket on the far side (netcat only; virt-ssh-helper finds its own). */
  socket?: string;
  /** `netcat=`: the nc binary on the far side. Default `nc`. */
  netcat: string;
  /** The URI the far side opens (`name=`, else qemu:///<mode>). */
  name: string;
}

/** The remote-helper parameters of a qemu+ssh URI, validated as libvirt does. */
export function remoteHelper(uri: LibvirtUri): RemoteHelper {
  const bad = (why: string) => uriInvalid(uri.raw, why, HELPER_HINT);
  const proxy = (uri.params.proxy ?? 'auto') as RemoteProxy;
  if (!['auto', 'native', 'netcat'].includes(proxy)) throw bad(`proxy=${uri.params.proxy} is not auto, native or netcat`);
  if (proxy === 'native' && uri.params.netcat) throw bad('netcat= is not permitted with proxy=native');
  for (const k of ['socket', 'netcat'] as const) {
    const v = uri.params[k];
    // eslint-disable-next-line no-control-regex
    if (v !== undefined && (!v || /[\x00-\x1f]/.test(v))) throw bad(`${k}= must be a path or command name`);
  }
  if (uri.params.socket && !uri.params.socket.startsWith('/')) throw bad('socket= must be an absolute path');
  const name = uri.params.name ?? `qemu:///${uri.mode}`;
  return { proxy, ...(uri.params.socket ? { socket: uri.params.socket } : {}), netcat: uri.params.netcat ?? 'nc', name };
}

/**
 * libvirt domain names are free text; we refuse only what can never be one and what would make a
 * path ambiguous (`/`, control characters, `.`/`..`; `:` breaks ssh's -L syntax). The rest is quoted.
 */
export function validateVmName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (!name || name.length > 200 || /[/:\x00-\x1f\x7f]/.test(name) || name === '.' || name === '..' || name.startsWith('-')) {
    throw vmNameInvalid(name);
  }
  return name;
}
