/**
 * Pure ssh argument building, shared by every SSH use: `kubeconfig --method ssh` (src/kubeconfig/ssh.ts),
 * the qemu+ssh hop (src/remote/) and doctor's hop check. Nothing here spawns or reads a file.
 *
 * ssh keeps the FIRST value it sees for each option, so the caller's `-o` options come first (they
 * win over ours), and ours come before the user's ssh_config (which ssh reads after the command line).
 */
import { shellQuote } from '../shell.js';

/** Where to connect and as whom; the rest comes from the user's ssh config. */
export interface SshDestination {
  host: string;
  user?: string;
  port?: number;
  /** `-i FILE` (libvirt's `keyfile=`, kubeconfig's `--ssh-key`). */
  keyfile?: string;
  /** Offer only `keyfile` (IdentitiesOnly=yes). */
  identitiesOnly?: boolean;
  /**
   * Host key policy: `config` leaves it to ssh_config (known_hosts, strict unless configured),
   * `accept-new` trusts a first-seen key and refuses a changed one (a fresh VM), `no` skips the check
   * (libvirt's `no_verify=1`, StrictHostKeyChecking=no exactly as libvirt does).
   */
  hostKey?: 'config' | 'accept-new' | 'no';
  /** Extra `-o Key=Value` options, first so they win. */
  options?: readonly string[];
}

export interface SshArgsOptions {
  /** An ssh_config used instead of ~/.ssh/config (`-F`). Default: env QKS_SSH_CONFIG, else ssh's own. */
  configFile?: string;
  /** ssh's ConnectTimeout (TCP connect + banner), seconds. */
  connectTimeoutSec: number;
  /** ssh's LogLevel (ERROR keeps warnings out of stderr). Default: ssh's own. */
  logLevel?: string;
}

/** The options every invocation gets (no host, no command). */
export function sshBaseArgs(dest: SshDestination, opts: SshArgsOptions, env: NodeJS.ProcessEnv = process.env): string[] {
  const config = opts.configFile ?? env.QKS_SSH_CONFIG;
  const args: string[] = [...(config ? ['-F', config] : [])];
  for (const o of dest.options ?? []) args.push('-o', o);
  args.push(
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${opts.connectTimeoutSec}`,
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-o', 'ForwardAgent=no',
    '-o', 'ForwardX11=no',
    '-o', 'RequestTTY=no',
  );
  if (dest.hostKey === 'no') args.push('-o', 'StrictHostKeyChecking=no');
  else if (dest.hostKey === 'accept-new') args.push('-o', 'StrictHostKeyChecking=accept-new');
  if (opts.logLevel) args.push('-o', `LogLevel=${opts.logLevel}`);
  if (dest.port) args.push('-p', String(dest.port));
  if (dest.user) args.push('-l', dest.user);
  if (dest.keyfile) args.push('-i', dest.keyfile, ...(dest.identitiesOnly ? ['-o', 'IdentitiesOnly=yes'] : []));
  return args;
}

/** `user@host:port`, for messages and TransportInfo.via. */
export function describeDestination(d: Pick<SshDestination, 'host' | 'user' | 'port'>): string {
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  return `${d.user ? `${d.user}@` : ''}${host}${d.port ? `:${d.port}` : ''}`;
}

/** A remote command line: `sh -c SCRIPT qks ARG...`, every word quoted (ssh hands it to the login shell). */
export function remoteCommand(script: string, args: readonly string[] = []): string {
  return ['sh', '-c', script, 'qks', ...args].map(shellQuote).join(' ');
}
