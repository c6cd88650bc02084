/**
 * The kubeconfig path's errors, one factory per case, so the agent and SSH reads and the parser say the
 * same thing about the same failure. Guest-file cases are the agent's (src/agent/errors.ts) with the
 * hints below: here the file is Kubesolo's.
 */
import { QksError } from '../errors.js';
import { guestFileNotFound, guestFilePermission, type GuestFileContext } from '../agent/errors.js';

const CHECK_REMOTE_PATH = 'Check the file in the guest (--remote-path) is the Kubesolo admin kubeconfig; nothing was written.';

/** Bytes that are no kubeconfig: `message` follows "the retrieved kubeconfig". */
export function kubeconfigInvalid(message: string, opts: { retryable?: boolean; details?: Record<string, unknown> } = {}): QksError {
  return new QksError('KUBECONFIG_INVALID', `the retrieved kubeconfig ${message}`, {
    hint: opts.retryable ? 'Kubesolo may still be writing it; run again (or use --wait).' : CHECK_REMOTE_PATH,
    retryable: opts.retryable ?? false,
    details: opts.details,
  });
}

/** Past the kubeconfig bound, however it was read (agent, SSH, bytes handed to the parser). */
export function kubeconfigTooLarge(maxBytes: number, bytes?: number): QksError {
  return kubeconfigInvalid(`is larger than ${maxBytes} bytes: not a kubeconfig`, { details: { ...(bytes !== undefined ? { bytes } : {}), maxBytes } });
}

/** Kubesolo has not written its kubeconfig yet. */
export function kubeconfigNotYet(path: string, ctx: Omit<GuestFileContext, 'hint'> = {}): QksError {
  return guestFileNotFound(path, {
    ...ctx,
    hint: 'Kubesolo writes it when it has started (2-3 minutes after boot); use --wait, or check /var/log/kubesolo.err in the guest.',
  });
}

/** The reader (`who`: the guest agent, the SSH user) may not read the kubeconfig. */
export function kubeconfigDenied(path: string, who: string, hint: string, ctx: Omit<GuestFileContext, 'hint'> = {}): QksError {
  return guestFilePermission(path, who, { ...ctx, hint });
}
