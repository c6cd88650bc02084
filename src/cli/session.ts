/**
 * The frame of one command, shared by commander's path (./main.ts) and the one without it (./fast.ts):
 * Ctrl-C/SIGTERM abort the command's signal, a verb's action sets the exit status, and a failed stdout
 * decides it at the end. No commander here.
 */
import { Cancellation, type CancelSignal } from '../cancel.js';
import { abortError, EXIT, interruptedError } from '../errors.js';
import type { VerbContext } from './context.js';
import { flushStdout, Output, stdout, stdoutFailure, watchStdout, type GlobalFlags } from './output.js';

/**
 * Runs `body` with the command's abort signal; at the end reports a failed stdout under the global
 * flags `body` returns. A failed stdout (`| head`, `> /dev/full`) is recorded, reported once and decides
 * the exit status, never a stack trace; a failed stderr has nowhere to be reported.
 */
export async function inSession(body: (signal: CancelSignal) => Promise<GlobalFlags>): Promise<void> {
  const controller = new Cancellation(); // not AbortController: src/cancel.ts
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.aborted) process.exit(EXIT.INTERRUPTED); // a second Ctrl-C: stop now
    controller.abort(interruptedError(sig));
    process.exitCode = EXIT.INTERRUPTED;
  };
  watchStdout(stdout);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let flags: GlobalFlags = {};
  try {
    flags = await body(controller);
  } finally {
    await reportStdoutFailure(flags);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A verb's action in its context: its result is the exit status, a thrown error is reported; its SSH connections end with it. */
export async function runAction(ctx: VerbContext, signal: CancelSignal, action: () => Promise<number | void>): Promise<void> {
  try {
    const code = await action();
    process.exitCode = code ?? EXIT.OK;
  } catch (e) {
    // an interrupted command reports the interruption (exit 130), whatever error the abort surfaced as
    process.exitCode = ctx.output.error(signal.aborted ? abortError(signal) : e).exitCode;
  } finally {
    // the command's SSH connections (qemu+ssh) end with it (a no-op when none was opened)
    await ctx.sshPool.close().catch(() => {});
  }
}

/**
 * After the verb: a failed stdout makes a successful command fail (its output is incomplete). A closed
 * pipe (exit 141) is reported only with --verbose, like tools killed by SIGPIPE; other failures always.
 */
export async function reportStdoutFailure(flags: GlobalFlags): Promise<void> {
  await flushStdout(stdout);
  const failure = stdoutFailure(stdout);
  if (!failure) return;
  if (!process.exitCode) process.exitCode = failure.exitCode;
  const out = new Output(flags);
  if (failure.code !== 'STDOUT_CLOSED' || out.verboseOn) out.error(failure);
}
