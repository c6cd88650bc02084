/**
 * Commander glue for the option tables (src/options/table.ts): registers each row with its help
 * "(env X, default Y)"; ./flags.ts maps what commander parsed back to the table's field names.
 */
import { Option, type Command } from 'commander';
import { helpOf, longFlags, type OptionTable } from '../options/table.js';

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

export { givenFlags, resolveFlags } from './flags.js';
