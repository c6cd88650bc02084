/**
 * Guest-agent calls through libvirtd's RPC socket (our libvirt transport) vs the direct dedicated
 * channel vs `virsh qemu-agent-command` (whole processes: the guide's flow, the baseline), against the
 * same test VM under a real libvirtd. Root only. Uses a running domain named by QKS_BENCH_VM, else
 * boots one from the test initramfs (.cache/vm/, built by the VM tier) and destroys it afterwards.
 * With QKS_BENCH_BEFORE (bench/lib.ts) the reads also run beside the older build's, interleaved.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AgentClient } from '../src/agent/client.js';
import { openAgent } from '../src/agent/connect.js';
import { openLibvirtTransport } from '../src/agent/libvirt-rpc/transport.js';
import { bareRoundTrip, before, besideModules, measure, measureInterleaved, measureProcess, report, reportBeside, type Sample } from './lib.js';

const KC = '/var/lib/kubesolo/pki/admin/admin.kubeconfig';
const BUNDLE = 'dist/qemu-kubesolo.mjs';

function skip(why: string): never {
  console.log(`skipped: ${why}`);
  process.exit(0);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) skip('needs root (libvirtd, the channel sockets)');
  const { ensureLibvirtd, missingLibvirtd, newestTestInitramfs, startTestDomain } = await import('../test/helpers/libvirtd.js');
  const missing = missingLibvirtd();
  if (missing) skip(missing);
  const lv = await ensureLibvirtd();
  let name = process.env.QKS_BENCH_VM;
  let destroy = () => {};
  if (!name) {
    const initrd = newestTestInitramfs();
    if (!initrd) skip('no test initramfs in .cache/vm (run the VM tier once: npm run test:vm -- test/vm/libvirt-agent.test.ts), and QKS_BENCH_VM is not set');
    const vm = await startTestDomain({ name: 'qks-bench-libvirt', initrd });
    destroy = vm.destroy;
    console.log(`booted ${vm.name}; agent after ${await vm.waitForAgent()} ms`);
    name = vm.name;
  }
  try {
    console.log(`libvirtd ${lv.version}, VM ${name}`);

    // --- one agent ping -----------------------------------------------------------------------
    const virshPing = await measureProcess('virsh qemu-agent-command guest-ping (process)', 'virsh', ['-c', 'qemu:///system', 'qemu-agent-command', name, '{"execute":"guest-ping"}']);
    const lvSession = await measure('libvirt transport: connect+auth+open+lookup+ping+close', async () => {
      const t = await openLibvirtTransport({ domain: name });
      await t.execute('guest-ping');
      await t.close();
    });
    const lvOpen = await openLibvirtTransport({ domain: name });
    const lvPing = await measure('libvirt transport: ping on an open session', () => lvOpen.execute('guest-ping'));
    await lvOpen.close();
    const directSession = await measure('direct dedicated channel: discover+connect+sync+ping+close', async () => {
      const c = await openAgent({ vmName: name, transport: 'direct' });
      await c.ping();
      await c.close();
    });
    const d = await openAgent({ vmName: name, transport: 'direct' });
    const directPing = await measure('direct dedicated channel: ping on an open connection', () => d.ping());
    const channel = d.transportInfo.channel;
    const socketPath = d.transportInfo.socketPath!;
    await d.close();
    // the floor for the direct path: what the guest and QEMU cost a client that does nothing else
    const rawSession = await measure('minimal node client: connect+0xFF+sync+ping+close (same socket)', () => bareRoundTrip(socketPath, 'guest-ping'));
    report(`guest-ping (direct used ${channel})`, virshPing, [lvSession, lvPing, directSession, directPing, rawSession]);

    // --- a kubeconfig-sized file read ---------------------------------------------------------
    const script = `set -e; V="virsh -c qemu:///system qemu-agent-command ${name}"
h=$($V '{"execute":"guest-file-open","arguments":{"path":"${KC}","mode":"r"}}' | sed 's/[^0-9]//g')
$V "{\\"execute\\":\\"guest-file-read\\",\\"arguments\\":{\\"handle\\":$h,\\"count\\":65536}}" >/dev/null
$V "{\\"execute\\":\\"guest-file-close\\",\\"arguments\\":{\\"handle\\":$h}}" >/dev/null`;
    const virshRead = await measureProcess('virsh qemu-agent-command open/read/close (3 processes)', 'bash', ['-c', script]);
    let size = 0;
    const lvRead = await measure('libvirt transport: session + readFile', async () => {
      const c = new AgentClient(await openLibvirtTransport({ domain: name }));
      size = (await c.readFile(KC)).length;
      await c.close();
    });
    const directRead = await measure('direct dedicated channel: session + readFile', async () => {
      const c = await openAgent({ vmName: name, transport: 'direct' });
      await c.readFile(KC);
      await c.close();
    });
    const cli: Awaited<ReturnType<typeof measureProcess>>[] = [];
    if (existsSync(BUNDLE)) {
      for (const t of ['libvirt', 'direct']) {
        cli.push(await measureProcess(`qemu-kubesolo kubeconfig --transport ${t} (process)`, process.execPath, [BUNDLE, 'kubeconfig', '--vm-name', name, '--transport', t, '--output', '-', '--no-verify-server'], { env: { PATH: '/nonexistent', HOME: '/tmp' } }));
      }
    }
    report(`kubeconfig read (${size} bytes)`, virshRead, [lvRead, directRead, ...cli]);

    // --- beside the older build (QKS_BENCH_BEFORE): the same reads, interleaved -------------------
    if (before) {
      const m = await besideModules(['src/agent/connect.ts']);
      const viaLib = (connect: typeof openAgent, transport: 'libvirt' | 'direct') => async () => {
        const c = await connect({ vmName: name, transport });
        try {
          return await c.readFile(KC);
        } finally {
          await c.close();
        }
      };
      const viaCli = (bundle: string, transport: string) => () => {
        const r = spawnSync(process.execPath, [bundle, 'kubeconfig', '--vm-name', name!, '--transport', transport, '--output', '-', '--no-verify-server', '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: '/nonexistent', HOME: '/tmp' } });
        if (r.status !== 0) throw new Error(`${bundle}: ${r.stderr.toString().slice(0, 300)}`);
      };
      const rows: { name: string; old: Sample; new: Sample }[] = [];
      for (const t of ['libvirt', 'direct'] as const) {
        const what = `openAgent (${t}) + readFile + close, in-process`;
        const [n, o] = await measureInterleaved([{ name: what, fn: viaLib(m.new[0]!.openAgent, t) }, { name: what, fn: viaLib(m.old[0]!.openAgent, t) }], { iterations: 40, warmup: 4 });
        rows.push({ name: what, new: n!, old: o! });
      }
      for (const t of ['libvirt', 'direct'] as const) {
        const what = `qemu-kubesolo kubeconfig --transport ${t} (whole process)`;
        const [n, o] = await measureInterleaved([{ name: what, fn: viaCli(BUNDLE, t) }, { name: what, fn: viaCli(before.cli, t) }], { iterations: 15, warmup: 2 });
        rows.push({ name: what, new: n!, old: o! });
      }
      reportBeside(`reads through a real libvirtd (VM ${name})`, rows);
    }
  } finally {
    destroy();
  }
}

if (spawnSync('sh', ['-c', 'command -v virsh']).status !== 0) skip('virsh is not installed (the baseline)');
await main();
