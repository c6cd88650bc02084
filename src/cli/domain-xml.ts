/**
 * `qemu-kubesolo domain-xml`: a libvirt domain definition for a Kubesolo VM (boot disk, cidata CD-ROM,
 * virtio network, serial console, both guest-agent channels), to `virsh define` or feed a wrapper.
 * `qemu-kubesolo virt-install-args`: the same VM as a virt-install command line.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { QksError, zodIssuesToMessage } from '../errors.js';
import { isOwnStdout, writeFileAtomic } from '../files/atomic.js';
import { DOMAIN_FIELD_FLAGS, domainXml, parseDomainSpec, parseNetwork, VmNameSchema, type DomainSpecInput } from '../libvirt/domain-xml.js';
import { formatVirtInstall, virtInstallArgs, VIRT_INSTALL_DEFAULTS } from '../libvirt/virt-install.js';
import type { VerbContext } from './context.js';
import type { RunAction } from './main.js';

const DEFAULT_VM_NAME = 'kubesolo';

/** Flags as commander gives them (strings). */
interface DomainFlags {
  name?: string;
  memory?: string;
  vcpus?: string;
  disk?: string;
  diskFormat?: string;
  iso?: string;
  network?: string;
  mac?: string;
  domainType?: string;
  machine?: string;
  consoleLog?: string;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  output?: string;
}

const NumberFlags = z.object({
  memory: z.string().regex(/^\d+$/, 'must be a whole number of MiB, e.g. 512').transform(Number).optional(),
  vcpus: z.string().regex(/^\d+$/, 'must be a whole number, e.g. 2').transform(Number).optional(),
});

function numbers(flags: { memory?: string; vcpus?: string }): { memory?: number; vcpus?: number } {
  const r = NumberFlags.safeParse({ memory: flags.memory, vcpus: flags.vcpus });
  if (!r.success) throw new QksError('USAGE', zodIssuesToMessage(r.error.issues, { memory: '--memory', vcpus: '--vcpus' }));
  return r.data;
}

/** Paths become absolute (libvirt needs them so); flags > environment > defaults. */
export function resolveDomainSpec(flags: DomainFlags, env: NodeJS.ProcessEnv, cwd = process.cwd()): DomainSpecInput {
  if (!flags.disk) throw new QksError('USAGE', '--disk is required: the boot disk image (qcow2)', { hint: 'e.g. --disk /var/lib/libvirt/images/kubesolo.qcow2' });
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(cwd, p));
  const { memory, vcpus } = numbers(flags);
  const input: DomainSpecInput = {
    name: flags.name ?? env.VM_NAME ?? env.VM_HOSTNAME ?? DEFAULT_VM_NAME,
    disk: abs(flags.disk)!,
    ...(memory !== undefined ? { memoryMiB: memory } : {}),
    ...(vcpus !== undefined ? { vcpus } : {}),
    ...(flags.diskFormat ? { diskFormat: flags.diskFormat as 'qcow2' } : {}),
    ...(flags.iso ? { iso: abs(flags.iso)! } : {}),
    ...(flags.network ? { network: parseNetwork(flags.network) } : {}),
    ...(flags.mac ? { mac: flags.mac } : {}),
    ...(flags.domainType ? { domainType: flags.domainType as 'kvm' } : {}),
    ...(flags.machine ? { machine: flags.machine as 'q35' } : {}),
    ...(flags.consoleLog ? { consoleLog: abs(flags.consoleLog)! } : {}),
    ...(flags.kernel ? { kernel: abs(flags.kernel)! } : {}),
    ...(flags.initrd ? { initrd: abs(flags.initrd)! } : {}),
    ...(flags.cmdline !== undefined ? { cmdline: flags.cmdline } : {}),
  };
  parseDomainSpec(input); // fail here, naming the flag, before anything is written
  return input;
}

async function domainXmlAction(ctx: VerbContext, flags: DomainFlags): Promise<number> {
  const spec = resolveDomainSpec(flags, ctx.env);
  const parsed = parseDomainSpec(spec);
  if (parsed.domainType === 'kvm' && !existsSync('/dev/kvm')) {
    ctx.output.warn('this host has no /dev/kvm: libvirt will refuse type kvm here; use --domain-type qemu (software emulation)');
  }
  if (parsed.iso && !existsSync(parsed.iso)) ctx.output.warn(`the ISO ${parsed.iso} does not exist (yet): make it with qemu-kubesolo artifacts --create-iso`);
  const xml = domainXml(spec);
  if (flags.output && flags.output !== '-' && !(await isOwnStdout(flags.output))) {
    await writeFileAtomic(flags.output, xml, { mode: 0o644 });
    ctx.output.result({ ok: true, path: flags.output, name: parsed.name, bytes: Buffer.byteLength(xml) }, `wrote ${flags.output} (define it with: virsh define ${flags.output})`);
  } else if (ctx.output.json) {
    ctx.output.result({ ok: true, name: parsed.name, xml });
  } else {
    ctx.output.raw(xml);
  }
  return 0;
}

interface VirtInstallFlags {
  name?: string;
  memory?: string;
  vcpus?: string;
  disk?: string;
  iso?: string;
  userData?: string;
  metaData?: string;
  networkConfig?: string;
  network?: string;
  osVariant?: string;
}

async function virtInstallAction(ctx: VerbContext, flags: VirtInstallFlags): Promise<number> {
  const { memory, vcpus } = numbers(flags);
  const name = flags.name ?? ctx.env.VM_NAME ?? ctx.env.VM_HOSTNAME ?? DEFAULT_VM_NAME;
  const checked = VmNameSchema.safeParse(name); // the same name rules as domain-xml
  if (!checked.success) throw new QksError('CONFIG_INVALID', zodIssuesToMessage(checked.error.issues.map((i) => ({ ...i, path: ['name'] })), DOMAIN_FIELD_FLAGS));
  const args = virtInstallArgs({
    name,
    ...(memory !== undefined ? { memoryMiB: memory } : {}),
    ...(vcpus !== undefined ? { vcpus } : {}),
    ...(flags.disk ? { diskPath: resolve(flags.disk) } : {}),
    ...(flags.iso ? { isoPath: resolve(flags.iso) } : {}),
    ...(flags.userData ? { userData: resolve(flags.userData) } : {}),
    ...(flags.metaData ? { metaData: resolve(flags.metaData) } : {}),
    ...(flags.networkConfig ? { networkConfig: resolve(flags.networkConfig) } : {}),
    ...(flags.network ? { network: flags.network } : {}),
    ...(flags.osVariant ? { osVariant: flags.osVariant } : {}),
  });
  ctx.output.result({ ok: true, program: 'virt-install', args }, formatVirtInstall(args));
  return 0;
}

export function register(program: Command, run: RunAction): void {
  program
    .command('domain-xml')
    .description('Print a libvirt domain XML for a Kubesolo VM: boot disk, cidata CD-ROM, virtio NIC, serial console, both guest-agent channels.')
    .requiredOption('--disk <path>', 'boot disk image (qcow2), e.g. an Alpine cloud image copy')
    .option('--name <name>', `domain name (env VM_NAME, VM_HOSTNAME; default ${DEFAULT_VM_NAME})`)
    .option('--memory <MiB>', 'memory in MiB (default 512)')
    .option('--vcpus <n>', 'virtual CPUs (default 2)')
    .option('--disk-format <fmt>', 'qcow2 or raw (default qcow2)')
    .option('--iso <path>', 'the cidata.iso to attach as a read-only CD-ROM (SATA on q35, IDE on pc)')
    .option('--network <spec>', 'network=NAME, bridge=IFACE or none (default network=default)')
    .option('--mac <addr>', 'MAC address of the NIC (default: libvirt picks one)')
    .option('--domain-type <type>', 'kvm, or qemu for software emulation on hosts without /dev/kvm (default kvm)')
    .option('--machine <type>', 'q35 or pc (default q35)')
    .option('--console-log <file>', 'serial console to this file instead of a pty')
    .option('--kernel <path>', 'direct kernel boot: kernel image (tests)')
    .option('--initrd <path>', 'direct kernel boot: initramfs')
    .option('--cmdline <args>', 'direct kernel boot: kernel command line')
    .option('-o, --output <file>', 'write the XML to FILE (atomically, mode 0644) instead of stdout')
    .addHelpText(
      'after',
      `
The channels: org.qemu.guest_agent.0 (libvirt connects to it and keeps it) and org.qemu.guest_agent.1
(qemu-kubesolo's own; the cloud-init we generate runs a second qemu-ga on it), each with
<source mode='bind'/> so libvirt places the socket where qemu-kubesolo looks for it.

Examples:
  $ qemu-kubesolo domain-xml --name kubesolo --disk /var/lib/libvirt/images/kubesolo.qcow2 \\
      --iso /var/lib/libvirt/images/kubesolo-cidata.iso --output kubesolo.xml && virsh define kubesolo.xml
  $ qemu-kubesolo domain-xml --disk /srv/vm.qcow2 --iso ./artifacts/cidata.iso --network bridge=br0 --domain-type qemu
  $ qemu-kubesolo --json domain-xml --disk /srv/vm.qcow2 | jq -r .xml`,
    )
    .action(run((ctx, flags: DomainFlags) => domainXmlAction(ctx, flags)));

  program
    .command('virt-install-args')
    .description('Print the virt-install command for a Kubesolo VM (the guide\'s, plus both guest-agent channels and the ISO).')
    .option('--name <name>', `domain name (env VM_NAME, VM_HOSTNAME; default ${DEFAULT_VM_NAME})`)
    .option('--memory <MiB>', `memory in MiB (default ${VIRT_INSTALL_DEFAULTS.memoryMiB})`)
    .option('--vcpus <n>', `virtual CPUs (default ${VIRT_INSTALL_DEFAULTS.vcpus})`)
    .option('--disk <path>', `boot disk (default ${VIRT_INSTALL_DEFAULTS.diskPath})`)
    .option('--iso <path>', 'the cidata.iso, attached as a CD-ROM (preferred over --user-data)')
    .option('--user-data <path>', 'seed files for virt-install --cloud-init, when no ISO')
    .option('--meta-data <path>', 'meta-data for --cloud-init')
    .option('--network-config <path>', 'network-config for --cloud-init')
    .option('--network <spec>', `virt-install --network value (default ${VIRT_INSTALL_DEFAULTS.network})`)
    .option('--os-variant <v>', `virt-install --os-variant (default ${VIRT_INSTALL_DEFAULTS.osVariant})`)
    .addHelpText(
      'after',
      `
Prints a shell command (with --json: {"program","args"} for wrappers that exec it without a shell).

Examples:
  $ qemu-kubesolo virt-install-args --name kubesolo --disk /var/lib/libvirt/images/kubesolo.qcow2 --iso ./artifacts/cidata.iso
  $ qemu-kubesolo --json virt-install-args --name kubesolo | jq -r '.args[]'`,
    )
    .action(run((ctx, flags: VirtInstallFlags) => virtInstallAction(ctx, flags)));
}
