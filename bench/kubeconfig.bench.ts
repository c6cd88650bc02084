/**
 * `qemu-kubesolo kubeconfig` (whole process, real qemu-ga in unix-listen mode serving a kubeconfig)
 * beside the guide's flow: guest-exec of cat, sleep 1 s, guest-exec-status (two agent round trips, a
 * fresh connection for each as two virsh calls would have), done by a minimal client here. With
 * QKS_BENCH_BEFORE (bench/lib.ts) the whole-process row also runs beside the older build's, interleaved.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bareRoundTrip, before, besideModules, measure, measureInterleaved, measureProcess, report, reportBeside } from './lib.js';
import { getKubeconfig } from '../src/kubeconfig/get.js';
import { resolveKubeconfigOptions } from '../src/kubeconfig/options.js';
import { openAgent } from '../src/agent/connect.js';

const dir = mkdtempSync(join(tmpdir(), 'qks-bench-kc-'));
const sock = join(dir, 'qga.sock');
const remote = join(dir, 'admin.kubeconfig');
const admin = readFileSync('fixtures/kubeconfig/admin.kubeconfig', 'utf8');
writeFileSync(remote, admin);
const qga = spawn('qemu-ga', ['-m', 'unix-listen', '-p', sock, '-t', dir, '-f', join(dir, 'qga.pid')], { stdio: 'ignore' });

async function guideFlow(): Promise<string> {
  const { pid } = await bareRoundTrip(sock, 'guest-exec', { path: '/bin/cat', arg: [remote], 'capture-output': true });
  await sleep(1000);
  const status = await bareRoundTrip(sock, 'guest-exec-status', { pid });
  const text = Buffer.from(status['out-data'], 'base64').toString();
  return text.replace('https://127.0.0.1:', 'https://10.0.0.50:');
}

try {
  for (let i = 0; i < 200 && !existsSync(sock); i++) await sleep(10);
  const out = join(dir, 'out');
  const cli = ['dist/qemu-kubesolo.mjs', 'kubeconfig', '--socket', sock, '--remote-path', remote, '--api-server', '10.0.0.50', '--output', out, '--no-verify-server'];
  const guide = await measure('guide flow: exec cat, sleep 1 s, exec-status (in-process)', guideFlow, { iterations: 5, warmup: 1 });
  const whole = await measureProcess('qemu-kubesolo kubeconfig (whole process)', process.execPath, cli, { iterations: 15 });
  const node = await measureProcess("node -e '' (start-up alone)", process.execPath, ['-e', ''], { iterations: 15 });
  const o = resolveKubeconfigOptions({ socket: sock, remotePath: remote, apiServer: '10.0.0.50', output: out, verifyServer: false }, {});
  const lib = await measure('getKubeconfig() in-process (library)', () => getKubeconfig(o, 'kubesolo', { openAgent }), { iterations: 30 });
  if (readFileSync(out, 'utf8') !== (await guideFlow())) throw new Error('the two flows wrote different kubeconfigs');
  report('kubeconfig from the real qemu-ga', guide, [whole, node, lib]);
  if (before) {
    const proc = (bundle: string) => () => {
      const r = spawnSync(process.execPath, [bundle, ...cli.slice(1)], { stdio: ['ignore', 'ignore', 'pipe'] });
      if (r.status !== 0) throw new Error(`${bundle}: ${r.stderr.toString().slice(0, 300)}`);
    };
    const name = 'qemu-kubesolo kubeconfig --socket (whole process)';
    const [n, od] = await measureInterleaved([{ name, fn: proc(cli[0]!) }, { name, fn: proc(before.cli) }], { iterations: 25, warmup: 2 });
    const m = await besideModules(['src/kubeconfig/get.ts', 'src/kubeconfig/options.ts', 'src/agent/connect.ts']);
    const viaLib = (side: typeof m.new, output: string) => {
      const [get, options, connect] = side as [typeof import('../src/kubeconfig/get.js'), typeof import('../src/kubeconfig/options.js'), typeof import('../src/agent/connect.js')];
      const opts = options.resolveKubeconfigOptions({ socket: sock, remotePath: remote, apiServer: '10.0.0.50', output, verifyServer: false }, {});
      return () => get.getKubeconfig(opts, 'kubesolo', { openAgent: connect.openAgent });
    };
    const libName = 'getKubeconfig() in-process (library)';
    const [ln, lo] = await measureInterleaved([{ name: libName, fn: viaLib(m.new, join(dir, 'out-new')) }, { name: libName, fn: viaLib(m.old, join(dir, 'out-old')) }], { iterations: 150, warmup: 10 });
    reportBeside('kubeconfig from the real qemu-ga', [
      { name, new: n!, old: od! },
      { name: libName, new: ln!, old: lo! },
    ]);
  }
} finally {
  qga.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
