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

/** The retrieved kubeconfig's current context names a cluster or user it does not have (--merge). */
export function kubeconfigContextDangling(context: string): QksError {
  return new QksError('KUBECONFIG_INVALID', `the retrieved kubeconfig's context "${context}" names a cluster or user it does not have`, { hint: CHECK_REMOTE_PATH });
}

/** --ready cannot find where to reach the API server in the kubeconfig: `message` follows "the kubeconfig". */
export function readyEndpointInvalid(message: string): QksError {
  return new QksError('KUBECONFIG_INVALID', `--ready: the kubeconfig ${message}`, { hint: CHECK_REMOTE_PATH });
}

// the API server, as the kubeconfig's own credentials and CA see it (src/kubeconfig/ready.ts, get.ts, tls.ts)

/** The fix for an address this host cannot reach, in one sentence. */
export const UNREACHABLE_HINT =
  'Clients must reach the VM\'s API port: give the address they use to Kubesolo at artifact time (artifacts --api-address) and here (--api-server), ' +
  'open the port in the host\'s and the network\'s firewall, or forward it through NAT (e.g. QEMU hostfwd=tcp::6443-:6443).';

export function apiUnreachable(ep: { host: string; port: number }, why: string): QksError {
  return new QksError('API_UNREACHABLE', `the API server address ${ep.host}:${ep.port} is not reachable from this host (${why})`, {
    hint: UNREACHABLE_HINT,
    details: { host: ep.host, port: ep.port, reason: why },
  });
}

/** 401/403 (or a TLS alert refusing the client certificate): `user` is the kubeconfig's user entry. */
export function apiAuthFailed(ep: { host: string; port: number; user: string }, path: string, detail: string): QksError {
  return new QksError('API_AUTH_FAILED', `the API server at ${ep.host}:${ep.port} refused the credentials of user "${ep.user}" (${detail} on GET ${path})`, {
    hint: 'The client certificate or token is not this cluster\'s (a kubeconfig of another VM, or the cluster was reinstalled): fetch the kubeconfig again.',
    details: { host: ep.host, port: ep.port, path, detail },
  });
}

/** --ready: the server's certificate fails the kubeconfig's CA or name check (`code`: Node's, e.g. CERT_HAS_EXPIRED). */
export function apiCertRejected(ep: { host: string; port: number }, code: string, message: string): QksError {
  return new QksError('TLS_VERIFY_FAILED', `the server at ${ep.host}:${ep.port} presented a certificate the kubeconfig does not accept (${code}: ${message})`, {
    hint: 'That address reaches another server, or the certificate does not name it (tls-server-name). Check --api-server.',
    details: { host: ep.host, port: ep.port, code },
  });
}

/** The address check before writing: the certificate is not from the kubeconfig's CA. */
export function apiCertNotFromCa(host: string, port: number, authorizationError: string | undefined): QksError {
  return new QksError('TLS_VERIFY_FAILED', `the server at ${host}:${port} presented a certificate that the kubeconfig's CA did not issue (${authorizationError ?? 'unverified'})`, {
    hint: 'That address reaches another server, so this kubeconfig would not work there. Check --api-server (or pass --no-verify-server to write it anyway). Nothing was written.',
    details: { host, port, authorizationError },
  });
}

/** The address check before writing: no name in the certificate can serve as tls-server-name. */
export function apiCertNamesNeither(host: string, port: number, subjectaltname: string | undefined): QksError {
  return new QksError('TLS_VERIFY_FAILED', `the API server certificate covers neither ${host} nor any DNS name usable as tls-server-name`, {
    hint: 'Give the address to Kubesolo at first boot (artifacts --api-address), or pass --no-verify-server. Nothing was written.',
    details: { host, port, subjectaltname },
  });
}

/** The readiness stages, as messages name them. */
export const READY_STAGE_NAMES = { tls: 'TLS', readyz: '/readyz', node: 'node Ready' } as const;

/**
 * The API server was not ready within the bound: `where` is the address waited for, `last` what the
 * last attempt saw. One case whether --ready's stages (ready.ts) or --wait's TLS check (get.ts) ran out.
 */
export function apiWaitTimeout(
  where: string,
  stage: keyof typeof READY_STAGE_NAMES,
  last: string,
  timeoutMs: number,
  refusedHint?: string,
): QksError {
  return new QksError('WAIT_TIMEOUT', `gave up after ${Math.round(timeoutMs / 1000)} s waiting for the API server at ${where}: stage ${READY_STAGE_NAMES[stage]}; last: ${last}`, {
    hint:
      stage === 'node'
        ? 'The API server is up but the node is not Ready: check the kubelet in the guest (/var/log/kubesolo.err).'
        : stage === 'readyz'
          ? 'The API server answers but is not ready: check /var/log/kubesolo.err in the guest, or raise --timeout.'
          : `Nothing answered at that address in time.${refusedHint ? ` ${refusedHint}` : ''} Raise --timeout, or check the VM (/var/log/kubesolo.err).`,
    details: { stage, last, timeoutMs },
  });
}

// --merge (src/kubeconfig/merge.ts, merge-file.ts)

export function mergeTargetInvalid(file: string, why: string): QksError {
  return new QksError('MERGE_TARGET_INVALID', `--merge: ${file} is not a kubeconfig: ${why}`, {
    hint: 'Nothing was changed. Merge into another file (--merge FILE), or write a file of its own with --output.',
    details: { path: file },
  });
}

/** `<file>.lock` stayed: `holder` says who, as far as we can tell. */
export function kubeconfigLocked(file: string, lock: string, waitedMs: number, holder: string): QksError {
  return new QksError('KUBECONFIG_LOCKED', `--merge: ${lock} still exists after ${Math.round(waitedMs / 1000)} s: ${holder}`, {
    hint: `kubectl reports the same as "error: open ${lock}: file exists". If no kubectl config command or merge is running, remove ${lock} and run again. ${file} was not changed.`,
    details: { path: file, lock },
  });
}

export function mergeLockDenied(file: string, lock: string, e: Error): QksError {
  return new QksError('OUTPUT_PERMISSION', `--merge: cannot create ${lock}: ${e.message}`, { hint: `Merge into a file in a directory you can write (--merge FILE).`, details: { path: file } });
}

export function mergeTargetUnreadable(path: string, e: Error): QksError {
  return new QksError('OUTPUT_PERMISSION', `--merge: cannot read ${path}: ${e.message}`, { details: { path } });
}

/** The merged text did not read back as exactly the intended change: a bug, and nothing was written. */
/** The server rewrite could not be proven to change only the server fields (a bug of ours). */
export function rewriteNotProven(): QksError {
  return new QksError('INTERNAL', 'could not rewrite the kubeconfig without changing other fields', {
    hint: 'This is a bug in qemu-kubesolo; please report it (without the kubeconfig).',
  });
}

export function mergeNotProven(): QksError {
  return new QksError('INTERNAL', 'could not merge the kubeconfig without changing other entries', {
    hint: 'This is a bug in qemu-kubesolo; please report it (without the kubeconfig). Nothing was changed.',
  });
}

// kubeconfig options that only show up as a problem for this VM (src/kubeconfig/get.ts)

/** A VM named "config" would land on the user's main kubeconfig without an explicit path. */
export function outputIsMainKubeconfig(path: string): QksError {
  return new QksError('CONFIG_INVALID', `--output: the default path for VM "config" is ${path}, the main kubeconfig`, {
    hint: 'Pass --output FILE (or --output-dir DIR) explicitly.',
  });
}

/** `why` follows the quoted name (merge.ts contextNameProblem). */
export function contextNameInvalid(name: string, why: string): QksError {
  return new QksError('CONFIG_INVALID', `--context: ${JSON.stringify(name)} ${why}`, { hint: 'Pass --context NAME. Nothing was written.' });
}

/** --output - from a library caller that gave no stdout. */
export function noStdout(): QksError {
  return new QksError('USAGE', '--output - needs a stdout to write to');
}

/** --wait's grace for an API server that does not answer the TLS check yet ran out. */
export function apiNoAnswer(server: string, waitedMs: number): QksError {
  return new QksError('WAIT_TIMEOUT', `no answer from ${server} within ${Math.round(waitedMs / 1000)} s`);
}

/** The SSH read's shell found no POSIX sh or cat (exit 127). */
export function sshNoShell(at: string, said: string, details: Record<string, unknown>): QksError {
  return new QksError('SSH_FAILED', `the VM has no POSIX sh or cat for ${at}: ${said}`, { details });
}

/** The SSH read ended with another exit status than the cases above it name. */
export function sshReadFailed(path: string, exitCode: number | null, said: string, details: Record<string, unknown>): QksError {
  return new QksError('SSH_FAILED', `reading ${path} over SSH failed (exit ${exitCode}): ${said}`, { details });
}

/** --remote-path that the SSH read cannot quote safely or is no absolute path: `why` says which. */
export function remotePathInvalid(path: string, why: string): QksError {
  return new QksError('CONFIG_INVALID', `--remote-path ${JSON.stringify(path)}: ${why}`);
}

/** The guest's qemu-ga blocks both ways of reading a file. */
export function agentCannotReadFiles(agentVersion: string | undefined): QksError {
  return new QksError('COMMAND_DISABLED', 'the guest agent has both guest-file-* and guest-exec disabled: it cannot read files', {
    hint: 'Enable guest-file-open/read/close or guest-exec in the guest\'s qemu-ga (--allow-rpcs / --block-rpcs), or use --method ssh.',
    details: { agentVersion },
  });
}

/** --wait ran out: names what it waited for and the last failure seen, whose hint it keeps. */
export function waitTimedOut(what: string, timeoutMs: number, lastSeen: QksError | undefined): QksError {
  const secs = Math.round(timeoutMs / 1000);
  return new QksError('WAIT_TIMEOUT', `gave up after ${secs} s waiting for ${what}${lastSeen ? `; last: ${lastSeen.message} [${lastSeen.code}]` : ''}`, {
    hint: lastSeen?.hint ?? 'Raise --timeout, or check the VM.',
    details: { timeoutMs, ...(lastSeen ? { last: lastSeen.toJSON() } : {}) },
    cause: lastSeen,
  });
}
