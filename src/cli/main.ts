#!/usr/bin/env node
/**
 * The `qemu-kubesolo` command: a thin layer over the library. Each verb lives in its own file and
 * registers itself here; nothing below src/cli/ prints or exits.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, QksError } from '../errors.js';
import { Output } from './output.js';
import { contextFor, type VerbContext } from './context.js';
import { VERSION } from '../version.js';
import * as agent from './agent.js';
import * as artifacts from './artifacts.js';
import * as demo from './demo.js';
import * as doctor from './doctor.js';
import * as domainXml from './domain-xml.js';
import * as fakeAgent from './fake-agent.js';
import * as iso from './iso.js';
import * as kubeconfig from './kubeconfig.js';

/** A verb module: adds its command(s) to the program. `run` wraps an action with error handling. */
export interface VerbModule {
  register(program: Command, run: RunAction): void;
}
/** Wraps a verb action: builds its context, maps thrown QksErrors to messages and exit codes. */
export type RunAction = <A extends unknown[]>(
  action: (ctx: VerbContext, ...args: A) => Promise<number | void>,
) => (...args: A) => Promise<void>;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  internal error (a bug: please report it)
  2  usage: bad flag, environment variable, template or input (nothing was written)
  3  not found or not ready: socket, VM, guest file (--wait retries these)
  4  permission denied (socket, libvirt, SSH key)
  5  timeout: no answer from the agent, --wait ran out, SSH connect timeout
  6  guest agent or libvirt error, or an unreadable reply
  7  remote error: SSH hop, API server TLS
  8  partial: some checks or some VMs of a batch failed`;

export function buildProgram(signal: AbortSignal): Command {
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
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP);

  const run: RunAction =
    (action) =>
    async (...args) => {
      const cmd = args[args.length - 1] as Command;
      const ctx = contextFor(cmd, signal);
      try {
        const code = await action(ctx, ...args);
        process.exitCode = code ?? EXIT.OK;
      } catch (e) {
        const err = ctx.output.error(e);
        // an interrupted wait ends as shells expect from Ctrl-C, whatever error the abort surfaced as
        process.exitCode = signal.aborted ? 130 : err.exitCode;
      }
    };

  for (const verb of [artifacts, iso, kubeconfig, agent, fakeAgent, doctor, domainXml, demo] as VerbModule[]) {
    verb.register(program, run);
  }
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new QksError('INTERNAL', `interrupted by ${sig}`));
    process.exitCode = 130;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const program = buildProgram(controller.signal);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and --version exit 0; every other commander complaint is a usage error
      process.exitCode = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return;
    }
    process.exitCode = new Output(program.opts()).error(e).exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
