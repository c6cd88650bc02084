/**
 * One error hierarchy for the whole project.
 *
 * Every failure a user or a wrapper can meet is a `QksError` with a stable `code`. The code decides the
 * process exit status (one table, below) and whether retrying can help (`retryable`: `--wait` retries
 * only those). The message says what happened; `hint` says what to do about it.
 */
import type { CancelSignal } from './cancel.js';

/** Exit statuses of the CLI. Documented in `--help` and the README; wrappers may rely on them. */
export const EXIT = {
  OK: 0,
  /** A bug or an unexpected failure (please report it). */
  INTERNAL: 1,
  /** Bad flags, environment variables, templates or other user input. Nothing was written. */
  USAGE: 2,
  /** Something is not there (yet): socket, domain, guest file. `--wait` retries these. */
  NOT_FOUND: 3,
  /** The OS or libvirt refused access. */
  PERMISSION: 4,
  /** A bounded wait ran out: no answer from the agent, `--wait` timeout, SSH connect timeout. */
  TIMEOUT: 5,
  /** The guest agent or libvirt answered with an error, or spoke something we cannot parse. */
  AGENT: 6,
  /** A remote peer failed: SSH hop, API server TLS, network. */
  REMOTE: 7,
  /** Some checks (doctor) or some items of a batch failed; the others were done. */
  PARTIAL: 8,
  /** Ctrl-C or SIGTERM: what shells expect (128 + SIGINT). */
  INTERRUPTED: 130,
  /** stdout was closed by its reader (`| head`): what shells report for a tool killed by SIGPIPE (128 + 13). */
  PIPE: 141,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

interface CodeInfo {
  exit: ExitCode;
  /** Whether waiting and trying again can help (the default for errors of this code). */
  retryable: boolean;
}

/**
 * Every error code, its exit status and whether a retry can help.
 * Add codes here (one line each); never reuse or rename one: wrappers match on them.
 */
export const ERROR_CODES = {
  INTERNAL: { exit: EXIT.INTERNAL, retryable: false },
  // input
  USAGE: { exit: EXIT.USAGE, retryable: false },
  CONFIG_INVALID: { exit: EXIT.USAGE, retryable: false },
  TEMPLATE_INVALID: { exit: EXIT.USAGE, retryable: false },
  INPUT_NOT_FOUND: { exit: EXIT.USAGE, retryable: false },
  /** Not a regular file (a device, a directory), or larger than its cap (src/files/read.ts INPUT_CAPS). */
  INPUT_INVALID: { exit: EXIT.USAGE, retryable: false },
  /** A pipe named as an input sent nothing for too long. */
  INPUT_TIMEOUT: { exit: EXIT.TIMEOUT, retryable: false },
  OUTPUT_FAILED: { exit: EXIT.INTERNAL, retryable: false },
  OUTPUT_PERMISSION: { exit: EXIT.PERMISSION, retryable: false },
  /** The output path cannot take a file: a directory, a block device, a socket, a parent that is a file. */
  OUTPUT_INVALID: { exit: EXIT.USAGE, retryable: false },
  /** Writing stdout failed (a full disk, an I/O error). */
  STDOUT_FAILED: { exit: EXIT.INTERNAL, retryable: false },
  /** stdout's reader went away before the output was written. */
  STDOUT_CLOSED: { exit: EXIT.PIPE, retryable: false },
  // guest-agent socket and protocol
  SOCKET_NOT_FOUND: { exit: EXIT.NOT_FOUND, retryable: true },
  SOCKET_PERMISSION: { exit: EXIT.PERMISSION, retryable: false },
  SOCKET_HELD: { exit: EXIT.TIMEOUT, retryable: true },
  SOCKET_BUSY: { exit: EXIT.TIMEOUT, retryable: true },
  AGENT_TIMEOUT: { exit: EXIT.TIMEOUT, retryable: true },
  AGENT_DISCONNECTED: { exit: EXIT.AGENT, retryable: true },
  PROTOCOL_ERROR: { exit: EXIT.AGENT, retryable: true },
  COMMAND_DISABLED: { exit: EXIT.AGENT, retryable: false },
  COMMAND_FAILED: { exit: EXIT.AGENT, retryable: false },
  GUEST_FILE_NOT_FOUND: { exit: EXIT.NOT_FOUND, retryable: true },
  GUEST_FILE_PERMISSION: { exit: EXIT.PERMISSION, retryable: false },
  /** A guest file is larger than the read's bound (maxBytes, --max-bytes); nothing of it was returned. */
  GUEST_FILE_TOO_LARGE: { exit: EXIT.AGENT, retryable: false },
  // libvirt
  VM_NOT_FOUND: { exit: EXIT.NOT_FOUND, retryable: true },
  LIBVIRT_NOT_RUNNING: { exit: EXIT.NOT_FOUND, retryable: true },
  LIBVIRT_AUTH: { exit: EXIT.PERMISSION, retryable: false },
  LIBVIRT_ERROR: { exit: EXIT.AGENT, retryable: false },
  LIBVIRT_TIMEOUT: { exit: EXIT.TIMEOUT, retryable: true },
  AGENT_NOT_CONNECTED: { exit: EXIT.NOT_FOUND, retryable: true },
  // kubeconfig
  KUBECONFIG_INVALID: { exit: EXIT.AGENT, retryable: false },
  WAIT_TIMEOUT: { exit: EXIT.TIMEOUT, retryable: false },
  TLS_VERIFY_FAILED: { exit: EXIT.REMOTE, retryable: false },
  /** The fetched kubeconfig would make kubectl run a program, read host files or skip TLS (src/kubeconfig/safety.ts). */
  KUBECONFIG_UNSAFE: { exit: EXIT.AGENT, retryable: false },
  /** The API server refused the kubeconfig's credentials (401/403). */
  API_AUTH_FAILED: { exit: EXIT.REMOTE, retryable: false },
  /** The API address cannot be reached from this host (no route, silent firewall). */
  API_UNREACHABLE: { exit: EXIT.REMOTE, retryable: false },
  /** --merge: the target file is not a kubeconfig; nothing was changed. */
  MERGE_TARGET_INVALID: { exit: EXIT.USAGE, retryable: false },
  /** --merge: `<file>.lock` stayed in place (kubectl or another merge writing, or a crashed one). */
  KUBECONFIG_LOCKED: { exit: EXIT.TIMEOUT, retryable: true },
  // remote
  SSH_FAILED: { exit: EXIT.REMOTE, retryable: false },
  SSH_AUTH: { exit: EXIT.PERMISSION, retryable: false },
  SSH_HOST_KEY: { exit: EXIT.REMOTE, retryable: false },
  SSH_TIMEOUT: { exit: EXIT.TIMEOUT, retryable: true },
  // batches and checks
  PARTIAL_FAILURE: { exit: EXIT.PARTIAL, retryable: false },
  CHECKS_FAILED: { exit: EXIT.PARTIAL, retryable: false },
  INTERRUPTED: { exit: EXIT.INTERRUPTED, retryable: false },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface QksErrorOptions {
  /** What the user can do about it, in one sentence. */
  hint?: string;
  /** Overrides the code's default. */
  retryable?: boolean;
  /** Machine-readable details for `--json` (paths, classes, figures). Never secrets. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class QksError extends Error {
  override name = 'QksError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: QksErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.details = options.details ?? {};
  }

  get exitCode(): ExitCode {
    return ERROR_CODES[this.code].exit;
  }

  /** The shape `--json` prints for a failure. */
  toJSON(): { code: ErrorCode; message: string; hint?: string; retryable: boolean; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      retryable: this.retryable,
      ...(Object.keys(this.details).length ? { details: this.details } : {}),
    };
  }
}

export function isQksError(e: unknown, code?: ErrorCode): e is QksError {
  return e instanceof QksError && (code === undefined || e.code === code);
}

/** Ctrl-C or SIGTERM (`by`: the signal, when known). */
export function interruptedError(by?: string): QksError {
  return new QksError('INTERRUPTED', by ? `interrupted by ${by}` : 'interrupted');
}

/** The error an operation cancelled by `signal` ends with: the aborter's own QksError, else INTERRUPTED. */
export function abortError(signal: CancelSignal): QksError {
  return signal.reason instanceof QksError ? signal.reason : interruptedError();
}

/** Wraps anything thrown into a QksError, keeping QksErrors as they are. */
export function toQksError(e: unknown): QksError {
  if (e instanceof QksError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new QksError('INTERNAL', message, { cause: e, hint: 'This is a bug in qemu-kubesolo; please report it with --verbose output.' });
}

/**
 * Formats a zod error as one message naming each bad field (by its flag or variable name where the
 * caller maps it), e.g. `--hostname (VM_HOSTNAME): must be an RFC 1123 label`.
 */
export function zodIssuesToMessage(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  fieldNames: Record<string, string> = {},
): string {
  return issues
    .map((i) => {
      const key = i.path.map(String).join('.');
      const name = fieldNames[key] ?? (key || 'input');
      return `${name}: ${i.message}`;
    })
    .join('; ');
}
