/**
 * libvirt's errors (virErrorNumber, libvirt include/libvirt/virterror.h) as the project's QksErrors.
 * Pure: a decoded remote_error and what we were doing in, one QksError out.
 */
import { QksError } from '../../errors.js';
import { agentReplyError } from '../errors.js';

/** The virErrorNumber values we tell apart. */
export const VirErr = {
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  INVALID_ARG: 8,
  OPERATION_DENIED: 29,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  AUTH_FAILED: 45,
  OPERATION_INVALID: 55,
  OPERATION_TIMEOUT: 68,
  ARGUMENT_UNSUPPORTED: 74,
  AUTH_CANCELLED: 79,
  AGENT_UNRESPONSIVE: 86,
  ACCESS_DENIED: 88,
  AUTH_UNAVAILABLE: 94,
} as const;

export const LIBVIRT_AUTH_HINT = 'Join the libvirt group (usermod -aG libvirt USER, then log in again), or run as root.';

export interface ErrorContext {
  /** The libvirt call that failed, e.g. "AUTH_POLKIT" or "guest-file-read". */
  operation: string;
  uri?: string;
  domain?: string;
  /** The guest-agent command, for DOMAIN_AGENT_COMMAND. */
  command?: string;
}

/** "unable to execute QEMU agent command 'guest-exec': Command guest-exec has been disabled" */
const AGENT_FAILURE_RE = /unable to execute QEMU agent command '([^']*)'(?::\s*([\s\S]*))?$/;

/** What libvirtErrorToQks reads of libvirtd's remote_error (./protocol.ts RemoteError), typed here so this file imports nothing back. */
export interface RemoteErrorFields {
  code: number;
  domain: number;
  message: string | null;
}

export function libvirtErrorToQks(e: RemoteErrorFields, ctx: ErrorContext): QksError {
  const msg = e.message ?? `libvirt error ${e.code}`;
  const details = { libvirtCode: e.code, libvirtDomain: e.domain, libvirtMessage: msg, operation: ctx.operation, ...(ctx.uri ? { uri: ctx.uri } : {}), ...(ctx.domain ? { domain: ctx.domain } : {}) };
  const vm = ctx.domain ? `"${ctx.domain}"` : 'the domain';
  switch (e.code) {
    case VirErr.NO_DOMAIN:
      return new QksError('VM_NOT_FOUND', `libvirt has no domain ${vm} (${ctx.uri ?? 'qemu:///system'}): ${msg}`, {
        hint: 'Check the VM name (virsh list --all), and the URI: a VM of qemu:///session is not in qemu:///system.',
        details,
      });
    case VirErr.OPERATION_INVALID:
      if (/not running/i.test(msg)) {
        return new QksError('VM_NOT_FOUND', `domain ${vm} is not running: ${msg}`, { hint: 'Start the VM (virsh start NAME) and try again, or use --wait.', details });
      }
      break;
    case VirErr.AGENT_UNRESPONSIVE:
      if (/not connected/i.test(msg)) {
        return new QksError('AGENT_NOT_CONNECTED', `the guest agent of ${vm} is not connected: ${msg}`, {
          hint: 'qemu-ga is not running in the guest yet (still booting?) or not installed; --wait retries until it connects.',
          details,
        });
      }
      if (/disappeared/i.test(msg)) return new QksError('AGENT_DISCONNECTED', `the guest agent of ${vm} went away: ${msg}`, { hint: 'The guest agent restarted or the VM is shutting down; try again.', details });
      return new QksError('AGENT_TIMEOUT', `the guest agent of ${vm} did not answer in time: ${msg}`, { hint: 'The guest may be busy or qemu-ga hung; try again with a longer --timeout.', details });
    case VirErr.ARGUMENT_UNSUPPORTED:
      if (/agent is not configured/i.test(msg)) {
        return new QksError('AGENT_NOT_CONNECTED', `domain ${vm} has no guest-agent channel: ${msg}`, {
          retryable: false,
          hint: "Add a virtio channel named org.qemu.guest_agent.0 to the domain (and install qemu-ga in the guest).",
          details,
        });
      }
      break;
    case VirErr.OPERATION_TIMEOUT:
      return new QksError('AGENT_TIMEOUT', `libvirt timed out for ${vm}: ${msg}`, { hint: 'Another job holds the domain; try again.', details });
    case VirErr.AUTH_FAILED:
    case VirErr.AUTH_CANCELLED:
    case VirErr.AUTH_UNAVAILABLE:
    case VirErr.ACCESS_DENIED:
    case VirErr.OPERATION_DENIED:
      return new QksError('LIBVIRT_AUTH', `libvirtd refused access (${ctx.operation}): ${msg}`, { hint: LIBVIRT_AUTH_HINT, details });
    case VirErr.INTERNAL_ERROR: {
      const m = AGENT_FAILURE_RE.exec(msg);
      if (m) return agentFailure(m[1] ?? ctx.command ?? '', m[2]?.trim() ?? msg, details);
      break;
    }
  }
  return new QksError('LIBVIRT_ERROR', `libvirt error (${ctx.operation}): ${msg}`, {
    hint: 'See the libvirtd log (journalctl -u libvirtd, or /var/log/libvirt/) for more.',
    details,
  });
}

/**
 * libvirt passes the agent's error on as text, without its class: recover the class from qemu-ga's
 * wording ("Command X has been disabled" and "The command X has not been found" are CommandNotFound)
 * so the direct transport's classification applies unchanged.
 */
function agentFailure(command: string, desc: string, details: Record<string, unknown>): QksError {
  const cls = /has been disabled|has not been found/i.test(desc) ? 'CommandNotFound' : 'GenericError';
  const e = agentReplyError(command, { class: cls, desc });
  return new QksError(e.code, e.message, { ...(e.hint ? { hint: e.hint } : {}), retryable: e.retryable, details: { ...details, ...e.details } });
}

// The session and transport's own cases (no libvirt error in hand): one factory each.

/** A frame or an XDR field that cannot be libvirt's (src/agent/libvirt-rpc/framing.ts and xdr.ts). */
export function malformedMessage(what: string): QksError {
  return new QksError('PROTOCOL_ERROR', `libvirtd sent a malformed message: ${what}`, {
    hint: "Check that the socket is libvirtd's RPC socket (libvirt-sock or virtqemud-sock).",
  });
}

/** A failed connect() on libvirtd's socket. ENOENT/ECONNREFUSED: LIBVIRT_NOT_RUNNING; EACCES: LIBVIRT_AUTH. */
export function socketConnectError(socketPath: string, e: NodeJS.ErrnoException): QksError {
  const details = { socketPath, errno: e.code };
  switch (e.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new QksError('LIBVIRT_NOT_RUNNING', `libvirtd is not running: ${socketPath}: ${e.code === 'ENOENT' ? 'no such socket' : 'connection refused'}`, {
        hint: 'Start libvirtd (systemctl start libvirtd, or virtqemud on modular hosts), or give the socket with ?socket= in --libvirt-uri.',
        details,
        cause: e,
      });
    case 'EACCES':
    case 'EPERM':
      return new QksError('LIBVIRT_AUTH', `permission denied opening libvirtd's socket ${socketPath}`, { hint: LIBVIRT_AUTH_HINT, details, cause: e });
    default:
      return new QksError('LIBVIRT_ERROR', `cannot connect to libvirtd's socket ${socketPath}: ${e.message}`, { details, cause: e, retryable: true });
  }
}

/** None of libvirtd's sockets answered: `tried` says why each did not (absent, refused). */
export function libvirtdNotRunning(tried: string[], paths: string[], hint: string | undefined): QksError {
  return new QksError('LIBVIRT_NOT_RUNNING', `libvirtd is not running: tried ${tried.join(', ')}`, { hint, details: { tried: paths } });
}

export function connectTimeout(socketPath: string, timeoutMs: number): QksError {
  return new QksError('LIBVIRT_TIMEOUT', `libvirtd socket ${socketPath} did not accept the connection within ${timeoutMs} ms`, {
    hint: 'libvirtd is overloaded or hung; check it (systemctl status libvirtd).',
  });
}

/** An open session's stream failed (a reset, an SSH hop that died). */
export function sessionError(socketPath: string, e: NodeJS.ErrnoException): QksError {
  return new QksError('LIBVIRT_ERROR', `libvirtd socket ${socketPath}: ${e.message}`, { retryable: true, cause: e });
}

/** libvirtd (or the hop carrying its RPC) ended the stream. */
export function sessionClosedByPeer(socketPath: string): QksError {
  return new QksError('LIBVIRT_ERROR', `libvirtd closed the connection on ${socketPath}`, { retryable: true, hint: 'libvirtd may have restarted; try again.' });
}

/** Our side closed the session while calls were pending. */
export function sessionClosed(): QksError {
  return new QksError('LIBVIRT_ERROR', 'the libvirt session was closed', { retryable: true });
}

/** A call unanswered within its bound: an agent command (`command` set) is the agent's timeout, anything else libvirtd's. */
export function callTimeout(context: ErrorContext, timeoutMs: number): QksError {
  const { operation, domain, command } = context;
  if (command) {
    return new QksError('AGENT_TIMEOUT', `no answer from the guest agent${domain ? ` of "${domain}"` : ''} through libvirtd within ${timeoutMs} ms (${command})`, {
      hint: 'The guest may be busy or its agent hung; try again with a longer --timeout.',
      details: { operation, command, timeoutMs },
    });
  }
  return new QksError('LIBVIRT_TIMEOUT', `libvirtd did not answer ${operation} within ${timeoutMs} ms`, {
    hint: 'libvirtd is overloaded or hung, or polkit is slow to answer; check them.',
    details: { operation, timeoutMs },
  });
}

export function polkitIncomplete(): QksError {
  return new QksError('LIBVIRT_AUTH', 'libvirtd did not complete polkit authentication', { hint: LIBVIRT_AUTH_HINT });
}

/** The daemon offers only authentication we do not speak (SASL), over any carrier (local, SSH, TLS). */
export function saslNotSupported(types: number[]): QksError {
  return new QksError('LIBVIRT_AUTH', `libvirtd asks for authentication this tool does not speak (types ${types.join(', ')}: SASL)`, {
    hint: `${LIBVIRT_AUTH_HINT} SASL (auth_unix_rw = "sasl") is not supported.`,
    details: { authTypes: types },
  });
}

/** DOMAIN_LOOKUP_BY_NAME found the domain with no id: defined, not running. */
export function domainNotRunning(domain: string, uri: string): QksError {
  return new QksError('VM_NOT_FOUND', `domain "${domain}" is defined in ${uri} but not running`, {
    hint: 'Start the VM (virsh start NAME) and try again, or use --wait.',
    details: { uri, domain },
  });
}

/** A command on a transport whose close() has begun. */
export function transportClosed(): QksError {
  return new QksError('AGENT_DISCONNECTED', 'the libvirt transport is closed', { retryable: false });
}

/** The agent's reply as libvirt forwarded it is not `{"return": ...}`. */
export function unexpectedReply(command: string, why: string, result: string | null): QksError {
  return new QksError('PROTOCOL_ERROR', `unexpected reply to ${command} through libvirtd: ${why}`, { details: { command, reply: result?.slice(0, 200) } });
}

/** openLibvirtTransport() speaks to a local socket; remote URIs are carried by openAgent. */
export function remoteUriNeedsCarrier(uri: string): QksError {
  return new QksError('USAGE', `${uri} is a remote URI: open it through openAgent (src/agent/connect.ts), which carries the RPC over SSH or TLS`, {
    hint: 'Or give the local end of a forwarded libvirtd socket (socketPath).',
  });
}

/** An encoder given a fixed-length field of the wrong length: a bug of ours, never the peer's bytes. */
export function fixedOpaqueLength(got: number, expected: number): QksError {
  return new QksError('INTERNAL', `fixed opaque of ${got} bytes, expected ${expected}`);
}
