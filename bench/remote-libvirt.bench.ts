/**
 * libvirt's remote transports, our client against virsh, in the same run: 20 agent pings of the VMs
 * of one host (QKS_BENCH_VMS test VMs, default 4, with only org.qemu.guest_agent.0; 20 pings round-robin)
 * over ONE libvirtd session — qemu+ssh (the shared libvirtd behind a real sshd on 127.0.0.1, through
 * virt-ssh-helper) and qemu+tls (its TLS listener on 127.0.0.1, test PKI) — against 20
 * `virsh -c URI qemu-agent-command VM guest-ping` processes (the baseline: a new ssh or TLS connection
 * each). Each iteration starts cold (new SSH connection / TLS handshake) and ends closed.
 * Root only; boots its VMs from the test initramfs. Run: npm run bench -- remote-libvirt
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAgent } from '../src/agent/connect.js';
import { parseLibvirtUri } from '../src/libvirt/uri.js';
import { sshHostFor } from '../src/remote/agent.js';
import { connectLibvirtOverSsh } from '../src/remote/libvirtd.js';
import { connectLibvirtOverTls } from '../src/remote/tls.js';
import { SshPool } from '../src/ssh/index.js';
import { startSshd } from '../test/helpers/sshd.js';
import { measure, measureProcess, median, report } from './lib.js';

const PINGS = 20;

function skip(why: string): never {
  console.log(`skipped: ${why}`);
  process.exit(0);
}

if (process.getuid?.() !== 0) skip('needs root (libvirtd, sshd)');
if (spawnSync('sh', ['-c', 'command -v virsh && command -v virt-ssh-helper']).status !== 0) skip('virsh (the baseline) or virt-ssh-helper is not installed');
const { ensureLibvirtd, missingLibvirtd, newestTestInitramfs, startTestDomain } = await import('../test/helpers/libvirtd.js');
const missing = missingLibvirtd();
if (missing) skip(missing);
const lv = await ensureLibvirtd();
const initrd = newestTestInitramfs();
if (!initrd) skip('no test initramfs in .cache/vm (run the VM tier once: npm run test:vm -- test/vm/remote-libvirt.test.ts)');
const count = Number(process.env.QKS_BENCH_VMS ?? 4);
// one at a time, each to its agent: on a loaded host a TCG guest's timer check can fail (no_timer_check)
const vms: Awaited<ReturnType<typeof startTestDomain>>[] = [];
for (let i = 0; i < count; i++) {
  const vm = await startTestDomain({ name: `qks-bench-rl-${i + 1}`, channels: ['org.qemu.guest_agent.0'], memoryMiB: 128, initrd, kernelArgs: 'kc_delay=0 no_timer_check' });
  vms.push(vm);
  await vm.waitForAgent(180_000).catch((e: unknown) => {
    for (const v of vms) v.destroy();
    throw e;
  });
}
const sshd = await startSshd();
// virsh runs `ssh` from PATH: a wrapper that gives it the test sshd's client config (known host key)
const bin = mkdtempSync(join(tmpdir(), 'qks-brl-'));
writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nexec ${spawnSync('sh', ['-c', 'command -v ssh'], { encoding: 'utf8' }).stdout.trim()} -F ${sshd.config} "$@"\n`);
chmodSync(join(bin, 'ssh'), 0o755);
try {
  const names = Array.from({ length: PINGS }, (_, i) => vms[i % vms.length]!.name);
  const env = { ...process.env, QKS_SSH_CONFIG: sshd.config };
  const sshUri = sshd.uri();
  const tlsUri = `qemu+tls://127.0.0.1:${lv.tlsPort}/system?pkipath=${lv.pki.client}`;
  const opts = { iterations: 5, warmup: 1 };
  const virshEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  const virshBatch = (uri: string) =>
    measure(`${PINGS} virsh -c ${uri.split(':')[0]} qemu-agent-command processes`, () => {
      for (const n of names) {
        const r = spawnSync('virsh', ['-c', uri, 'qemu-agent-command', n, '{"execute":"guest-ping"}'], { env: virshEnv, stdio: ['ignore', 'ignore', 'pipe'] });
        if (r.status !== 0) throw new Error(`virsh ${uri}: ${r.stderr.toString().slice(0, 300)}`);
      }
    }, opts);

  // --- qemu+ssh -------------------------------------------------------------------------------
  const virshSsh = await virshBatch(sshUri);
  const oneSsh = await measure(`${PINGS} pings over one qemu+ssh libvirtd session (connect included)`, async () => {
    const pool = new SshPool();
    try {
      const conn = await connectLibvirtOverSsh(sshHostFor(pool, parseLibvirtUri(sshUri), {}, env), parseLibvirtUri(sshUri));
      for (const n of names) await (await conn.lookup(n)).execute('guest-ping');
      await conn.close();
    } finally {
      await pool.close();
    }
  }, opts);
  const perVmSsh = await measure(`${PINGS} openAgent --transport libvirt over one SSH connection (a session each)`, async () => {
    const pool = new SshPool();
    try {
      for (const n of names) {
        const c = await openAgent({ vmName: n, libvirtUri: sshUri, transport: 'libvirt' }, { env, sshPool: pool });
        await c.ping();
        await c.close();
      }
    } finally {
      await pool.close();
    }
  }, opts);
  report(`qemu+ssh: ${PINGS} agent pings, ${vms.length} VMs (libvirtd ${lv.version})`, virshSsh, [oneSsh, perVmSsh]);

  // --- qemu+tls -------------------------------------------------------------------------------
  const virshTls = await virshBatch(tlsUri);
  const oneTls = await measure(`${PINGS} pings over one qemu+tls libvirtd session (handshake included)`, async () => {
    const conn = await connectLibvirtOverTls(parseLibvirtUri(tlsUri));
    for (const n of names) await (await conn.lookup(n)).execute('guest-ping');
    await conn.close();
  }, opts);
  const perVmTls = await measure(`${PINGS} openAgent over qemu+tls (a TLS session each)`, async () => {
    for (const n of names) {
      const c = await openAgent({ vmName: n, libvirtUri: tlsUri }, { env });
      await c.ping();
      await c.close();
    }
  }, opts);
  report(`qemu+tls: ${PINGS} agent pings, ${vms.length} VMs`, virshTls, [oneTls, perVmTls]);
  const one = await measureProcess('one virsh -c qemu+tls ping (process)', 'virsh', ['-c', tlsUri, 'qemu-agent-command', names[0]!, '{"execute":"guest-ping"}'], { iterations: 5, warmup: 1 });
  console.log(`\nper ping: one ssh session ${(median(oneSsh) / PINGS).toFixed(1)} ms, one tls session ${(median(oneTls) / PINGS).toFixed(1)} ms, one virsh tls process ${median(one).toFixed(1)} ms`);
} finally {
  for (const vm of vms) vm.destroy();
  await sshd.stop();
  rmSync(bin, { recursive: true, force: true });
}
