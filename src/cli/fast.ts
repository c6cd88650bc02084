/**
 * `agent ping`, `agent cat` and `kubeconfig` without commander: its module, the program with every
 * subcommand and its parse cost these verbs ~3 ms a start (bench/startup.md), more than their own work.
 * Only a command line this matcher fully understands runs here: global flags before the verb, then the
 * subcommand's own `--long value` or `--long=value` options (each at most once; no value that starts
 * with `-`) and its positional arguments. `kubeconfig` also takes its short flags (`-o FILE`), its
 * switches, its lists (repeated) and the global flags after the verb, as commander's program does.
 * Anything else (help, unknown or repeated options, an optional value, `--`) goes to commander
 * (./main.ts), which parses it and reports what is wrong as it always did.
 */
import { AGENT_CAT_OPTIONS, AGENT_TARGET_OPTIONS } from '../options/agent.js';
import { flagNames, longFlags, valueKind, type OptionDef, type OptionTable } from '../options/table.js';
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

/** Sets the global flags that lead `words` in `globals`; returns the index of the first other word. */
function leadingGlobals(words: readonly string[], globals: GlobalFlags): number {
  let i = 0;
  for (; i < words.length && GLOBALS[words[i]!]; i++) {
    const [key, value] = GLOBALS[words[i]!]!;
    globals[key] = value;
  }
  return i;
}

/** The call, when `argv` is an `agent ping|cat` line this file runs; else undefined (commander's turn). */
export function matchFast(argv: readonly string[]): FastCall | undefined {
  const words = argv.slice(2);
  const globals: GlobalFlags = {};
  let i = leadingGlobals(words, globals);
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
    if (!flag || valueKind(flag) !== 'required') return undefined;
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

/** A `kubeconfig` line as commander would give it: the global flags and the verb's options by attribute. */
export interface FastVerbCall {
  globals: GlobalFlags;
  flags: Record<string, string | string[] | boolean>;
}

/**
 * The call, when `argv` is a `kubeconfig` line this file runs with `table` (src/options/kubeconfig.ts,
 * passed in: it loads yaml, which the agent lines must not); else undefined (commander's turn).
 */
export function matchVerb(argv: readonly string[], verb: string, table: OptionTable): FastVerbCall | undefined {
  const words = argv.slice(2);
  const globals: GlobalFlags = {};
  let i = leadingGlobals(words, globals);
  if (words[i] !== verb) return undefined;
  const rows = new Map<string, OptionDef>(); // each flag (-o, --output) -> its row
  for (const d of Object.values(table)) for (const f of flagNames(d.flag)) rows.set(f, d);
  const flags: FastVerbCall['flags'] = {};
  for (i++; i < words.length; i++) {
    const w = words[i]!;
    // commander's program takes its own flags anywhere on the line, before the verb sees it
    const global = GLOBALS[w];
    if (global) {
      globals[global[0]] = global[1];
      continue;
    }
    if (!w.startsWith('-')) return undefined; // the verb takes no arguments
    const eq = w.startsWith('--') ? w.indexOf('=') : -1;
    const d = rows.get(eq < 0 ? w : w.slice(0, eq));
    if (!d || valueKind(d.flag) === 'optional') return undefined; // unknown, help, or an optional value (--merge [file])
    const key = attributeOf(d.flag);
    if (!d.list && key in flags) return undefined;
    if (valueKind(d.flag) === 'required') {
      const value = eq < 0 ? words[++i] : w.slice(eq + 1);
      // a value that starts with `-` may be a flag of the program's, which commander takes first; `-` is none
      if (value === undefined || (value.startsWith('-') && value !== '-')) return undefined;
      flags[key] = d.list ? [...((flags[key] as string[] | undefined) ?? []), value] : value;
    } else {
      if (eq >= 0) return undefined; // a switch with a value: commander's complaint
      flags[key] = !d.flag.startsWith('--no-');
    }
  }
  for (const d of Object.values(table)) {
    const key = attributeOf(d.flag);
    if (d.required && !(key in flags)) return undefined;
    // as commander does for a lone --no-x: x is true unless given
    if (d.flag.startsWith('--no-') && !(key in flags)) flags[key] = true;
  }
  return { globals, flags };
}

/** `kubeconfig` without commander when matchVerb understands the line; false: the caller runs commander. */
export async function runFastKubeconfig(argv: readonly string[]): Promise<boolean> {
  const words = argv.slice(2);
  if (words.find((w) => !GLOBALS[w]) !== 'kubeconfig') return false; // no other verb loads the table (it loads yaml)
  const { KUBECONFIG_OPTIONS } = await import('../options/kubeconfig.js');
  const call = matchVerb(argv, 'kubeconfig', KUBECONFIG_OPTIONS);
  if (!call) return false;
  await inSession(async (signal) => {
    const verb = await import('./kubeconfig-verb.js');
    const ctx = contextOf(call.globals, signal);
    await runAction(ctx, signal, () => verb.action(ctx, call.flags));
    return call.globals;
  });
  return true;
}
