/**
 * Records real libvirtd traffic into fixtures/libvirt/ for the decoder tests (run as root, by hand:
 *   npx esbuild test/agent/libvirt-rpc/record-fixtures.ts --bundle --platform=node --format=esm \
 *     --define:import.meta.url='"file://$PWD/test/vm/harness/initramfs.ts"' \
 *     --outfile=.cache/record-fixtures.mjs && node .cache/record-fixtures.mjs
 * ). Boots two test domains (agent running; agent not running), runs each scenario through our own
 * transport with a tap on the socket, and for the polkit scenarios re-runs itself as a test user.
 * Chunks are kept as the kernel delivered them, so the split points are real ones too.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { runScenario, SCENARIOS, type Recording } from './scenarios.js';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';

// run from the repository root (the bundle's import.meta.url points at the harness, see above)
const OUT = `${process.cwd()}/fixtures/libvirt/`;

async function main(): Promise<void> {
  const [mode, scenario, domain] = process.argv.slice(2);
  if (mode === 'one') {
    // child: one scenario as the current user; the recording goes to stdout
    const rec = await runScenario(scenario!, domain!);
    process.stdout.write(JSON.stringify(rec));
    return;
  }
  const { ensureLibvirtd, startTestDomain, ensureUser } = await import('../../helpers/libvirtd.js');
  const { version } = await ensureLibvirtd();
  const vm = await startTestDomain({ name: 'qks-rec' });
  const noga = await startTestDomain({ name: 'qks-rec-noga', kernelArgs: 'qks_noagent=1' });
  try {
    await vm.waitForAgent();
    await noga.waitForConsole(/QKS: ready/);
    ensureUser('qksrec', ['libvirt']);
    ensureUser('qksrecout', []);
    mkdirSync(OUT, { recursive: true });
    for (const s of SCENARIOS) {
      const dom = s.domain === 'noga' ? noga.name : s.domain === 'vm' ? vm.name : 'qks-no-such-domain';
      let rec: Recording;
      if (s.user) {
        const r = spawnSync('runuser', ['-u', s.user, '--', process.execPath, process.argv[1]!, 'one', s.name, dom], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`${s.name} as ${s.user}: ${r.stderr}`);
        rec = JSON.parse(r.stdout) as Recording;
      } else {
        rec = await runScenario(s.name, dom);
      }
      rec.libvirtd = version;
      rec.qemuGa = execFileSync('/usr/sbin/qemu-ga', ['-V'], { encoding: 'utf8' }).trim();
      writeFileSync(`${OUT}${s.name}.json`, JSON.stringify(rec, null, 1) + '\n');
      console.log(`${s.name}: ${rec.out.length} chunks out, ${rec.in.length} in, ${rec.outcome}`);
    }
    // libvirt's own client, through a recording proxy: what our encoder must match byte for byte
    const rec = await recordVirsh(vm.name);
    rec.libvirtd = version;
    writeFileSync(`${OUT}virsh-agent-command.json`, JSON.stringify(rec, null, 1) + '\n');
    console.log(`virsh-agent-command: ${rec.out.length} chunks out, ${rec.in.length} in`);
  } finally {
    vm.destroy();
    noga.destroy();
  }
}

/** Runs `virsh qemu-agent-command` through a unix-socket proxy to libvirt-sock, recording both ways. */
async function recordVirsh(domain: string): Promise<Recording> {
  const sock = `${tmpdir()}/qks-record-${process.pid}.sock`;
  rmSync(sock, { force: true });
  const rec: Recording = {
    scenario: 'virsh-agent-command',
    description: `virsh -c qemu:///system?socket=PROXY qemu-agent-command --timeout 5 ${domain} '{"execute":"guest-ping"}' (libvirt's own client)`,
    uid: 0,
    outcome: 'ok',
    results: [],
    out: [],
    in: [],
  };
  const server = createServer((client) => {
    const up = connect('/var/run/libvirt/libvirt-sock');
    client.on('data', (d) => (rec.out.push(d.toString('hex')), up.write(d)));
    up.on('data', (d) => (rec.in.push(d.toString('hex')), client.write(d)));
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    // async: the proxy runs in this process's event loop
    const { stdout } = await promisify(execFile)('virsh', ['-c', `qemu:///system?socket=${sock}`, 'qemu-agent-command', '--timeout', '5', domain, '{"execute":"guest-ping"}'], { timeout: 30_000 });
    rec.results = [JSON.parse(stdout)];
  } finally {
    server.close();
    rmSync(sock, { force: true });
  }
  return rec;
}

await main();
