// Artifacts with ISO for 1000 VMs from one process (median per VM), beside cloud-localds per VM (a
// whole process, Debian's cloud-image-utils) in the same run; plus our CLI as a whole process per VM
// and one `--inventory` run of 1000 VMs. With QKS_BENCH_BEFORE (bench/lib.ts) every row of ours runs
// beside the older build's, interleaved, and a second table gives old, new and new/old.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, besideModules, measureInterleaved, measureProcess, report, reportBeside, type Sample } from './lib.js';
import * as configNew from '../src/cloudinit/config.js';
import * as artifactsNew from '../src/cloudinit/artifacts.js';
import { sha512Crypt } from '../src/cloudinit/password.js';

const VMS = 1000;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH ops@example.com';
const work = mkdtempSync(join(tmpdir(), 'qks-bench-'));
const env = { HOME: work, PATH: process.env.PATH };
const hash = sha512Crypt('your-secure-password');

interface Side {
  tag: string;
  cli: string;
  config: typeof configNew;
  artifacts: typeof artifactsNew;
}
const sides: Side[] = [];
if (before) {
  const m = await besideModules(['src/cloudinit/config.ts', 'src/cloudinit/artifacts.ts']);
  sides.push({ tag: 'new', cli: 'dist/qemu-kubesolo.mjs', config: m.new[0] as typeof configNew, artifacts: m.new[1] as typeof artifactsNew });
  sides.push({ tag: 'old', cli: before.cli, config: m.old[0] as typeof configNew, artifacts: m.old[1] as typeof artifactsNew });
} else sides.push({ tag: 'new', cli: 'dist/qemu-kubesolo.mjs', config: configNew, artifacts: artifactsNew });
/** The library's input for one VM; builds before the option table took `sshKey` (one key). */
const input = (s: Side, extra: Record<string, unknown>) => ({ ...('sshKeys' in s.config.FIELDS ? { sshKeys: KEY } : { sshKey: KEY }), autoInstallKubesolo: true, createIso: true, ...extra });
const bySide = (samples: Sample[]) => Object.fromEntries(sides.map((s, i) => [s.tag, samples[i]!])) as Record<string, Sample>;

try {
  let n = 0;
  const oneVm = (s: Side, withPassword: boolean) => async () => {
    const i = n++;
    const config = await s.config.resolveArtifactsConfig(
      input(s, { hostname: `node-${i}`, outputDir: join(work, 'lib', String(i)), ...(withPassword ? { password: 'your-secure-password' } : { passwordHash: hash }) }),
      { env: {}, home: work },
    );
    await s.artifacts.writeRendered(config, s.artifacts.renderDocuments(config));
  };
  const tagged = (name: string, s: Side) => (sides.length > 1 ? `${s.tag}: ${name}` : name);
  const lib = bySide(await measureInterleaved(sides.map((s) => ({ name: tagged(`library: artifacts + ISO, ${VMS} VMs in one process (--password-hash)`, s), fn: oneVm(s, false) })), { iterations: VMS, warmup: 20 }));
  const libPw = bySide(await measureInterleaved(sides.map((s) => ({ name: tagged('library: artifacts + ISO per VM, hashing a --password (SHA-512 crypt)', s), fn: oneVm(s, true) })), { iterations: 100, warmup: 5 }));

  // cloud-localds on the same documents, one process per VM as a wrapper would run it
  const seed = join(work, 'seed');
  spawnSync(process.execPath, ['dist/qemu-kubesolo.mjs', 'artifacts', '--output-dir', seed, '--ssh-key', KEY, '--auto-install-kubesolo'], { env, stdio: 'ignore' });
  const localds = await measureProcess('cloud-localds seed.iso user-data meta-data (whole process)', 'cloud-localds', [join(work, 'localds.iso'), join(seed, 'user-data'), join(seed, 'meta-data')], { iterations: 30, warmup: 3 });

  let m = 0;
  const run = (s: Side, args: string[]) => {
    const r = spawnSync(process.execPath, [s.cli, 'artifacts', '--quiet', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${s.tag}: ${r.stderr.toString()}`);
  };
  const cli = bySide(
    await measureInterleaved(
      sides.map((s) => ({
        name: tagged('qemu-kubesolo artifacts --create-iso (whole process per VM)', s),
        fn: () => run(s, ['--hostname', `cli-${m}`, '--output-dir', join(work, 'cli', String(m++)), '--ssh-key', KEY, '--password-hash', hash, '--auto-install-kubesolo', '--create-iso']),
      })),
      { iterations: 30, warmup: 3 },
    ),
  );

  // One process, 1000 VMs from an inventory: whole run divided by the VM count
  const inv = join(work, 'vms.yaml');
  writeFileSync(inv, `vms:\n${Array.from({ length: VMS }, (_, i) => `  - hostname: inv-${i}\n`).join('')}`);
  let r = 0;
  const inventory = bySide(
    (
      await measureInterleaved(
        sides.map((s) => ({
          name: tagged(`qemu-kubesolo artifacts --inventory (${VMS} VMs, one process), per VM`, s),
          fn: () => run(s, ['--inventory', inv, '--output-dir', join(work, `inv${r++}`), '--ssh-key', KEY, '--password-hash', hash, '--create-iso']),
        })),
        { iterations: 3, warmup: 0 },
      )
    ).map((x) => ({ ...x, ms: x.ms.map((t) => t / VMS) })),
  );

  const all = [lib, libPw, cli, inventory];
  report('cidata seed per VM', localds, all.flatMap((x) => sides.map((s) => x[s.tag]!)));
  if (before) reportBeside('cidata seed per VM', all.map((x) => ({ name: x.new!.name.replace(/^new: /, ''), old: x.old!, new: x.new! })));
} finally {
  rmSync(work, { recursive: true, force: true });
}
