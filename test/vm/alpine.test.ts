/**
 * The seed in an Alpine-shaped guest (test/vm/alpine/README.md): OpenRC + busybox init, cloud-init's
 * Alpine distro class and module lists, ifupdown-ng, no /etc/resolv.conf, an apk shim, qemu-ga at
 * /usr/bin/qemu-ga; booted by the real libvirtd from the project's own domain-xml, with QEMU user
 * networking (restrict=on) and one loopback forward to the guest's 6443. Every check is made from the
 * host: through the tool's dedicated agent channel (org.qemu.guest_agent.1), libvirt's own (.0), and
 * the forward (the real kubectl).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { ensureLibvirtd, missingLibvirtd } from '../helpers/libvirtd.js';
import { describeWithPeers } from '../helpers/peers.js';
import { opensslVerifies, removeSeeds, seedFromTool, TEST_SSH_KEY, type Seed } from './cloud-init/seeds.js';
import { statusErrors, statusSchema, allStagesFinished } from './cloud-init/status.js';
import { vmTierMissing } from './cloud-init/rootfs.js';
import { ALPINE_CLOUD_INIT, ensureAlpineImage, PREEXISTING_USER, STANDIN_TARBALL, type AlpineImage } from './alpine/rootfs.js';
import { startAlpineDomain, virsh, type AlpineDomain } from './alpine/vm.js';

const VM = 'qks-alpine-shaped';
const PASSWORD = 'alpine-shaped-pw';
const API_SANS = ['203.0.113.10', 'k8s.example.com'];
const APK_REPO = 'http://10.0.2.2/alpine/v3.22/main';
/** Bounds: TCG boots on a shared 2-core machine (110-140 s quiet; 420-490 s seen at load 8-19). */
const BOOT_MS = 900_000;

const times: Record<string, number> = {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The tool as users run it, targeting the domain by name (dedicated channel first). */
function tool(args: string[], timeoutMs = 60_000) {
  return runCli(['--json', ...args], { cleanEnv: true, env: { HOME: tmpdir(), NO_COLOR: '1' }, timeoutMs });
}

interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A program in the guest through the tool's `agent exec` (the dedicated channel). */
async function guestExec(argv: string[]): Promise<ExecResult> {
  const r = await tool(['agent', 'exec', '--vm-name', VM, '--transport', 'direct', '--', ...argv], 90_000);
  const j = r.json.at(-1) as { exitCode?: number; stdout?: string; stderr?: string } | undefined;
  if (!j || typeof j.exitCode !== 'number') throw new Error(`agent exec ${argv.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return { exitCode: j.exitCode, stdout: j.stdout ?? '', stderr: j.stderr ?? '' };
}

/** A file in the guest through the tool's `agent cat` (the dedicated channel). */
async function guestFile(path: string): Promise<string | undefined> {
  const r = await runCli(['agent', 'cat', '--vm-name', VM, '--transport', 'direct', path], { cleanEnv: true, env: { HOME: tmpdir() }, timeoutMs: 60_000 });
  return r.code === 0 ? r.stdout : undefined;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(2000);
  }
}

/** Errors that only real Alpine could avoid, each named: none are expected so far. */
const EXPECTED_ERRORS: Array<{ module: string; why: string }> = [];

describeWithPeers(
  'the seed in an Alpine-shaped guest (OpenRC, ifupdown-ng, cloud-init distro alpine) under libvirtd',
  ['libvirtd', 'virsh', 'qemu-system-x86_64', 'debootstrap', 'mkfs.ext4', 'chroot', 'kubectl', 'openssl', 'tar'],
  () => {
    let image: AlpineImage;
    let seed: Seed;
    let vm: AlpineDomain;
    let kubeconfigFile: string;

    beforeAll(async () => {
      let t = performance.now();
      await ensureLibvirtd();
      image = await ensureAlpineImage('trixie');
      times['image (root build / image build)'] = (performance.now() - t) / 1000;
      console.log(`alpine-shaped image: root ${image.rootSeconds.toFixed(0)} s, image ${image.imageSeconds.toFixed(0)} s (0 = cached)`);
      seed = await seedFromTool(
        [
          '--hostname', VM, '--username', PREEXISTING_USER, '--password', PASSWORD, '--ssh-key', TEST_SSH_KEY,
          '--ip', '10.0.2.15/24', '--gateway', '10.0.2.2', '--dns', '10.0.2.3',
          '--auto-install-kubesolo', ...API_SANS.flatMap((a) => ['--api-address', a]), '--kubesolo-url', `file://${STANDIN_TARBALL}`,
        ],
        { APK_REPOSITORIES: APK_REPO }, // the variable of --apk-repository
      );
      t = performance.now();
      vm = await startAlpineDomain(VM, image, seed.iso);
      times['domain defined and started'] = (performance.now() - t) / 1000;
    });

    afterAll(async () => {
      console.log(`alpine-shaped stage times (s): ${JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v)])))}`);
      vm?.destroy();
      await removeSeeds();
    });

    it('boots to the end of OpenRC\'s default runlevel', async () => {
      const t = performance.now();
      await vm.waitForConsole(/QKS: default runlevel/, 1, BOOT_MS);
      times['first boot to the end of the default runlevel'] = (performance.now() - t) / 1000;
    }, BOOT_MS + 60_000);

    it(`cloud-init ${ALPINE_CLOUD_INIT.trixie} with the Alpine distro class finished every stage without errors`, async () => {
      const version = await guestExec(['/usr/bin/cloud-init', '--version']);
      expect(version.stdout + version.stderr).toContain(ALPINE_CLOUD_INIT.trixie);
      await until('boot-finished', 120_000, () => guestFile('/var/lib/cloud/instance/boot-finished'));
      const status = statusSchema.parse(JSON.parse((await guestFile('/var/lib/cloud/data/status.json'))!));
      expect(allStagesFinished(status)).toBe(true);
      expect(status.v1.datasource).toMatch(/NoCloud/);
      const errors = statusErrors(status).filter((e) => !EXPECTED_ERRORS.some((x) => e.text.includes(`'${x.module}'`)));
      expect(errors, JSON.stringify(errors)).toEqual([]);
      const log = (await guestFile('/var/log/cloud-init.log')) ?? '';
      expect(log).toMatch(/distros\.alpine|Distro alpine|distro=alpine|alpine\.Distro/i);
    });

    it('OpenRC started qemu-guest-agent-kubesolo: the tool reads files through org.qemu.guest_agent.1 while libvirt holds .0', async () => {
      const st = await guestExec(['/sbin/rc-service', 'qemu-guest-agent-kubesolo', 'status']);
      expect(st.stdout + st.stderr).toMatch(/started/);
      const ping = await tool(['agent', 'ping', '--vm-name', VM, '--transport', 'direct']);
      expect(ping.code, ping.stderr).toBe(0);
      expect(JSON.stringify(ping.json)).toContain('org.qemu.guest_agent.1');
      // libvirt's own connection on .0 answers at the same time
      const lv = virsh(['qemu-agent-command', '--timeout', '10', VM, '{"execute":"guest-ping"}']);
      expect(lv.ok, lv.err).toBe(true);
      expect(await guestFile('/etc/hostname')).toBe(`${VM}\n`);
    });

    it('/etc/resolv.conf has the nameserver given (ifupdown-ng ignores dns-nameservers); eth0 has the address and route', async () => {
      const resolv = (await guestFile('/etc/resolv.conf')) ?? '';
      expect(resolv).toMatch(/^nameserver 10\.0\.2\.3$/m);
      const ifaces = (await guestFile('/etc/network/interfaces')) ?? '';
      expect(ifaces).toContain('dns-nameservers 10.0.2.3');
      const addr = await guestExec(['/usr/bin/ip', '-4', '-o', 'addr', 'show', 'eth0']);
      expect(addr.stdout).toContain('10.0.2.15/24');
      const route = await guestExec(['/usr/bin/ip', '-4', 'route', 'show', 'default']);
      expect(route.stdout).toContain('via 10.0.2.2');
    });

    it('/etc/hosts names the host; /etc/shadow has the hash for the user the image already had; the doas rule grants', async () => {
      const hosts = (await guestFile('/etc/hosts')) ?? '';
      expect(hosts).toMatch(new RegExp(`^127\\.0\\.1\\.1\\s.*\\b${VM}\\b`, 'm'));
      expect(hosts).toMatch(/^127\.0\.0\.1\s+localhost/m);
      const shadow = ((await guestFile('/etc/shadow')) ?? '').split('\n').find((l) => l.startsWith(`${PREEXISTING_USER}:`));
      const hash = shadow?.split(':')[1] ?? '';
      expect(await opensslVerifies(hash, PASSWORD), `shadow: ${hash}`).toBe(true);
      const rule = seed.writeFiles.get(`/etc/doas.d/${PREEXISTING_USER}.conf`)!;
      expect(await guestFile(`/etc/doas.d/${PREEXISTING_USER}.conf`)).toBe(rule.content);
      const mode = await guestExec(['/usr/bin/stat', '-c', '%a %U', `/etc/doas.d/${PREEXISTING_USER}.conf`]);
      expect(mode.stdout.trim()).toBe('600 root');
      // Debian's opendoas reads /etc/doas.conf only: check the rule file's content as the user (doas -C
      // reads the file as the caller, and the rule file is 0600 root, so a readable copy of it)
      const copy = '/tmp/qks-doas-check.conf';
      const doas = await guestExec([
        '/bin/sh', '-c',
        `install -m 0644 /etc/doas.d/${PREEXISTING_USER}.conf ${copy} && runuser -u ${PREEXISTING_USER} -- doas -C ${copy} /bin/true`,
      ]);
      expect(doas.stdout.trim(), doas.stderr).toBe('permit nopass');
      const keys = await guestFile(`/home/${PREEXISTING_USER}/.ssh/authorized_keys`);
      expect(keys).toContain(TEST_SSH_KEY);
    });

    it('sshd runs after the first boot', async () => {
      const st = await guestExec(['/sbin/rc-service', 'sshd', 'status']);
      expect(st.stdout + st.stderr).toMatch(/started/);
      const pid = await guestExec(['/usr/bin/pgrep', '-x', 'sshd']);
      expect(pid.exitCode).toBe(0);
    });

    it('apk: one add with the seed\'s packages, from the --apk-repository given', async () => {
      const log = ((await guestFile('/var/log/apk-shim.log')) ?? '').trim().split('\n');
      const adds = log.filter((l) => / add /.test(` ${l} `));
      expect(adds, log.join('\n')).toHaveLength(1);
      const ud = parse(seed.userData) as { packages: string[] };
      for (const p of ud.packages) expect(adds[0]!.split(/\s+/)).toContain(p);
      expect(log.some((l) => l.split(/\s+/).includes('update'))).toBe(true);
      expect(await guestFile('/etc/apk/repositories')).toBe(`${APK_REPO}\n`);
    });

    it('--auto-install-kubesolo --kubesolo-url file://: the installer ran under OpenRC; kubesolo supervised with nofile 65535', async () => {
      const st = await guestExec(['/sbin/rc-service', 'kubesolo', 'status']);
      expect(st.stdout + st.stderr).toMatch(/started/);
      const sup = await guestExec(['/usr/bin/pgrep', '-f', 'supervise-daemon kubesolo']);
      expect(sup.exitCode, 'supervise-daemon runs kubesolo').toBe(0);
      const child = await guestExec(['/usr/bin/pgrep', '-f', '^/usr/bin/python3 /usr/local/bin/kubesolo']);
      const pid = child.stdout.trim().split('\n')[0]!;
      const limits = (await guestFile(`/proc/${pid}/limits`)) ?? '';
      expect(limits).toMatch(/Max open files\s+65535\s+65535/);
      const runlevel = await guestExec(['/sbin/rc-update', 'show', 'default']);
      expect(runlevel.stdout).toMatch(/kubesolo/);
    });

    it('kubeconfig --vm-name --wait --api-server 127.0.0.1:<forward> returns it; the real kubectl verifies it through the forward', async () => {
      const t = performance.now();
      const out = mkdtempSync(join(tmpdir(), 'qks-alpine-kc-'));
      kubeconfigFile = join(out, 'kubeconfig');
      const r = await runCli(['kubeconfig', '--vm-name', VM, '--wait', '--timeout', '300', '--api-server', `127.0.0.1:${vm.apiPort}`, '--output', kubeconfigFile], {
        cleanEnv: true, env: { HOME: out }, timeoutMs: 360_000,
      });
      times['kubeconfig --wait'] = (performance.now() - t) / 1000;
      expect(r.code, r.stderr).toBe(0);
      const kc = parse(readFileSync(kubeconfigFile, 'utf8')) as { clusters: Array<{ cluster: { server: string } }> };
      expect(kc.clusters[0]!.cluster.server).toBe(`https://127.0.0.1:${vm.apiPort}`);
      const ready = spawnSync('kubectl', ['--kubeconfig', kubeconfigFile, 'get', '--raw', '/readyz'], { encoding: 'utf8', timeout: 60_000 });
      expect(ready.stdout.trim(), ready.stderr).toBe('ok');
      // the API certificate carries the SANs given with --api-address
      const san = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: vm.apiPort, rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate().subjectaltname ?? '');
          s.destroy();
        });
        s.on('error', reject);
      });
      expect(san).toContain('DNS:k8s.example.com');
      expect(san).toContain('IP Address:203.0.113.10');
    });

    it('after a restart of the domain (a reboot through the agent) the services come back', async () => {
      const t = performance.now();
      const r = await tool(['agent', 'execute', '--vm-name', VM, '--transport', 'direct', 'guest-exec', JSON.stringify({ path: '/sbin/reboot' })]);
      expect(r.code, r.stderr).toBe(0);
      await vm.waitForConsole(/QKS: default runlevel/, 2, BOOT_MS);
      times['reboot to the end of the default runlevel'] = (performance.now() - t) / 1000;
      for (const svc of ['qemu-guest-agent', 'qemu-guest-agent-kubesolo', 'sshd', 'kubesolo']) {
        const st = await until(`${svc} started`, 120_000, async () => {
          const s = await guestExec(['/sbin/rc-service', svc, 'status']);
          return /started/.test(s.stdout + s.stderr) ? s : undefined;
        });
        expect(st.exitCode, svc).toBe(0);
      }
      const lv = virsh(['qemu-agent-command', '--timeout', '10', VM, '{"execute":"guest-ping"}']);
      expect(lv.ok, lv.err).toBe(true);
      const ready = await until('readyz through the forward', 120_000, async () => {
        const k = spawnSync('kubectl', ['--kubeconfig', kubeconfigFile, 'get', '--raw', '/readyz'], { encoding: 'utf8', timeout: 30_000 });
        return k.stdout.trim() === 'ok' ? k.stdout : undefined;
      });
      expect(ready.trim()).toBe('ok');
    }, BOOT_MS + 300_000);
  },
  () => missingLibvirtd() ?? vmTierMissing(),
);
