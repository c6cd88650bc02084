/**
 * `qemu-kubesolo domain-xml`: a libvirt domain definition for a Kubesolo VM (boot disk, cidata CD-ROM,
 * virtio network, serial console, both guest-agent channels), to `virsh define` or feed a wrapper.
 * `qemu-kubesolo virt-install-args`: the same VM as a virt-install command line.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isOwnStdout, writeFileAtomic } from '../files/atomic.js';
import { domainXml, parseDomainSpec, parseNetwork, VmNameSchema, type DomainSpecInput } from '../libvirt/domain-xml.js';
import { bootDiskResizeArgs, formatBootDiskResize, formatVirtInstall, virtInstallArgs } from '../libvirt/virt-install.js';
import { DOMAIN_XML_OPTIONS, VIRT_INSTALL_OPTIONS } from '../options/domain-xml.js';
import { fieldNames, parseGathered } from '../options/table.js';
import { z } from 'zod';
import type { VerbContext } from './context.js';
import { addOptions, givenFlags, resolveFlags } from './options.js';
import type { RunAction } from './main.js';

const HINT = 'Fix the value named above; see --help for the accepted forms.';

const resolveWith = <T extends Parameters<typeof resolveFlags>[0]>(table: T, parsed: Record<string, unknown>, env: NodeJS.ProcessEnv) => resolveFlags(table, parsed, env, HINT);

/** Drops unset fields, so the library's defaults apply. */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Paths become absolute (libvirt needs them so); flags > environment > defaults. */
export function resolveDomainSpec(parsed: Record<string, unknown>, env: NodeJS.ProcessEnv, cwd = process.cwd()): DomainSpecInput & { output?: string } {
  const o = resolveWith(DOMAIN_XML_OPTIONS, parsed, env);
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(cwd, p));
  const { output, network, ...rest } = o;
  const input = defined({
    ...rest,
    disk: abs(o.disk)!,
    iso: abs(o.iso),
    consoleLog: abs(o.consoleLog),
    kernel: abs(o.kernel),
    initrd: abs(o.initrd),
    network: network === undefined ? undefined : parseNetwork(network),
  }) as DomainSpecInput;
  parseDomainSpec(input, fieldNames(DOMAIN_XML_OPTIONS)); // fail here, naming the flag, before anything is written
  return { ...input, ...(output !== undefined ? { output } : {}) };
}

async function domainXmlAction(ctx: VerbContext, flags: Record<string, unknown>): Promise<number> {
  const { output, ...spec } = resolveDomainSpec(flags, ctx.env);
  const parsed = parseDomainSpec(spec);
  if (parsed.domainType === 'kvm' && !existsSync('/dev/kvm')) {
    ctx.output.warn('this host has no /dev/kvm: libvirt will refuse type kvm here; use --domain-type qemu (software emulation)');
  }
  if (parsed.iso && !existsSync(parsed.iso)) ctx.output.warn(`the ISO ${parsed.iso} does not exist (yet): make it with qemu-kubesolo artifacts --create-iso`);
  const xml = domainXml(spec);
  if (output && output !== '-' && !(await isOwnStdout(output))) {
    await writeFileAtomic(output, xml, { mode: 0o644 });
    ctx.output.result({ ok: true, path: output, name: parsed.name, bytes: Buffer.byteLength(xml) }, `wrote ${output} (define it with: virsh define ${output})`);
  } else if (ctx.output.json) {
    ctx.output.result({ ok: true, name: parsed.name, xml });
  } else {
    ctx.output.raw(xml);
  }
  return 0;
}

async function virtInstallAction(ctx: VerbContext, flags: Record<string, unknown>): Promise<number> {
  const o = resolveWith(VIRT_INSTALL_OPTIONS, flags, ctx.env);
  parseGathered(VIRT_INSTALL_OPTIONS, z.object({ name: VmNameSchema }), { name: o.name }, HINT); // the same name rules as domain-xml
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(p));
  const args = virtInstallArgs(
    defined({
      ...o,
      diskPath: abs(o.diskPath),
      isoPath: abs(o.isoPath),
      userData: abs(o.userData),
      metaData: abs(o.metaData),
      networkConfig: abs(o.networkConfig),
    }),
  );
  // virt-install --import keeps the image's size (an Alpine cloud image is about 1 GB): say how to grow it
  const resize = bootDiskResizeArgs(abs(o.diskPath));
  ctx.output.info(formatBootDiskResize(resize));
  ctx.output.result({ ok: true, program: 'virt-install', args, resize: ['qemu-img', ...resize] }, formatVirtInstall(args));
  return 0;
}

export function register(program: Command, run: RunAction): void {
  addOptions(
    program
      .command('domain-xml')
      .description('Print a libvirt domain XML for a Kubesolo VM: boot disk, cidata CD-ROM, virtio NIC, serial console, both guest-agent channels.'),
    DOMAIN_XML_OPTIONS,
  )
    .addHelpText(
      'after',
      `
The channels: org.qemu.guest_agent.0 (libvirt connects to it and keeps it) and org.qemu.guest_agent.1
(qemu-kubesolo's own; the cloud-init we generate runs a second qemu-ga on it), each with
<source mode='bind'/> so libvirt places the socket where qemu-kubesolo looks for it.

Examples:
  $ qemu-kubesolo domain-xml --vm-name kubesolo --disk /var/lib/libvirt/images/kubesolo.qcow2 \\
      --iso /var/lib/libvirt/images/kubesolo-cidata.iso --output kubesolo.xml && virsh define kubesolo.xml
  $ qemu-kubesolo domain-xml --disk /srv/vm.qcow2 --iso ./artifacts/cidata.iso --network bridge=br0 --domain-type qemu
  $ qemu-kubesolo --json domain-xml --disk /srv/vm.qcow2 | jq -r .xml`,
    )
    .action(run((ctx, flags: Record<string, unknown>) => domainXmlAction(ctx, flags)));

  addOptions(
    program
      .command('virt-install-args')
      .description("Print the virt-install command for a Kubesolo VM (the guide's, plus both guest-agent channels and the ISO)."),
    VIRT_INSTALL_OPTIONS,
  )
    .addHelpText(
      'after',
      `
Prints a shell command (with --json: {"program","args"} for wrappers that exec it without a shell).

Examples:
  $ qemu-kubesolo virt-install-args --vm-name kubesolo --disk /var/lib/libvirt/images/kubesolo.qcow2 --iso ./artifacts/cidata.iso
  $ qemu-kubesolo --json virt-install-args --vm-name kubesolo | jq -r '.args[]'`,
    )
    .action(run((ctx, flags: Record<string, unknown>) => virtInstallAction(ctx, flags)));
}
