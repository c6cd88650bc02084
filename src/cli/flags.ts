/**
 * What commander parsed, mapped back to the option tables' field names (src/options/table.ts), without
 * loading commander: the agent verbs also run without it (./fast.ts). The attribute names are
 * commander's own (test/options/table.test.ts compares them for every row).
 */
import { gather, parseRows, type Given, type OptionTable, type TableOutput } from '../options/table.js';

const camel = (s: string) => s.split('-').reduce((out, w) => out + w[0]!.toUpperCase() + w.slice(1));

/**
 * The attribute commander stores a row under: as commander's Option splits its flags, the part after a
 * leading short (or first) flag, without `--` and `no-`, camelCased.
 */
export function attributeOf(flag: string): string {
  const parts = flag.split(/[ |,]+/);
  let short: string | undefined;
  if (parts.length > 1 && !/^[[<]/.test(parts[1]!)) short = parts.shift();
  let long = parts.shift();
  if (!short && long !== undefined && /^-[^-]$/.test(long)) {
    short = long;
    long = undefined;
  }
  const name = long !== undefined ? long.replace(/^--/, '') : short!.replace(/^-/, '');
  return camel(name.replace(/^no-/, ''));
}

/** Commander's parsed options, keyed by the table's field names (undefined where not given). */
export function givenFlags<T extends OptionTable>(table: T, parsed: Record<string, unknown>): Given<T> {
  const out: Given<T> = {};
  for (const [key, d] of Object.entries(table) as [keyof T & string, T[keyof T]][]) {
    out[key] = parsed[attributeOf(d.flag)];
  }
  return out;
}

/** A verb's options from commander's parse: flag > environment > default, validated (CONFIG_INVALID naming "--flag (VAR)"). */
export function resolveFlags<T extends OptionTable>(
  table: T,
  parsed: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  hint: string,
): TableOutput<T> {
  return parseRows(table, gather(table, givenFlags(table, parsed), env), hint);
}
