/**
 * The option-table engine: one table per verb (src/options/<verb>.ts) gives, for each option, its
 * library field name (the key), flag(s), variable(s), default, schema and help. From it come commander
 * registration and --help (src/cli/options.ts), the precedence rule, the error names and the README.
 *
 * How to add an option: one row in the verb's table, e.g. in src/options/kubeconfig.ts
 *   ready: opt({ flag: '--ready', default: false, help: 'wait until the node is Ready', schema: () => z.boolean() }),
 *   context: opt({ flag: '--context <name>', env: ['KUBECONFIG_CONTEXT'], help: 'context name', schema: () => z.string().min(1).optional() }),
 * (repeatable: `list: true, default: []` and an array schema). The key is the field the library gets,
 * typed by the row's schema (TableOutput); --help shows "(env X; default Y)"; errors name
 * "--context (KUBECONFIG_CONTEXT)". Then `QKS_UPDATE_README=1 npx vitest run test/options/table.test.ts`
 * rewrites the verb's README table (the test checks it, and every row, in every verb).
 * Rules: flag > first non-empty variable > default; an empty variable counts as unset, everywhere.
 * Schemas are factories (`() => z...`): nothing is built until a verb resolves its options. A row may
 * instead carry a plain `parse` (see src/options/parsers.ts): the agent verb's rows do, so its start-up
 * loads no zod (bench/startup.md). This file imports zod's types only; objectSchema (zod) is in ./zod.ts.
 */
import type { z } from 'zod';
import { QksError } from '../errors.js';

export interface OptionDef {
  /** Commander flags: '--vm-name <name>', '-o, --output <file>', '--wait', '--vm-name, --name <name>'. */
  flag: string;
  /** Environment variables, first non-empty wins (after the flag). */
  env?: readonly string[];
  /** The value when neither flag nor variable is given (undefined: the option stays unset). */
  default?: unknown;
  /** How help and the README spell the default when it is not a plain value ("the host's"). */
  defaultText?: string;
  help: string;
  /** Validates and converts the gathered value (a flag string, a list, a boolean, a variable or the default). */
  schema?: () => z.ZodType;
  /** The same without zod: a plain check and conversion (used when there is no `schema`). */
  parse?: (value: unknown) => Parsed<unknown>;
  /** Repeatable flag: values are collected into a list. */
  list?: boolean;
  /** Also register `--no-<name>` (help text for it). */
  negate?: string;
  /** Turns a variable's text into the raw value (lists, booleans). Default: the text itself. */
  fromEnv?: (text: string) => unknown;
  /** Commander refuses the command without it (before any table rule runs). */
  required?: boolean;
}

export type OptionTable = Readonly<Record<string, OptionDef>>;

/**
 * What a row's plain `parse` gives: the converted value, or the message an error shows after the
 * option's name (several when several checks failed: each is its own problem, as zod lists them).
 */
export type Parsed<T> =
  | { ok: true; value: T }
  /** `issues`: the same messages with where in the value (a list's index), when not the value itself. */
  | {
      ok: false;
      message: string | readonly string[];
      issues?: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
      /** zod's non-continuable failure (wrong type, an aborting check): a table's cross-field checks then do not run (src/cloudinit/config.ts). */
      stop?: boolean;
    };

/** Identity with a type check: keeps each row's schema (or parser) type, so the verb's options type is inferred. */
export function opt<S extends z.ZodType>(d: OptionDef & { schema: () => S }): OptionDef & { schema: () => S };
export function opt<V>(d: OptionDef & { schema?: undefined; parse: (value: unknown) => Parsed<V> }): OptionDef & { parse: (value: unknown) => Parsed<V> };
export function opt(d: OptionDef): OptionDef {
  return d;
}

/** A row's output type: its parser's value, or its schema's z.output. */
export type RowOutput<D> = D extends { parse: (value: unknown) => Parsed<infer V> } ? V : D extends { schema: () => infer S extends z.ZodType } ? z.output<S> : unknown;

/** The typed options a table resolves to: each row's output, keyed by field name. */
export type TableOutput<T extends Record<string, unknown>> = { [K in keyof T]: RowOutput<T[K]> };

/**
 * A flag text's words as commander splits them (on spaces, commas and `|`): '-o, --output <file>' is
 * ['-o', '--output', '<file>']. String scans, not regular expressions: a process's first regular
 * expressions cost the agent verbs ~0.5 ms of a start (bench/startup.md, round 9).
 */
export function flagWords(flag: string): string[] {
  const words: string[] = [];
  let from = 0;
  for (let i = 0; i <= flag.length; i++) {
    const c = flag[i];
    if (c !== undefined && c !== ' ' && c !== ',' && c !== '|') continue;
    if (i > from) words.push(flag.slice(from, i));
    from = i + 1;
  }
  return words;
}

/** A word's leading name characters (ASCII letters, digits, `-`): '--output' of '--output=x'. */
function nameChars(word: string): string {
  let i = 0;
  for (; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d)) break;
  }
  return word.slice(0, i);
}

/** Every flag of a row, short and long: ['-o', '--output'] for '-o, --output <file>'. */
export function flagNames(flag: string): string[] {
  return flagWords(flag)
    .filter((w) => w.length > 1 && w[0] === '-' && w !== '--')
    .map(nameChars)
    .filter((n) => n.length > 1 && n !== '--');
}

/** How a row takes its value: `<value>` (required), `[value]` (optional), or none (a switch). */
export function valueKind(flag: string): 'required' | 'optional' | undefined {
  const last = flagWords(flag).at(-1) ?? '';
  if (last[0] === '<' && last.endsWith('>')) return 'required';
  if (last[0] === '[' && last.endsWith(']')) return 'optional';
  return undefined;
}

/** The long flag that names an option: '--vm-name' for '--vm-name, --name <name>' or '-o, --output <f>'. */
export function longFlag(d: OptionDef): string {
  const f = longFlags(d)[0];
  if (!f) throw new Error(`option table: ${d.flag} has no long flag`);
  return f;
}

/** All long flags of a row (the name first, then aliases). */
export function longFlags(d: OptionDef): string[] {
  return flagNames(d.flag).filter((f) => f.startsWith('--'));
}

/** How errors name an option: "--flag (VAR)" or "--flag (VAR1, VAR2)" or "--flag". */
export function nameOf(d: OptionDef): string {
  return d.env?.length ? `${longFlag(d)} (${d.env.join(', ')})` : longFlag(d);
}

/** The text of a default for help and the README, or undefined when there is none to show. */
export function defaultTextOf(d: OptionDef): string | undefined {
  if (d.defaultText !== undefined) return d.defaultText;
  const v = d.default;
  if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/** Help line: the row's help plus "(env X, default Y)" from the table. */
export function helpOf(d: OptionDef): string {
  const parts: string[] = [];
  if (d.env?.length) parts.push(`env ${d.env.join(', ')}`);
  const def = defaultTextOf(d);
  if (def !== undefined) parts.push(`default ${def}`);
  return parts.length ? `${d.help} (${parts.join('; ')})` : d.help;
}

/** A variable's value, or undefined when it is unset or empty (an empty variable counts as unset). */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** The first non-empty variable of a row, converted by its `fromEnv`. */
export function fromEnvOf(d: OptionDef, env: NodeJS.ProcessEnv): { value: unknown; name: string } | undefined {
  for (const name of d.env ?? []) {
    const text = envValue(env, name);
    if (text !== undefined) return { value: d.fromEnv ? d.fromEnv(text) : text, name };
  }
  return undefined;
}

export type Given<T extends OptionTable> = { [K in keyof T]?: unknown };

/** Flag > first non-empty variable > default, per row. Unknown keys in `given` are ignored. */
export function gather<T extends OptionTable>(table: T, given: Given<T>, env: NodeJS.ProcessEnv): Record<keyof T, unknown> {
  const out = {} as Record<keyof T, unknown>;
  for (const key of Object.keys(table) as (keyof T)[]) {
    const d = table[key]!;
    const flag = given[key];
    if (flag !== undefined && !(d.list && Array.isArray(flag) && flag.length === 0)) out[key] = flag;
    else out[key] = fromEnvOf(d, env)?.value ?? d.default;
  }
  return out;
}

/** Error names of every row, keyed by field: for messages of schemas built elsewhere. */
export function fieldNames(table: OptionTable): Record<string, string> {
  return Object.fromEntries(Object.entries(table).map(([k, d]) => [k, nameOf(d)]));
}

/** One CONFIG_INVALID error naming each bad option by its flag and variable. */
export function configError(
  table: OptionTable,
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  hint: string,
  extraNames: Record<string, string> = {},
): QksError {
  const names = { ...fieldNames(table), ...extraNames };
  const problems = issues.map((i) => {
    const key = String(i.path[0] ?? '');
    const index = typeof i.path[1] === 'number' ? `[${i.path[1]}]` : '';
    return `${names[key] ?? (key || 'input')}${index}: ${i.message}`;
  });
  return new QksError('CONFIG_INVALID', problems.join('; '), { hint, details: { problems } });
}

/** Validates gathered values with the table's schema (plus a verb's cross-field checks). */
export function parseGathered<S extends z.ZodType>(table: OptionTable, schema: S, raw: unknown, hint: string, extraNames?: Record<string, string>): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw configError(table, r.error.issues, hint, extraNames);
  return r.data;
}

const rowSchemas = new WeakMap<OptionDef, z.ZodType>();

/** One row's check: its plain parser, else its zod schema (built on first use; the row's author imported zod). */
function parseRow(d: OptionDef, value: unknown): { ok: true; value: unknown } | { ok: false; issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } {
  if (d.parse) {
    const r = d.parse(value);
    if (r.ok) return r;
    return { ok: false, issues: r.issues ?? (typeof r.message === 'string' ? [r.message] : r.message).map((message) => ({ path: [], message })) };
  }
  if (!d.schema) throw new Error(`option table: ${d.flag} has neither schema nor parse`);
  let s = rowSchemas.get(d);
  if (!s) rowSchemas.set(d, (s = d.schema()));
  const r = s.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, issues: r.error.issues };
}

/**
 * Validates gathered values row by row (what objectSchema in ./zod.ts does in one zod object, with the
 * same messages), without loading zod for rows that have a plain parser.
 */
export function parseRows<T extends OptionTable>(table: T, raw: Record<string, unknown>, hint: string): TableOutput<T> {
  const out: Record<string, unknown> = {};
  const issues: { path: PropertyKey[]; message: string }[] = [];
  for (const [key, d] of Object.entries(table)) {
    const r = parseRow(d, raw[key]);
    if (r.ok) out[key] = r.value;
    else for (const i of r.issues) issues.push({ path: [key, ...i.path], message: i.message });
  }
  if (issues.length) throw configError(table, issues, hint);
  return out as TableOutput<T>;
}
