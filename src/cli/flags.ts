/**
 * What commander parsed, mapped back to the option tables' field names (src/options/table.ts), without
 * loading commander: the agent verbs also run without it (./fast.ts). The attribute names are
 * commander's own (test/options/table.test.ts compares them for every row).
 */
import { flagWords, gather, parseRows, type Given, type OptionTable, type TableOutput } from '../options/table.js';

const camel = (s: string) => s.split('-').reduce((out, w) => out + w[0]!.toUpperCase() + w.slice(1));
const attributes = new Map<string, string>();

/**
 * The attribute commander stores a row under: as commander's Option splits its flags, the part after a
 * leading short (or first) flag, without `--` and `no-`, camelCased. Memoized: a verb asks for each of
 * its rows several times.
 */
export function attributeOf(flag: string): string {
  let name = attributes.get(flag);
  if (name !== undefined) return name;
  const parts = flagWords(flag);
  let short: string | undefined;
  if (parts.length > 1 && parts[1]![0] !== '[' && parts[1]![0] !== '<') short = parts.shift();
  let long = parts.shift();
  if (!short && long !== undefined && long.length === 2 && long[0] === '-' && long[1] !== '-') {
    short = long;
    long = undefined;
  }
  const bare = long !== undefined ? (long.startsWith('--') ? long.slice(2) : long) : short!.startsWith('-') ? short!.slice(1) : short!;
  name = camel(bare.startsWith('no-') ? bare.slice(3) : bare);
  attributes.set(flag, name);
  return name;
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
