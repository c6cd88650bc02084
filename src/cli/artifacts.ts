import type { Command } from 'commander';
import { resolveArtifactsConfig, type ArtifactsConfig, type ArtifactsInput } from '../cloudinit/config.js';
import { renderDocuments, writeRendered, type ArtifactsResult, type RenderArtifactsOptions, type RenderedDocuments } from '../cloudinit/artifacts.js';
import { resolveInventory } from '../cloudinit/inventory.js';
import { builtinTemplates, loadTemplateDir, type TemplateSet } from '../cloudinit/templates.js';
import type { VerbContext } from './context.js';
import type { RunAction } from './main.js';
import { ARTIFACTS_CLI_OPTIONS, ARTIFACTS_OPTIONS } from '../options/artifacts.js';
import { epochFromEnv } from '../options/iso.js';
import { addOptions, givenFlags, resolveFlags } from './options.js';

const HELP = `
Settings come from flags, then environment variables, then defaults (each option above names its
variable and default; an empty variable counts as unset). SOURCE_DATE_EPOCH: reproducible output
(password salt and ISO timestamps derived from it).

Examples:
  $ qemu-kubesolo artifacts --ssh-key "$(cat ~/.ssh/id_ed25519.pub)" --hostname prod-kubesolo-01 \\
      --auto-install-kubesolo --output-dir ./my-artifacts --create-iso
  $ AUTO_INSTALL_KUBESOLO=true VM_HOSTNAME=node1 qemu-kubesolo artifacts --create-iso --json
  $ qemu-kubesolo artifacts --hostname node2 --ip 192.168.122.52/24 --gateway 192.168.122.1 \\
      --dns 192.168.122.1 --api-address 203.0.113.10 --api-address k8s.example.com
  $ qemu-kubesolo artifacts --auto-install-kubesolo --create-iso \\
      --kubesolo-url file:///opt/kubesolo/kubesolo-v1.1.7-linux-amd64-musl.tar.gz \\
      --apk-repository http://mirror.lan/alpine/v3.22/main --apk-repository http://mirror.lan/alpine/v3.22/community
      (air-gapped: Kubesolo from a file the image holds, packages from a local mirror)
  $ qemu-kubesolo artifacts --template ./my-templates --output-dir ./out
  $ qemu-kubesolo artifacts --inventory vms.yaml --output-dir ./seeds --create-iso
      (vms.yaml:  vms: [ {hostname: node-01, ip: 192.168.122.51/24}, {hostname: node-02} ];
       keys are the flag names; each VM goes to OUTPUT_DIR/<hostname>)

Passing --password on the command line shows it to other local users (ps): prefer VM_PASSWORD or
--password-hash "$(openssl passwd -6)".`;

export function register(program: Command, run: RunAction): void {
  const cmd = program
    .command('artifacts')
    .description('write cloud-init artifacts (user-data, meta-data, network-config with --ip) and optionally cidata.iso for an Alpine + Kubesolo VM');
  addOptions(addOptions(cmd, ARTIFACTS_OPTIONS), ARTIFACTS_CLI_OPTIONS)
    .addHelpText('after', HELP)
    .action(run(async (ctx, parsed: Record<string, unknown>) => artifactsAction(ctx, parsed)));
}

async function artifactsAction(ctx: VerbContext, parsed: Record<string, unknown>): Promise<number> {
  const epoch = epochFromEnv(ctx.env);
  const { inventory } = resolveFlags(ARTIFACTS_CLI_OPTIONS, parsed, ctx.env, 'Run qemu-kubesolo artifacts --help.');
  // the table maps flags to fields; resolveArtifactsConfig layers inventory > flags > environment > defaults
  const opts: ArtifactsInput = givenFlags(ARTIFACTS_OPTIONS, parsed);
  const renderOptions: RenderArtifactsOptions = epoch === undefined ? {} : { epoch, saltSeed: String(epoch) };

  // Everything is resolved, validated and rendered before the first file is written.
  const configs: ArtifactsConfig[] = inventory
    ? await resolveInventory(inventory, opts, { env: ctx.env, signal: ctx.signal })
    : [await resolveArtifactsConfig(opts, { env: ctx.env, signal: ctx.signal })];
  const templateDir = configs[0]!.templateDir;
  const templates: TemplateSet = templateDir ? await loadTemplateDir(templateDir, ctx.signal) : builtinTemplates();
  const rendered: RenderedDocuments[] = configs.map((c) => renderDocuments(c, { ...renderOptions, templates }));

  const results: ArtifactsResult[] = [];
  for (const [i, config] of configs.entries()) {
    const r = await writeRendered(config, rendered[i]!, renderOptions);
    results.push(r);
    for (const w of r.warnings) ctx.output.warn(inventory ? `${config.hostname}: ${w}` : w);
    for (const p of r.removed) ctx.output.info(`removed ${p} (not part of this seed)`);
    for (const source of config.sshKeySources) if (!['flag', 'env', 'inventory'].includes(source)) ctx.output.verbose(`SSH key from ${source}`);
    ctx.output.info(`wrote ${r.files.map((f) => f.path).join(', ')} (instance-id ${r.instanceId})`);
    if (!inventory) ctx.output.info(`\nCreate the VM with:\n${r.virtInstall.command}\n`);
    ctx.output.result(
      { ok: true, hostname: config.hostname, ...r },
      r.files.map((f) => `${f.path}  ${f.bytes} bytes  sha256:${f.sha256}`).join('\n'),
    );
  }
  return 0;
}
