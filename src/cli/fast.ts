/**
 * `agent ping` and `agent cat` without commander: its module, the program with every subcommand and its
 * parse cost these verbs ~3 ms a start (bench/startup.md), more than their own work. Only a command line
 * this matcher fully understands runs here: global flags before the verb, then the subcommand's own
 * `--long value` or `--long=value` options (each at most once; no value that starts with `-`) and its
 * positional arguments. Anything else (help, short flags, unknown or repeated options, `--`) goes to
 * commander (./main.ts), which parses it and reports what is wrong as it always did.
 */
import { AGENT_CAT_OPTIONS, AGENT_TARGET_OPTIONS } from '../options/agent.js';
import { longFlags, type OptionTable } from '../options/table.js';
import { contextOf } from './context.js';
import { attributeOf } from './flags.js';
import type { GlobalFlags } from './output.js';
import { inSession, runAction } from './session.js';

const GLOBALS: Record<string, [keyof GlobalFlags, boolean]> = {
  '--json': ['json', true],
  '-q': ['quiet', true],
  '--quiet': ['quiet', true],
  '-v': ['verbose', true],
  '--verbose': ['verbose', true],
  '--no-color': ['color', false],
};

const SUBCOMMANDS = {
  ping: { tables: [AGENT_TARGET_OPTIONS], positionals: 0 },
  cat: { tables: [AGENT_TARGET_OPTIONS, AGENT_CAT_OPTIONS], positionals: 1 },
} as const satisfies Record<string, { tables: readonly OptionTable[]; positionals: number }>;

export interface FastCall {
  sub: keyof typeof SUBCOMMANDS;
  globals: GlobalFlags;
  /** As commander would give them: each given option's text under its attribute name. */
  flags: Record<string, string>;
  args: string[];
}

/** The call, when `argv` is an `agent ping|cat` line this file runs; else undefined (commander's turn). */
export function matchFast(argv: readonly string[]): FastCall | undefined {
  const words = argv.slice(2);
  const globals: GlobalFlags = {};
  let i = 0;
  for (; i < words.length && GLOBALS[words[i]!]; i++) {
    const [key, value] = GLOBALS[words[i]!]!;
    globals[key] = value;
  }
  if (words[i] !== 'agent' || !Object.hasOwn(SUBCOMMANDS, words[i + 1] ?? '')) return undefined;
  const sub = words[i + 1] as keyof typeof SUBCOMMANDS;
  const spec = SUBCOMMANDS[sub];
  const rows = new Map<string, string>(); // --flag -> commander's flags text
  for (const table of spec.tables) for (const d of Object.values(table)) for (const f of longFlags(d)) rows.set(f, d.flag);
  const flags: Record<string, string> = {};
  const args: string[] = [];
  for (i += 2; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith('-')) {
      args.push(w);
      continue;
    }
    const eq = w.indexOf('=');
    const name = eq < 0 ? w : w.slice(0, eq);
    const flag = rows.get(name);
    // only options that take a value (all of these subcommands' do); anything else is commander's
    if (!flag || !/ <[^>]+>$/.test(flag)) return undefined;
    const value = eq < 0 ? words[++i] : w.slice(eq + 1);
    const key = attributeOf(flag);
    if (value === undefined || value.startsWith('-') || key in flags) return undefined;
    flags[key] = value;
  }
  if (args.length !== spec.positionals) return undefined;
  return { sub, globals, flags, args };
}

/** Runs `call` as commander would have (./main.ts): same context, exit status and error reports. */
export function runFast(call: FastCall): Promise<void> {
  return inSession(async (signal) => {
    const verbs = await import('./agent-verbs.js');
    const ctx = contextOf(call.globals, signal);
    await runAction(ctx, signal, () => (call.sub === 'ping' ? verbs.ping(ctx, call.flags) : verbs.cat(ctx, call.args[0]!, call.flags)));
    return call.globals;
  });
}
