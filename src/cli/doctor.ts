/**
 * `qemu-kubesolo doctor`: the guide's troubleshooting as a checklist — who you are, channel socket found
 * and openable, agent answering, guest-file/exec enabled, kubeconfig present, API address reachable,
 * the ISO's SELinux label — each line ok/fail/warn/skip with its fix. Exit 8 when any check fails.
 */
import type { Command } from 'commander';
import { EXIT } from '../errors.js';
import { runDoctor, type CheckResult, type DoctorOptions } from '../doctor/index.js';
import { DOCTOR_OPTIONS } from '../options/doctor.js';
import { vmNameBeside } from '../options/shared.js';
import type { VerbContext } from './context.js';
import { addOptions, givenFlags, resolveFlags } from './options.js';
import type { RunAction } from './main.js';

/** Flags > environment > defaults, validated once; the VM name only without --socket, or when given. */
export function resolveDoctorOptions(parsed: Record<string, unknown>, env: NodeJS.ProcessEnv): DoctorOptions {
  const given = givenFlags(DOCTOR_OPTIONS, parsed);
  const o = resolveFlags(DOCTOR_OPTIONS, parsed, env, 'Run qemu-kubesolo doctor --help for examples.');
  const vmName = vmNameBeside(o.socket, given.vmName, o.vmName);
  return {
    ...(vmName ? { vmName } : {}),
    ...(o.socket ? { socket: o.socket } : {}),
    ...(o.libvirtUri ? { libvirtUri: o.libvirtUri } : {}),
    ...(o.apiServer ? { apiServer: o.apiServer } : {}),
    ...(o.iso ? { iso: o.iso } : {}),
    remotePath: o.remotePath,
    transport: o.transport,
    ...(o.handshakeTimeoutMs ? { handshakeTimeoutMs: o.handshakeTimeoutMs } : {}),
    env,
  };
}

const MARK: Record<CheckResult['status'], string> = { ok: 'ok  ', fail: 'FAIL', warn: 'warn', skip: 'skip' };

function formatCheck(r: CheckResult): string {
  const lines = [`${MARK[r.status]}  ${r.title.padEnd(34)} ${r.detail}`];
  if (r.fix && (r.status === 'fail' || r.status === 'warn')) lines.push(`      fix: ${r.fix}`);
  return lines.join('\n');
}

async function action(ctx: VerbContext, flags: Record<string, unknown>): Promise<number> {
  const options = { ...resolveDoctorOptions(flags, ctx.env), signal: ctx.signal };
  const target = options.socket ? `socket ${options.socket}` : `VM ${options.vmName} (${options.libvirtUri ?? 'qemu:///system'})`;
  ctx.output.info(`qemu-kubesolo doctor: ${target}`);
  // lines appear as checks finish (the agent ones can take seconds); --json prints one object at the end
  const report = await runDoctor(options, undefined, (r) => {
    if (!ctx.output.json) ctx.output.raw(formatCheck(r) + '\n');
  });
  const c = report.counts;
  const summary = `${report.checks.length} checks: ${c.ok} ok, ${c.warn} warn, ${c.fail} failed, ${c.skip} skipped`;
  if (ctx.output.json) ctx.output.result({ ok: report.ok, target: options.socket ? { socket: options.socket } : { vmName: options.vmName }, checks: report.checks, counts: c });
  else ctx.output.result(null, summary);
  return report.ok ? EXIT.OK : EXIT.PARTIAL;
}

export function register(program: Command, run: RunAction): void {
  const cmd = program
    .command('doctor')
    .description('Check what fetching the kubeconfig needs (permissions, channel, agent, commands, kubeconfig, API address, ISO label), each with its fix.');
  addOptions(cmd, DOCTOR_OPTIONS)
    .addHelpText(
      'after',
      `
Each line: ok, FAIL, warn or skip, what was found, and for FAIL/warn the fix. Exit 0 when nothing
failed, 8 when some check failed (warnings do not fail). --json prints {"ok", "checks": [{id, title,
status, detail, fix, data, ms}], "counts"} for wrappers.

Examples:
  $ sudo qemu-kubesolo doctor --vm-name kubesolo --api-server 10.0.0.50 --iso /var/lib/libvirt/images/cidata.iso
  $ qemu-kubesolo doctor --socket /run/vms/kubesolo/qga.sock
  $ qemu-kubesolo --json doctor --vm-name kubesolo | jq '.checks[] | select(.status=="fail")'`,
    )
    .action(run((ctx, flags: Record<string, unknown>) => action(ctx, flags)));
}
