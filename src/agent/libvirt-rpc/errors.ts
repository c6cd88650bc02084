/**
 * libvirt's errors (virErrorNumber, libvirt include/libvirt/virterror.h) as the project's QksErrors.
 * Pure: a decoded remote_error and what we were doing in, one QksError out.
 */
import { QksError } from '../../errors.js';
import { agentReplyError } from '../errors.js';
import type { RemoteError } from './protocol.js';

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

export function libvirtErrorToQks(e: RemoteError, ctx: ErrorContext): QksError {
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
