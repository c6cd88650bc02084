/**
 * Commander glue for the option tables (src/options/table.ts): registers each row with its help
 * "(env X, default Y)", and maps what commander parsed back to the table's field names.
 */
import { Option, type Command } from 'commander';
import { gather, helpOf, longFlags, parseRows, type Given, type OptionTable, type TableOutput } from '../options/table.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Adds every row of `table` to `cmd`. Defaults are not given to commander: the table applies them. */
export function addOptions(cmd: Command, table: OptionTable): Command {
  for (const d of Object.values(table)) {
    const o = new Option(d.flag, helpOf(d));
    if (d.required) o.makeOptionMandatory();
    if (d.list) o.argParser(collect);
    cmd.addOption(o);
    if (d.negate) cmd.addOption(new Option(`--no-${longFlags(d)[0]!.slice(2)}`, d.negate));
  }
  return cmd;
}

/** The attribute commander stores a row under (the last long flag, camelCased, as commander does). */
function attributeOf(flag: string): string {
  const o = new Option(flag);
  return o.attributeName();
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
