/**
 * Maps what can go wrong on the agent path to QksErrors with their hints, in one place, so the direct
 * transport, the client and the CLI say the same thing about the same failure.
 */
import { QksError, type ErrorCode } from '../errors.js';
import { DEDICATED_CHANNEL } from '../libvirt/channel-names.js';

export const PERMISSION_HINT =
  'The channel sockets belong to the qemu user (libvirt-qemu on Debian, qemu on RHEL): run as root or as a member of that group. ' +
  'Members of the "libvirt" group go through libvirtd instead: --transport libvirt.';

const PEER_HINT = 'The peer is not behaving like qemu-ga; check what listens on the socket.';

/** A failed connect() on the agent's unix socket. */
export function connectError(err: NodeJS.ErrnoException, socketPath: string): QksError {
  const details = { socketPath, errno: err.code };
  switch (err.code) {
    case 'ENOENT':
      return new QksError('SOCKET_NOT_FOUND', `no guest-agent socket at ${socketPath}`, {
        hint: 'The VM is not running, or it has no guest-agent channel; check --socket / --vm-name and LIBVIRT_URI.',
        details,
        cause: err,
      });
    case 'ECONNREFUSED':
      return new QksError('SOCKET_NOT_FOUND', `nothing listens on ${socketPath} (a stale socket)`, {
        hint: 'The VM is not running (or QEMU exited); start it and try again.',
        details,
        cause: err,
      });
    case 'ENOTSOCK':
      return new QksError('SOCKET_NOT_FOUND', `${socketPath} is not a socket`, { hint: 'Point --socket at the channel socket itself.', details, cause: err });
    case 'EACCES':
    case 'EPERM':
      return new QksError('SOCKET_PERMISSION', `permission denied opening ${socketPath}`, { hint: PERMISSION_HINT, details, cause: err });
    case 'EAGAIN':
      return heldError(socketPath, undefined, 0, 'its listen queue is full (other clients are queued on it)', { errno: err.code });
    default:
      return new QksError('AGENT_DISCONNECTED', `cannot connect to ${socketPath}: ${err.message}`, { details, cause: err });
  }
}

/** The socket accepted us but nothing answered the handshake: most often another client holds it. */
export function heldError(socketPath: string, channel: string | undefined, timeoutMs: number, why?: string, extra: Record<string, unknown> = {}): QksError {
  const dedicated = channel === DEDICATED_CHANNEL;
  const waited = `${(timeoutMs / 1000).toFixed(timeoutMs % 1000 ? 1 : 0)} s`;
  return new QksError(
    'SOCKET_HELD',
    why
      ? `the guest-agent socket ${socketPath} does not accept clients: ${why}`
      : `no answer within ${waited} from the guest agent on ${socketPath}: the socket is held by another client (e.g. libvirt), or the agent is not running in the guest`,
    {
      hint: dedicated
        ? 'Check that the qemu-guest-agent-kubesolo service runs in the guest, and that no other client keeps this socket open.'
        : `libvirt keeps the standard channel open: use the dedicated channel ${DEDICATED_CHANNEL} (its own socket and qemu-ga instance), or --transport libvirt.`,
      details: { socketPath, ...(channel ? { channel } : {}), timeoutMs, ...extra },
    },
  );
}

/**
 * Our turn on the socket did not come: another qemu-kubesolo process (or caller in this process)
 * is using it. Distinct from SOCKET_HELD (a client that is not us, e.g. libvirt on .0).
 */
export function busyError(socketPath: string, timeoutMs: number, holder?: { pid: number; verb: string; since: number }, why?: string): QksError {
  const who = holder
    ? holder.pid === process.pid
      ? 'another caller in this process'
      : `qemu-kubesolo process ${holder.pid} (${holder.verb})${holder.since ? `, using it for ${Math.max(0, Math.round((Date.now() - holder.since) / 1000))} s` : ''}`
    : 'another qemu-kubesolo process';
  return new QksError(
    'SOCKET_BUSY',
    why ? `the guest-agent socket ${socketPath}: ${why}` : `the guest-agent socket ${socketPath} is busy: ${who}; waited ${(timeoutMs / 1000).toFixed(timeoutMs % 1000 ? 1 : 0)} s for our turn`,
    {
      hint: 'The agent serves one client at a time and our callers take turns; wait for the other one to finish, or raise --timeout.',
      details: { socketPath, timeoutMs, ...(holder ? { holderPid: holder.pid, holderVerb: holder.verb } : {}) },
    },
  );
}

/** An `{"error": {...}}` reply, classified. */
/** The agent's `error` member (./messages.ts AgentError checks it); typed here so this file imports nothing back. */
export interface AgentErrorBody {
  class: string;
  desc: string;
}

export function agentReplyError(command: string, body: AgentErrorBody): QksError {
  const details = { command, class: body.class, desc: body.desc };
  if (body.class === 'CommandNotFound' && /disabled/i.test(body.desc)) {
    return new QksError('COMMAND_DISABLED', `the guest agent has ${command} disabled`, {
      hint: 'The guest blocks this command (qemu-ga --block-rpcs / allow-rpcs, common on RHEL guests); enable it in the guest, or use the other retrieval method.',
      details,
    });
  }
  if (body.class === 'CommandNotFound') {
    return new QksError('COMMAND_FAILED', `the guest agent does not know ${command}`, { hint: 'The guest runs an older qemu-ga; see `agent info` for what it supports.', details });
  }
  return new QksError('COMMAND_FAILED', `${command} failed in the guest: ${body.desc}`, { details });
}

export function protocolError(message: string, details: Record<string, unknown> = {}): QksError {
  return new QksError('PROTOCOL_ERROR', message, { hint: PEER_HINT, details });
}

export function disconnectedError(socketPath: string | undefined, during: string): QksError {
  return new QksError('AGENT_DISCONNECTED', `the guest agent closed the connection${socketPath ? ` on ${socketPath}` : ''} during ${during}`, {
    hint: 'The agent restarted or the VM stopped; try again.',
    details: socketPath ? { socketPath } : {},
  });
}

export function timeoutError(what: string, timeoutMs: number, details: Record<string, unknown> = {}): QksError {
  return new QksError('AGENT_TIMEOUT', `no answer to ${what} within ${timeoutMs} ms`, {
    hint: 'The agent in the guest is busy or stuck; try again, or raise --timeout.',
    details: { ...details, timeoutMs },
  });
}

/** How a guest file was looked for; the hint says what to do (the kubeconfig path names Kubesolo). */
export interface GuestFileContext {
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** A file that is not (yet) in the guest, whether read by the agent (file or exec) or over SSH. */
export function guestFileNotFound(path: string, ctx: GuestFileContext = {}): QksError {
  return new QksError('GUEST_FILE_NOT_FOUND', `${path} does not exist in the guest (yet)`, {
    hint: ctx.hint ?? 'If the guest is still booting or installing, wait (kubeconfig --wait retries this).',
    details: { path, ...ctx.details },
    cause: ctx.cause,
  });
}

/** A guest file the reader may not open: `who` is the agent or the SSH user. */
export function guestFilePermission(path: string, who: string, ctx: GuestFileContext = {}): QksError {
  return new QksError('GUEST_FILE_PERMISSION', `${who} may not read ${path}`, {
    hint: ctx.hint ?? 'qemu-ga runs without root in this guest, or SELinux confines it; run it as root.',
    details: { path, ...ctx.details },
    cause: ctx.cause,
  });
}

/** A guest file past the read's bound: refused whole rather than cut. */
export function guestFileTooLarge(path: string, maxBytes: number, ctx: GuestFileContext = {}): QksError {
  return new QksError('GUEST_FILE_TOO_LARGE', `${path} in the guest is larger than ${maxBytes} bytes`, {
    hint: ctx.hint ?? 'Raise maxBytes (--max-bytes) if the file really is that large.',
    details: { path, maxBytes, ...ctx.details },
    cause: ctx.cause,
  });
}

/** One way to the agent that was tried, and how it failed. */
export interface AttemptFailure {
  label: string;
  code: ErrorCode;
  message: string;
}

/**
 * Every way to the agent failed: the most telling failure's code and hint (`main`), each attempt on a
 * line. Each line carries its code, except a last line whose code is the error's own: the CLI prints
 * that one after the message ("... [VM_NOT_FOUND]"), and twice in a row reads as a stutter.
 */
export function unreachableError(vmName: string | undefined, main: QksError, attempts: AttemptFailure[], retryable: boolean): QksError {
  const lines = attempts.map((a, i) => `  - ${a.label}: ${a.message}${i === attempts.length - 1 && a.code === main.code ? '' : ` [${a.code}]`}`);
  return new QksError(main.code, `could not reach the guest agent${vmName ? ` of ${vmName}` : ''}; tried:\n${lines.join('\n')}`, {
    ...(main.hint ? { hint: main.hint } : {}),
    retryable,
    details: { attempts },
  });
}

// choosing a way to the agent (src/agent/connect.ts)

/** Local discovery found no socket because it may not look (the channel directories are the qemu user's). */
export function channelSocketsDenied(vmName: string, denied: string[]): QksError {
  return new QksError('SOCKET_PERMISSION', `cannot look for the agent sockets of ${vmName}: permission denied on ${denied.join(', ')}`, {
    hint: PERMISSION_HINT,
    details: { vmName, denied },
  });
}

/** Local discovery looked everywhere libvirt puts channel sockets and found none for the VM. */
export function noChannelSocket(vmName: string, uri: string, searched: string[]): QksError {
  return new QksError('SOCKET_NOT_FOUND', `no guest-agent channel socket found for VM ${vmName} (${uri})`, {
    hint: `The VM is not running, has another name, or has no guest-agent channel (add ${DEDICATED_CHANNEL}); or pass --socket PATH.`,
    details: { vmName, searched },
  });
}

export function noAgentTarget(): QksError {
  return new QksError('USAGE', 'no guest-agent socket given: pass --socket PATH or --vm-name NAME', {
    hint: 'e.g. --vm-name kubesolo (with LIBVIRT_URI for the hypervisor), or --socket /path/to/org.qemu.guest_agent.1',
  });
}

export function directCannotReachTls(uri: string): QksError {
  return new QksError('USAGE', `--transport direct cannot reach ${uri}: a TLS URI reaches libvirtd, not the channel sockets`, {
    hint: 'Use --transport auto or libvirt with qemu+tls, or qemu+ssh://HOST/system for the dedicated channel.',
  });
}

/** The --transport and the URI leave no candidate (the libvirt transport turned off, a direct-only remote). */
export function noWayToAgent(vmName: string, transport: string, uri: string): QksError {
  return new QksError('USAGE', `no way to reach the agent of ${vmName} with --transport ${transport} and ${uri}`, {
    hint: transport === 'libvirt' ? 'The libvirt transport is turned off here; use --transport direct.' : 'Use a local URI (qemu:///system or qemu:///session) or --socket.',
  });
}

/** agentCandidates() without a pool for candidates whose SSH connection must outlive the call. */
export function candidatesNeedSshPool(): QksError {
  return new QksError('USAGE', 'agentCandidates() for a qemu+ssh URI needs options.sshPool: its candidates use an SSH connection that outlives the call', {
    hint: 'Pass an SshPool and close it when done, or use openAgent().',
  });
}

/** One operation's whole budget (a file read's steps, an exec and its polling) ran out. */
export function operationTimeout(what: string, totalMs: number): QksError {
  return new QksError('AGENT_TIMEOUT', `${what} did not finish within ${totalMs} ms`, { hint: 'The guest is slow or the command hangs; raise --timeout.', details: { timeoutMs: totalMs } });
}

/** `cat PATH` run by guest-exec ended otherwise than exit 0 (and not for a missing file). */
export function guestCatFailed(path: string, exit: string, r: { exitCode?: number | undefined; signal?: number | undefined }, stderr: string): QksError {
  return new QksError('COMMAND_FAILED', `cat ${path} failed in the guest (${exit})${stderr ? `: ${stderr}` : ''}`, {
    details: { path, exitCode: r.exitCode, ...(r.signal !== undefined ? { signal: r.signal } : {}), stderr },
  });
}
