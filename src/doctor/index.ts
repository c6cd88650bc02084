/**
 * `doctor` as a library: runs the checklist and returns one result per check (never throws for what it
 * finds; a check that throws becomes a fail line naming the bug).
 */
import { toQksError } from '../errors.js';
import { CHECKS } from './checks.js';
import { DoctorState, type DoctorOptions } from './state.js';
import type { Check, CheckResult } from './types.js';

export { CHECKS } from './checks.js';
export { DoctorState, type DoctorOptions } from './state.js';
export type { Check, CheckOutcome, CheckResult, CheckStatus } from './types.js';

export interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
  counts: Record<'ok' | 'fail' | 'warn' | 'skip', number>;
}

export async function runDoctor(options: DoctorOptions, checks: readonly Check[] = CHECKS, onResult?: (r: CheckResult) => void): Promise<DoctorReport> {
  const state = new DoctorState(options);
  const results: CheckResult[] = [];
  try {
    for (const check of checks) {
      const started = performance.now();
      let r: CheckResult;
      try {
        r = { id: check.id, title: check.title, ...(await check.run(state)), ms: Math.round(performance.now() - started) };
      } catch (e) {
        const err = toQksError(e);
        r = { id: check.id, title: check.title, status: 'fail', detail: `the check itself failed: ${err.message} [${err.code}]`, ms: Math.round(performance.now() - started), ...(err.hint ? { fix: err.hint } : {}) };
      }
      results.push(r);
      onResult?.(r);
    }
  } finally {
    await state.close();
  }
  const counts = { ok: 0, fail: 0, warn: 0, skip: 0 };
  for (const r of results) counts[r.status]++;
  return { ok: counts.fail === 0, checks: results, counts };
}
