/**
 * `LIBVIRT_URI=qemu+ssh://...` through the CLI as users run it (a separate process), against a real sshd
 * in front of a real qemu-ga and a fake agent. Each run gets its own TMPDIR, so "no ssh process and no
 * socket file left" is checked on exactly what that run made.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeAgent, type FakeAgent } from '../../src/fake-agent/index.js';
import { CLI_BUNDLE, runCli } from '../helpers/cli.js';
import { describeWithPeers, IS_ROOT } from '../helpers/peers.js';
import { processesMatching, startQemuGa, startSshd, waitFor, type TestSshd } from '../helpers/sshd.js';

const KUBECONFIG_PATH = '/var/lib/kubesolo/pki/admin/admin.kubeconfig';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ${b64('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n')}
    server: https://127.0.0.1:6443
  name: kubesolo
contexts:
- context:
    cluster: kubesolo
    user: kubernetes-admin
  name: kubernetes-admin@kubesolo
current-context: kubernetes-admin@kubesolo
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ${b64('cert')}
    client-key-data: ${b64('key')}
`;

describeWithPeers(
  'qemu+ssh through the CLI (real sshd, real qemu-ga)',
  ['sshd', 'ssh', 'ssh-keygen', 'qemu-ga', 'pgrep'],
  () => {
    let sshd: TestSshd;
    let root: string;
    let work: string;
    let fake: FakeAgent;
    let stopGa: () => Promise<void>;

    beforeAll(async () => {
      sshd = await startSshd();
      root = mkdtempSync(join(tmpdir(), 'qks-h-root-'));
      work = mkdtempSync(join(tmpdir(), 'qks-h-cli-'));
      stopGa = (await startQemuGa(join(root, 'var/lib/libvirt/qemu/channel/target/domain-3-kube-a/org.qemu.guest_agent.1'))).stop;
      mkdirSync(join(root, 'run/libvirt/qemu/channel/5-kube-k'), { recursive: true });
      fake = await startFakeAgent({ socketPath: join(root, 'run/libvirt/qemu/channel/5-kube-k/org.qemu.guest_agent.1'), files: { [KUBECONFIG_PATH]: KUBECONFIG } });
    });

    afterAll(async () => {
      await fake?.close();
      await stopGa?.();
      await sshd?.stop();
      for (const d of [root, work]) if (d) rmSync(d, { recursive: true, force: true });
    });

    let run = 0;
    /** Runs the CLI with the URI and a private TMPDIR; afterwards checks nothing it made is left. */
    async function cli(args: string[], uri = sshd.uri(), extraEnv: NodeJS.ProcessEnv = {}) {
      const tmp = join(work, `t${++run}`);
      mkdirSync(tmp);
      const r = await runCli(args, { env: { LIBVIRT_URI: uri, QKS_SSH_CONFIG: sshd.config, QKS_CHANNEL_ROOT: root, TMPDIR: tmp, ...extraEnv } });
      await waitFor(() => processesMatching(tmp).length === 0, 5000, `no ssh process under ${tmp}`);
      expect(readdirSync(tmp)).toEqual([]);
      return r;
    }

    it('agent ping --vm-name over qemu+ssh', async () => {
      const r = await cli(['--json', 'agent', 'ping', '--vm-name', 'kube-a']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });

    it('kubeconfig --vm-name over qemu+ssh writes the kubeconfig', async () => {
      const out = join(work, 'kube-k.kubeconfig');
      const r = await cli(['kubeconfig', '--vm-name', 'kube-k', '--api-server', '10.0.0.5', '--no-verify-server', '-o', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(out, 'utf8')).toContain('https://10.0.0.5:6443');
    });

    it('--libvirt-uri flag works like LIBVIRT_URI', async () => {
      const r = await cli(['agent', 'ping', '--vm-name', 'kube-a', '--libvirt-uri', sshd.uri()], 'qemu:///system');
      expect(r.code, r.stderr).toBe(0);
    });

    it('unknown host key, refused key, missing socket: each its own error and exit code', async () => {
      const hostKey = await cli(['--json', 'agent', 'ping', '--vm-name', 'kube-a'], sshd.uri(), { QKS_SSH_CONFIG: sshd.configUnknownHost });
      expect(hostKey.code).toBe(7);
      expect(hostKey.stdout + hostKey.stderr).toContain('SSH_HOST_KEY');
      const auth = await cli(['--json', 'agent', 'ping', '--vm-name', 'kube-a'], sshd.uri({ key: sshd.badKey }));
      expect(auth.code).toBe(4);
      expect(auth.stdout + auth.stderr).toContain('SSH_AUTH');
      const missing = await cli(['--json', 'agent', 'ping', '--vm-name', 'no-such-vm']);
      expect(missing.code).toBe(3);
      expect(missing.stdout + missing.stderr).toContain('SOCKET_NOT_FOUND');
      expect(missing.stdout + missing.stderr).toContain(`127.0.0.1:${sshd.port}`);
    });

    it('Ctrl-C while connecting: the command ends at once and leaves no ssh process or file', async () => {
      const silent: Server = createServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const tmp = join(work, 'sigint');
      mkdirSync(tmp);
      const uri = `qemu+ssh://root@127.0.0.1:${(silent.address() as { port: number }).port}/system`;
      const child = spawn(process.execPath, [CLI_BUNDLE, 'agent', 'ping', '--vm-name', 'kube-a'], {
        env: { ...process.env, LIBVIRT_URI: uri, QKS_SSH_CONFIG: sshd.config, QKS_CHANNEL_ROOT: root, TMPDIR: tmp },
        stdio: 'ignore',
      });
      try {
        await waitFor(() => processesMatching(tmp).length > 0, 10_000, 'ssh to start');
        const t0 = performance.now();
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await exited;
        expect(performance.now() - t0).toBeLessThan(3000);
        await waitFor(() => processesMatching(tmp).length === 0, 5000, 'no ssh process');
        expect(readdirSync(tmp)).toEqual([]);
      } finally {
        child.kill('SIGKILL');
        silent.close();
      }
    });

    it('doctor over qemu+ssh: the SSH hop is its own line, and the agent answers through it', async () => {
      const r = await cli(['--json', 'doctor', '--vm-name', 'kube-a']);
      const report = r.json[0] as { checks: { id: string; status: string }[] };
      const status = (id: string) => report.checks.find((c) => c.id === id)?.status;
      expect(status('ssh-hop')).toBe('ok');
      expect(status('agent')).toBe('ok');
      expect(status('channel-dir')).toBe('skip'); // local discovery does not apply to a remote hypervisor
    });

    it('a hostile VM name runs nothing remotely', async () => {
      const marker = `qks-cli-pwned-${process.pid}`;
      const r = await cli(['agent', 'ping', '--vm-name', `$(touch ${marker})`]);
      expect(r.code).toBe(3);
      // the remote login shell starts in root's home
      expect(existsSync(join(homedir(), marker))).toBe(false);
    });
  },
  () => (IS_ROOT ? undefined : 'needs root (sshd logs the test in as root)'),
);
