import type { Command } from 'commander';
import { QksError } from '../errors.js';
import { resolveArtifactsConfig, type ArtifactsConfig, type ArtifactsFlags } from '../cloudinit/config.js';
import { renderDocuments, writeRendered, type ArtifactsResult, type RenderArtifactsOptions, type RenderedDocuments } from '../cloudinit/artifacts.js';
import { resolveInventory } from '../cloudinit/inventory.js';
import { builtinTemplates, loadTemplateDir, type TemplateSet } from '../cloudinit/templates.js';
import type { VerbContext } from './context.js';
import type { RunAction } from './main.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const HELP = `
Settings come from flags, then environment variables, then defaults:
  --ssh-key            SSH_PUBLIC_KEY          first valid ~/.ssh/*.pub (id_ed25519 first)
  --hostname           VM_HOSTNAME             kubesolo
  --username           VM_USER                 alpine
  --password           VM_PASSWORD             alpine (stored only as a SHA-512 crypt hash)
  --password-hash      VM_PASSWORD_HASH        (a ready $6$/$5$/$2b$ hash instead of a password)
  --auto-install-kubesolo AUTO_INSTALL_KUBESOLO false
  --kubesolo-version   KUBESOLO_RELEASE        v1.1.0
  --arch               VM_ARCH                 the host's (amd64 or arm64)
  --output-dir         ARTIFACTS_DIR           ./artifacts
  --create-iso         CREATE_ISO              false
  --template           CLOUD_INIT_TEMPLATE_DIR the built-in templates
  --instance-id        VM_INSTANCE_ID          iid-<digest of the settings>
  --api-address        KUBECONFIG_API_ADDRESS  none (comma-separated in the variable)
  --ip / --gateway / --dns / --interface   VM_IP / VM_GATEWAY / VM_DNS / VM_INTERFACE   DHCP / - / - / eth0
  SOURCE_DATE_EPOCH: reproducible output (password salt and ISO timestamps derived from it).

Examples:
  $ qemu-kubesolo artifacts --ssh-key "$(cat ~/.ssh/id_ed25519.pub)" --hostname prod-kubesolo-01 \\
      --auto-install-kubesolo --kubesolo-version v1.1.0 --output-dir ./my-artifacts --create-iso
  $ AUTO_INSTALL_KUBESOLO=true VM_HOSTNAME=node1 qemu-kubesolo artifacts --create-iso --json
  $ qemu-kubesolo artifacts --hostname node2 --ip 192.168.122.52/24 --gateway 192.168.122.1 \\
      --dns 192.168.122.1 --api-address 203.0.113.10 --api-address k8s.example.com
  $ qemu-kubesolo artifacts --template ./my-templates --output-dir ./out
  $ qemu-kubesolo artifacts --inventory vms.yaml --output-dir ./seeds --create-iso
      (vms.yaml:  vms: [ {hostname: node-01, ip: 192.168.122.51/24}, {hostname: node-02} ];
       keys are the flag names; each VM goes to OUTPUT_DIR/<hostname>)

Passing --password on the command line shows it to other local users (ps): prefer VM_PASSWORD or
--password-hash "$(openssl passwd -6)".`;

interface Opts extends ArtifactsFlags {
  inventory?: string;
}

export function register(program: Command, run: RunAction): void {
  program
    .command('artifacts')
    .description('write cloud-init artifacts (user-data, meta-data, network-config with --ip) and optionally cidata.iso for an Alpine + Kubesolo VM')
    .option('--ssh-key <key>', 'SSH public key line, or the path of a .pub file')
    .option('--hostname <name>', 'VM hostname (RFC 1123 label)')
    .option('--username <name>', 'login user created in the VM')
    .option('--password <password>', "the user's password (written only as a SHA-512 crypt hash)")
    .option('--password-hash <hash>', 'a ready crypt hash ($6$...) instead of --password')
    .option('--auto-install-kubesolo', 'install and start Kubesolo at first boot')
    .option('--no-auto-install-kubesolo', 'do not install Kubesolo (overrides AUTO_INSTALL_KUBESOLO)')
    .option('--kubesolo-version <vX.Y.Z>', 'Kubesolo release to install')
    .option('--arch <arch>', 'VM architecture: amd64 or arm64')
    .option('--output-dir <dir>', 'directory for the artifacts (made 0700; files 0600)')
    .option('--create-iso', 'also write cidata.iso (NoCloud seed) for attaching as a CD-ROM')
    .option('--no-create-iso', 'do not write cidata.iso (overrides CREATE_ISO)')
    .option('--template <dir>', 'directory with your user-data.template (and optionally meta-data/network-config templates)')
    .option('--instance-id <id>', 'cloud-init instance-id (default: a digest of the settings)')
    .option('--api-address <address>', 'address clients use for the API server (IP or DNS name; repeatable): added to the certificate', collect)
    .option('--ip <cidr>', 'static address with prefix, e.g. 192.168.122.50/24 (DHCP when absent)')
    .option('--gateway <ip>', 'default gateway for --ip')
    .option('--dns <ip>', 'DNS server for --ip (repeatable)', collect)
    .option('--interface <name>', 'interface for --ip (Alpine names the first virtio NIC eth0)')
    .option('--inventory <file>', 'YAML list of VMs: one directory per VM, all validated before any is written')
    .addHelpText('after', HELP)
    .action(run(async (ctx, opts: Opts) => artifactsAction(ctx, opts)));
}

/** SOURCE_DATE_EPOCH, validated: it seeds the salt and stamps the ISO. */
function sourceDateEpoch(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,12}$/.test(raw)) {
    throw new QksError('CONFIG_INVALID', `SOURCE_DATE_EPOCH: must be whole seconds since 1970 (got ${JSON.stringify(raw.slice(0, 40))})`, {
      hint: 'Unset it, or set it to a Unix time such as 1700000000.',
    });
  }
  return Number(raw);
}

async function artifactsAction(ctx: VerbContext, opts: Opts): Promise<number> {
  const epoch = sourceDateEpoch(ctx.env);
  const renderOptions: RenderArtifactsOptions = epoch === undefined ? {} : { epoch, saltSeed: String(epoch) };

  // Everything is resolved, validated and rendered before the first file is written.
  const configs: ArtifactsConfig[] = opts.inventory
    ? await resolveInventory(opts.inventory, opts, { env: ctx.env, signal: ctx.signal })
    : [await resolveArtifactsConfig(opts, { env: ctx.env, signal: ctx.signal })];
  const templateDir = configs[0]!.templateDir;
  const templates: TemplateSet = templateDir ? await loadTemplateDir(templateDir, ctx.signal) : builtinTemplates();
  const rendered: RenderedDocuments[] = configs.map((c) => renderDocuments(c, { ...renderOptions, templates }));

  const results: ArtifactsResult[] = [];
  for (const [i, config] of configs.entries()) {
    const r = await writeRendered(config, rendered[i]!, renderOptions);
    results.push(r);
    for (const w of r.warnings) ctx.output.warn(opts.inventory ? `${config.hostname}: ${w}` : w);
    for (const p of r.removed) ctx.output.info(`removed ${p} (not part of this seed)`);
    for (const source of config.sshKeySources) if (!['flag', 'env', 'inventory'].includes(source)) ctx.output.verbose(`SSH key from ${source}`);
    ctx.output.info(`wrote ${r.files.map((f) => f.path).join(', ')} (instance-id ${r.instanceId})`);
    if (!opts.inventory) ctx.output.info(`\nCreate the VM with:\n${r.virtInstall.command}\n`);
    ctx.output.result(
      { ok: true, hostname: config.hostname, ...r },
      r.files.map((f) => `${f.path}  ${f.bytes} bytes  sha256:${f.sha256}`).join('\n'),
    );
  }
  return 0;
}
