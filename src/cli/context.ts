import type { Command } from 'commander';
import { SshPool } from '../ssh/pool.js';
import { Output, type GlobalFlags } from './output.js';
import type { CancelSignal } from '../cancel.js';

/** What every verb gets: the output channel for its global flags, and the environment to read. */
export interface VerbContext {
  output: Output;
  env: NodeJS.ProcessEnv;
  /** Resolves when SIGINT/SIGTERM arrive, so long waits can stop cleanly. */
  signal: CancelSignal;
  /** The command's SSH connections (qemu+ssh: one per host); closed when the verb returns (./main.ts). */
  sshPool: SshPool;
}

/** Builds the verb context from a commander action's command (global flags included). */
export function contextFor(cmd: Command, signal: CancelSignal, env: NodeJS.ProcessEnv = process.env): VerbContext {
  return contextOf(cmd.optsWithGlobals() as GlobalFlags, signal, env);
}

/** The verb context for global flags parsed without commander (./fast.ts). */
export function contextOf(flags: GlobalFlags, signal: CancelSignal, env: NodeJS.ProcessEnv = process.env): VerbContext {
  return { output: new Output(flags), env, signal, sshPool: new SshPool() };
}
