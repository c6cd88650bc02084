/**
 * `qemu-kubesolo doctor`: the guide's troubleshooting as a checklist — who you are, channel socket found
 * and openable, agent answering, guest-file/exec enabled, kubeconfig present, API address reachable,
 * the ISO's SELinux label — each line ok/fail/warn/skip with its fix. Exit 8 when any check fails.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { EXIT, QksError, zodIssuesToMessage } from '../errors.js';
import { runDoctor, type CheckResult, type DoctorOptions } from '../doctor/index.js';
import type { VerbContext } from './context.js';
import type { RunAction } from './main.js';

interface DoctorFlags {
  vmName?: string;
  socket?: string;
  libvirtUri?: string;
  apiServer?: string;
  iso?: string;
  remotePath?: string;
  transport?: string;
  timeout?: string;
}

const FIELD_NAMES = {
  vmName: '--vm-name (VM_NAME)',
  socket: '--socket',
  libvirtUri: '--libvirt-uri (LIBVIRT_URI)',
  apiServer: '--api-server (KUBECONFIG_API_ADDRESS)',
  iso: '--iso',
  remotePath: '--remote-path',
  transport: '--transport',
  timeout: '--timeout',
};

const DoctorFlagsSchema = z.object({
  vmName: z.string().min(1).optional(),
  socket: z.string().min(1).optional(),
  libvirtUri: z.string().min(1).optional(),
  apiServer: z.string().min(1).optional(),
  iso: z.string().min(1).optional(),
  remotePath: z.string().startsWith('/', 'must be an absolute path in the guest').optional(),
  transport: z.enum(['auto', 'direct', 'libvirt']).optional(),
  timeout: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be seconds, e.g. 3')
    .transform((s) => Math.round(Number(s) * 1000))
    .refine((ms) => ms > 0, 'must be more than 0 seconds')
    .optional(),
});

/** Flags > environment > defaults. */
export function resolveDoctorOptions(flags: DoctorFlags, env: NodeJS.ProcessEnv): DoctorOptions {
  const r = DoctorFlagsSchema.safeParse({
    ...flags,
    // an empty variable counts as unset; KUBECONFIG_API_ADDRESS may be a list (as for artifacts): the first
    libvirtUri: flags.libvirtUri ?? (env.LIBVIRT_URI || undefined),
    apiServer: flags.apiServer ?? env.KUBECONFIG_API_ADDRESS?.split(/[\s,]+/).find(Boolean),
  });
  if (!r.success) throw new QksError('USAGE', zodIssuesToMessage(r.error.issues, FIELD_NAMES), { hint: 'Run qemu-kubesolo doctor --help for examples.' });
  const o = r.data;
  const vmName = o.socket ? o.vmName : (o.vmName ?? (env.VM_NAME || env.VM_HOSTNAME || 'kubesolo'));
  return {
    ...(vmName ? { vmName } : {}),
    ...(o.socket ? { socket: o.socket } : {}),
    ...(o.libvirtUri ? { libvirtUri: o.libvirtUri } : {}),
    ...(o.apiServer ? { apiServer: o.apiServer } : {}),
    ...(o.iso ? { iso: o.iso } : {}),
    ...(o.remotePath ? { remotePath: o.remotePath } : {}),
    ...(o.transport ? { transport: o.transport } : {}),
    ...(o.timeout ? { handshakeTimeoutMs: o.timeout } : {}),
    env,
  };
}

const MARK: Record<CheckResult['status'], string> = { ok: 'ok  ', fail: 'FAIL', warn: 'warn', skip: 'skip' };

function formatCheck(r: CheckResult): string {
  const lines = [`${MARK[r.status]}  ${r.title.padEnd(34)} ${r.detail}`];
  if (r.fix && (r.status === 'fail' || r.status === 'warn')) lines.push(`      fix: ${r.fix}`);
  return lines.join('\n');
}

async function action(ctx: VerbContext, flags: DoctorFlags): Promise<number> {
  const options = { ...resolveDoctorOptions(flags, ctx.env), signal: ctx.signal, sshPool: ctx.sshPool };
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
  program
    .command('doctor')
    .description('Check what fetching the kubeconfig needs (permissions, channel, agent, commands, kubeconfig, API address, ISO label), each with its fix.')
    .option('--vm-name <name>', 'libvirt domain to check (env VM_NAME, VM_HOSTNAME; default kubesolo)')
    .option('--socket <path>', 'check this guest-agent socket instead of finding one by VM name')
    .option('--libvirt-uri <uri>', 'libvirt connection URI (env LIBVIRT_URI, default qemu:///system)')
    .option('--api-server <addr>', 'address clients use for the API server: TCP connect to it (port 6443 unless given) (env KUBECONFIG_API_ADDRESS)')
    .option('--iso <path>', 'the cidata.iso: check its SELinux label where SELinux is on')
    .option('--remote-path <path>', 'the kubeconfig in the guest (default /var/lib/kubesolo/pki/admin/admin.kubeconfig)')
    .option('--transport <kind>', 'auto, direct (channel sockets) or libvirt (libvirtd socket), as for kubeconfig')
    .option('--timeout <seconds>', 'bound on the agent handshake (default 3)')
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
    .action(run((ctx, flags: DoctorFlags) => action(ctx, flags)));
}
