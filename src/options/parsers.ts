/**
 * Plain parsers for option rows (`parse` in src/options/table.ts): the checks and messages the rows'
 * zod schemas had, without loading zod, so that the agent verb starts without it (bench/startup.md).
 * Where zod reported several failed checks, these do too (the messages are part of the CLI's output).
 */
import type { Parsed } from './table.js';

export type Parser<T> = (value: unknown) => Parsed<T>;

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (message: string | readonly string[]): Parsed<never> => ({ ok: false, message });

/** zod's name for a value's type in "expected string, received X". */
function received(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isNaN(v) ? 'NaN' : typeof v;
}

/** undefined passes as undefined (zod's `.optional()`). */
export const optional =
  <T>(p: Parser<T>): Parser<T | undefined> =>
  (v) =>
    v === undefined ? ok(undefined) : p(v);

/** A string, then each check whose test fails adds its message (all are run, as zod runs them). */
export const string =
  (...checks: ReadonlyArray<readonly [(s: string) => boolean, string]>): Parser<string> =>
  (v) => {
    if (typeof v !== 'string') return bad(`Invalid input: expected string, received ${received(v)}`);
    const failed = checks.filter(([test]) => !test(v)).map(([, message]) => message);
    return failed.length ? bad(failed) : ok(v);
  };

/** One of `values`, else `message` (zod's enum with its error). */
export const oneOf =
  <const T extends readonly string[]>(values: T, message: string): Parser<T[number]> =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? ok(v as T[number]) : bad(message);

/** `Number(v)` when finite, else `message` (zod's coerce.number with its error). */
export function coerceNumber(v: unknown, message: string): Parsed<number> {
  const n = Number(v);
  return Number.isFinite(n) ? ok(n) : bad(message);
}

/** zod's coerce.number().int().positive(), one message: a fraction stops at the int check; an unsafe integer goes on. */
export const positiveInt =
  (message: string): Parser<number> =>
  (v) => {
    const r = coerceNumber(v, message);
    if (!r.ok) return r;
    if (!Number.isInteger(r.value)) return bad(message);
    const failed = [!Number.isSafeInteger(r.value), r.value <= 0].filter(Boolean).map(() => message);
    return failed.length ? bad(failed) : r;
  };

/** zod's boolean: "Invalid input: expected boolean, received X". */
export const boolean: Parser<boolean> = (v) => (typeof v === 'boolean' ? ok(v) : bad(`Invalid input: expected boolean, received ${received(v)}`));

/**
 * zod's coerce.number({ error }).int(...).min(...).max(...): `nan` when Number(v) is not finite; a fraction
 * stops at the int check; an unsafe integer goes on to the bounds (each failed check its message).
 */
export const wholeNumber =
  (o: { nan: string; int: string; min: readonly [number, string]; max: readonly [number, string] }): Parser<number> =>
  (v) => {
    const r = coerceNumber(v, o.nan);
    if (!r.ok) return r;
    if (!Number.isInteger(r.value)) return bad(o.int);
    const failed = [!Number.isSafeInteger(r.value) && o.int, r.value < o.min[0] && o.min[1], r.value > o.max[0] && o.max[1]].filter((m): m is string => !!m);
    return failed.length ? bad(failed) : r;
  };

/** zod's array(item).min(1, empty): an item's failures carry its index (shown as `--flag[i]`). */
export const list =
  <T>(item: Parser<T>, empty?: string): Parser<T[]> =>
  (v) => {
    if (!Array.isArray(v)) return bad(`Invalid input: expected array, received ${received(v)}`);
    const out: T[] = [];
    const issues: { path: number[]; message: string }[] = [];
    v.forEach((x, i) => {
      const r = item(x);
      if (r.ok) out.push(r.value);
      else for (const message of typeof r.message === 'string' ? [r.message] : r.message) issues.push({ path: [i], message });
    });
    if (empty !== undefined && v.length === 0) issues.unshift({ path: [], message: empty });
    return issues.length ? { ok: false, message: issues.map((i) => i.message), issues } : ok(out);
  };
