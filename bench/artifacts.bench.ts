// Artifacts with ISO for 1000 VMs from one process (median per VM), beside cloud-localds per VM (a
// whole process, Debian's cloud-image-utils) in the same run; plus our CLI as a whole process per VM
// and one `--inventory` run of 1000 VMs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure, measureProcess, report, type Sample } from './lib.js';
import { resolveArtifactsConfig } from '../src/cloudinit/config.js';
import { renderDocuments, writeRendered } from '../src/cloudinit/artifacts.js';
import { sha512Crypt } from '../src/cloudinit/password.js';

const VMS = 1000;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH ops@example.com';
const work = mkdtempSync(join(tmpdir(), 'qks-bench-'));
const env = { HOME: work, PATH: process.env.PATH };
const hash = sha512Crypt('your-secure-password');

try {
  let n = 0;
  const oneVm = (withPassword: boolean) => async () => {
    const i = n++;
    const config = await resolveArtifactsConfig(
      { hostname: `node-${i}`, sshKeys: KEY, autoInstallKubesolo: true, createIso: true, outputDir: join(work, 'lib', String(i)), ...(withPassword ? { password: 'your-secure-password' } : { passwordHash: hash }) },
      { env: {}, home: work },
    );
    await writeRendered(config, renderDocuments(config));
  };
  const lib = await measure(`library: artifacts + ISO, ${VMS} VMs in one process (--password-hash)`, oneVm(false), { iterations: VMS, warmup: 20 });
  const libPw = await measure('library: artifacts + ISO per VM, hashing a --password (SHA-512 crypt)', oneVm(true), { iterations: 100, warmup: 5 });

  // cloud-localds on the same documents, one process per VM as a wrapper would run it
  const seed = join(work, 'seed');
  spawnSync(process.execPath, ['dist/qemu-kubesolo.mjs', 'artifacts', '--output-dir', seed, '--ssh-key', KEY, '--auto-install-kubesolo'], { env, stdio: 'ignore' });
  const localds = await measureProcess('cloud-localds seed.iso user-data meta-data (whole process)', 'cloud-localds', [join(work, 'localds.iso'), join(seed, 'user-data'), join(seed, 'meta-data')], { iterations: 30, warmup: 3 });

  let m = 0;
  const cli = await measure(
    'qemu-kubesolo artifacts --create-iso (whole process per VM)',
    () => {
      const r = spawnSync(process.execPath, ['dist/qemu-kubesolo.mjs', 'artifacts', '--quiet', '--hostname', `cli-${m}`, '--output-dir', join(work, 'cli', String(m++)), '--ssh-key', KEY, '--password-hash', hash, '--auto-install-kubesolo', '--create-iso'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      if (r.status !== 0) throw new Error(r.stderr.toString());
    },
    { iterations: 30, warmup: 3 },
  );

  // One process, 1000 VMs from an inventory: whole run divided by the VM count
  const inv = join(work, 'vms.yaml');
  writeFileSync(inv, `vms:\n${Array.from({ length: VMS }, (_, i) => `  - hostname: inv-${i}\n`).join('')}`);
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const p = spawnSync(process.execPath, ['dist/qemu-kubesolo.mjs', 'artifacts', '--quiet', '--inventory', inv, '--output-dir', join(work, `inv${r}`), '--ssh-key', KEY, '--password-hash', hash, '--create-iso'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (p.status !== 0) throw new Error(p.stderr.toString());
    runs.push((performance.now() - t) / VMS);
  }
  const inventory: Sample = { name: `qemu-kubesolo artifacts --inventory (${VMS} VMs, one process), per VM`, ms: runs.sort((a, b) => a - b) };

  report('cidata seed per VM', localds, [lib, libPw, cli, inventory]);
} finally {
  rmSync(work, { recursive: true, force: true });
}
