#!/usr/bin/env node
/**
 * The `qemu-kubesolo` command: a thin layer over the library. Each verb lives in its own file and
 * registers itself here; nothing below src/cli/ prints or exits.
 */
import { Command, CommanderError } from 'commander';
import { EXIT } from '../errors.js';
import { commanderUsage, noCommand } from './errors.js';
import { noteStdoutFailure, Output, stderr, stdout, watchStdout, writeStdout } from './output.js';
import { contextFor, type VerbContext } from './context.js';
import { inSession, reportStdoutFailure, runAction } from './session.js';
import { VERSION } from '../version.js';
import type { CancelSignal } from '../cancel.js';

/** A verb module: adds its command(s) to the program. `run` wraps an action with error handling. */
export interface VerbModule {
  register(program: Command, run: RunAction): void;
}
/** Wraps a verb action: builds its context, maps thrown QksErrors to messages and exit codes. */
export type RunAction = <A extends unknown[]>(
  action: (ctx: VerbContext, ...args: A) => Promise<number | void>,
) => (...args: A) => Promise<void>;

/**
 * The verbs, each loaded only when it runs: a process pays start-up for its own verb's libraries, not
 * for every verb's (measured: about half the CPU of loading them all). Top-level help loads them all.
 */
const VERBS: ReadonlyArray<{ names: string[]; load: () => Promise<VerbModule> }> = [
  { names: ['artifacts'], load: () => import('./artifacts.js') },
  { names: ['iso'], load: () => import('./iso.js') },
  { names: ['kubeconfig'], load: () => import('./kubeconfig.js') },
  { names: ['agent'], load: () => import('./agent.js') },
  { names: ['fake-agent'], load: () => import('./fake-agent.js') },
  { names: ['doctor'], load: () => import('./doctor.js') },
  { names: ['domain-xml', 'virt-install-args'], load: () => import('./domain-xml.js') },
  { names: ['demo'], load: () => import('./demo.js') },
];

/** The verb named on the command line (the first word that is not an option), if any. */
function verbIn(argv: string[]): string | undefined {
  const words = argv.slice(2);
  const first = words.find((w) => !w.startsWith('-'));
  return first === 'help' ? words.find((w, i) => i > words.indexOf('help') && !w.startsWith('-')) : first;
}

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  internal error (a bug: please report it), or stdout or an output file could not be written
  2  usage: bad flag, environment variable, template or input (nothing was written)
  3  not found or not ready: socket, VM, guest file (--wait retries these)
  4  permission denied (socket, libvirt, SSH key, output path)
  5  timeout: no answer from the agent, --wait ran out, SSH connect timeout
  6  guest agent or libvirt error, or an unreadable reply
  7  remote error: SSH hop, API server TLS
  8  partial: some checks or some VMs of a batch failed
  130  interrupted (Ctrl-C, SIGTERM)
  141  stdout closed by its reader before all output was written (as SIGPIPE)`;

export async function buildProgram(signal: CancelSignal, argv: string[] = process.argv): Promise<Command> {
  const program = new Command();
  program
    .name('qemu-kubesolo')
    .description(
      'Provision single-node Kubernetes VMs (Alpine Linux + Kubesolo) on QEMU/KVM: cloud-init artifacts and\n' +
        'cidata.iso, and the kubeconfig through the QEMU guest agent socket (no virsh, no SSH keys).',
    )
    .version(VERSION, '-V, --version')
    .option('--json', 'print results (and errors) as JSON on stdout, for wrappers')
    .option('-q, --quiet', 'print only results, warnings and errors')
    .option('-v, --verbose', 'print details of each step on stderr')
    .option('--no-color', 'never colour output (also: NO_COLOR=1)')
    .showHelpAfterError('(run with --help for usage)')
    // help and commander's complaints go where every verb writes (./output.ts), subcommands inherit it
    .configureOutput({ writeOut: (text) => writeStdout(stdout, text), writeErr: (text) => void stderr.write(text) })
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP);

  const run: RunAction =
    (action) =>
    async (...args) => {
      const cmd = args[args.length - 1] as Command;
      const ctx = contextFor(cmd, signal);
      await runAction(ctx, signal, () => action(ctx, ...args));
    };

  const named = verbIn(argv);
  const versionOnly = named === undefined && (argv.includes('--version') || argv.includes('-V'));
  const chosen = VERBS.filter((v) => named !== undefined && v.names.includes(named));
  const toLoad = versionOnly ? [] : chosen.length ? chosen : VERBS;
  for (const verb of await Promise.all(toLoad.map((v) => v.load()))) {
    verb.register(program, run);
  }
  return program;
}

/**
 * src/cli/bin.ts answers `--version` before this module loads: a failed write of it is reported here, as a
 * verb's; a non-blocking stdout (EAGAIN) gets it written through Node's stream (./output.ts).
 */
export async function versionNotWritten(e: NodeJS.ErrnoException): Promise<void> {
  watchStdout(stdout);
  if (e.code === 'EAGAIN') writeStdout(stdout, `${VERSION}\n`);
  else noteStdoutFailure(stdout, e);
  await reportStdoutFailure({});
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await inSession(async (signal) => {
    const program = await buildProgram(signal, argv);
    try {
      await program.parseAsync(argv);
    } catch (e) {
      if (e instanceof CommanderError) {
        // help and --version exit 0; every other commander complaint is a usage error (already printed on
        // stderr by commander; wrappers reading --json get it on stdout too)
        if (e.exitCode === 0) process.exitCode = EXIT.OK;
        else if (argv.includes('--json')) {
          // no verb: commander shows the help and its message is a placeholder ("(outputHelp)")
          const err = e.code === 'commander.help' ? noCommand() : commanderUsage(e.message);
          writeStdout(stdout, JSON.stringify({ ok: false, error: err.toJSON() }) + '\n');
        }
        process.exitCode ??= EXIT.USAGE;
      } else process.exitCode = new Output(program.opts()).error(e).exitCode;
    }
    return program.opts();
  });
}
