/**
 * doctor's checks are data: each is an id, a title and a function from the shared state to an outcome.
 * Adding a check is one line in CHECKS (./checks.ts).
 */
import type { DoctorState } from './state.js';

export const CHECK_STATUSES = ['ok', 'fail', 'warn', 'skip'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export interface CheckOutcome {
  status: CheckStatus;
  /** What was found, in one line (or a few). */
  detail: string;
  /** What to do about a fail or warn. */
  fix?: string;
  /** Machine-readable facts for --json (paths, modes, timings). Never secrets. */
  data?: Record<string, unknown>;
}

export interface CheckResult extends CheckOutcome {
  id: string;
  title: string;
  ms: number;
}

export interface Check {
  /** Stable id for wrappers (`--json`). */
  id: string;
  /** Short human title. */
  title: string;
  run(state: DoctorState): Promise<CheckOutcome>;
}

/** A check that could not run because one it depends on did not pass. */
export function skipped(why: string): CheckOutcome {
  return { status: 'skip', detail: why };
}
