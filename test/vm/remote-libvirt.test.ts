/**
 * libvirt's remote transports against the real peers, on loopback only: the shared libvirtd with its
 * TLS listener on 127.0.0.1 (test/helpers/libvirtd.ts: a test PKI made with openssl), running a test VM
 * that has only libvirt's org.qemu.guest_agent.0; a real sshd in front of the same libvirtd, with
 * virt-ssh-helper on the far side and, in a second sshd, without it (the netcat path); root and a
 * libvirt-group user (polkit) on the far side. The product runs with a PATH that has ssh but no virsh.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { ensureLibvirtd, ensureUser, missingLibvirtd, startTestDomain, type TestDomain, type TestPki } from '../helpers/libvirtd.js';
import { describeWithPeers, which } from '../helpers/peers.js';
import { freePort, startSshd, type TestSshd } from '../helpers/sshd.js';
import { missingInitramfsInputs } from './harness/initramfs.js';

const VM = 'qks-r-std0';
const GROUP_USER = 'qksremote';

describeWithPeers(
  'qemu+ssh through libvirtd and qemu+tls, against the real libvirtd and sshd',
  ['libvirtd', 'virsh', 'sshd', 'ssh', 'ssh-keygen', 'openssl', 'nc', 'virt-ssh-helper'],
  () => {
    let vm: TestDomain;
    let sshd: TestSshd;
    let bare: TestSshd;
    let pki: TestPki;
    let tlsPort: number;
    let bin: string;

    beforeAll(async () => {
      const d = await ensureLibvirtd();
      ({ pki, tlsPort } = d);
      ensureUser(GROUP_USER, ['libvirt']);
      [sshd, bare] = await Promise.all([startSshd(), startSshd({ withoutVirtSshHelper: true })]);
      // no_timer_check: on a loaded host a TCG guest's timer check can fail at boot
      vm = await startTestDomain({ name: VM, channels: ['org.qemu.guest_agent.0'], kernelArgs: 'kc_delay=0 no_timer_check' });
      await vm.waitForAgent();
      // ssh for the product, and nothing else: no virsh
      bin = mkdtempSync(join(tmpdir(), 'qks-r-bin-'));
      symlinkSync(which('ssh')!, join(bin, 'ssh'));
    });

    afterAll(async () => {
      vm?.destroy();
      await Promise.all([sshd?.stop(), bare?.stop()]);
      if (bin) rmSync(bin, { recursive: true, force: true });
    });

    const run = (args: string[], config = sshd.config) => runCli(['--json', '-v', ...args], { cleanEnv: true, env: { PATH: bin, HOME: '/tmp', NO_COLOR: '1', QKS_SSH_CONFIG: config }, timeoutMs: 90_000 });
    const ping = (uri: string, config?: string, extra: string[] = []) => run(['agent', 'ping', '--vm-name', VM, '--libvirt-uri', uri, ...extra], config);
    const tls = (params: string, host = '127.0.0.1', port = tlsPort) => `qemu+tls://${host}:${port}/system?${params}`;

    it('qemu+ssh as root, VM with only org.qemu.guest_agent.0: libvirtd over the SSH connection (virt-ssh-helper)', async () => {
      const r = await ping(sshd.uri());
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`connected over libvirt qemu\\+ssh://.* via root@127\\.0\\.0\\.1:${sshd.port}`));
    });

    it('qemu+ssh as a libvirt-group user: polkit on the far side, through virt-ssh-helper', async () => {
      const r = await ping(sshd.uri({ user: GROUP_USER }));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`via ${GROUP_USER}@127.0.0.1:${sshd.port}`);
    });

    it('without virt-ssh-helper on the far side: nc -U, for root and for the libvirt group', async () => {
      for (const user of ['root', GROUP_USER]) {
        const r = await ping(bare.uri({ user }), bare.config);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toContain(`via ${user}@127.0.0.1:${bare.port}`);
      }
      // proxy=netcat where the helper is there too, with socket= and netcat= as libvirt takes them
      const r = await ping(sshd.uri({ params: 'proxy=netcat&socket=/var/run/libvirt/libvirt-sock&netcat=nc' }), undefined, ['--transport', 'libvirt']);
      expect(r.code, r.stderr).toBe(0);
    });

    it('proxy=native without virt-ssh-helper, or libvirtd not there: exit 3 naming it, never a hang', async () => {
      const native = await ping(bare.uri({ params: 'proxy=native' }), bare.config, ['--transport', 'libvirt']);
      expect(native.code).toBe(3);
      expect(native.stderr).toMatch(/virt-ssh-helper is not installed/);
      const nosock = await ping(sshd.uri({ params: 'proxy=netcat&socket=/run/qks-nonexistent-sock' }), undefined, ['--transport', 'libvirt']);
      expect(nosock.code).toBe(3);
      expect(nosock.stderr).toMatch(/libvirtd is not running/);
      expect(nosock.ms).toBeLessThan(30_000);
    });

    it('a refused SSH key: exit 4', async () => {
      const r = await ping(sshd.uri({ key: sshd.badKey }), undefined, ['--transport', 'libvirt']);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/SSH_AUTH/);
    });

    it('qemu+tls with libvirt PKI (pkipath=): the same RPC, agent answers', async () => {
      const r = await ping(tls(`pkipath=${pki.client}`));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`via 127.0.0.1:${tlsPort}`);
    });

    it.each([
      ['a CA that did not sign the server certificate', () => tls(`pkipath=${pki.otherCa}`), /server certificate is not trusted.*/, /cacert\.pem/],
      ['a cacert.pem that did not issue our client certificate', () => tls(`pkipath=${pki.wrongCa}`), /was not issued by the CA/, /same CA/],
      ['an expired client certificate', () => tls(`pkipath=${pki.expired}`), /expired on/, /Issue a new client certificate/],
      ['a missing client certificate', () => tls(`pkipath=${pki.noCert}`), /clientcert\.pem is missing/, /pkipath/],
      ['a host name the server certificate does not carry', () => tls(`pkipath=${pki.client}`, 'localhost'), /does not name localhost/, /subjectAltName/],
    ])('TLS with %s: exit 7 naming the fix', async (_what, uri, message, fix) => {
      const r = await ping(uri());
      expect(r.code, r.stderr).toBe(7);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(fix);
    });

    it('no_verify=1 skips the host name check, as libvirt does', async () => {
      const r = await ping(tls(`pkipath=${pki.client}&no_verify=1`, 'localhost'));
      expect(r.code, r.stderr).toBe(0);
    });

    it('TLS to a port where libvirtd does not listen: exit 3 at once; qemu+tcp: a clear refusal', async () => {
      const r = await ping(tls(`pkipath=${pki.client}`, '127.0.0.1', await freePort()));
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/listen_tls/);
      expect(r.ms).toBeLessThan(20_000);
      const tcp = await ping(`qemu+tcp://127.0.0.1:${tlsPort}/system`);
      expect(tcp.code).toBe(2);
      expect(tcp.stderr).toMatch(/qemu\+tls.*qemu\+ssh/);
    });

    it('doctor with qemu+ssh and qemu+tls: transport, hop, libvirtd auth, the agent', async () => {
      const ssh = await run(['doctor', '--vm-name', VM, '--libvirt-uri', sshd.uri({ user: GROUP_USER })]);
      const sshChecks = Object.fromEntries((ssh.json.at(-1) as { checks: { id: string; status: string; detail: string }[] }).checks.map((c) => [c.id, c]));
      expect(sshChecks.transport!.detail).toMatch(/libvirtd over the same connection/);
      expect(sshChecks['ssh-hop']!.status).not.toBe('fail');
      expect(sshChecks.libvirtd).toMatchObject({ status: 'ok', detail: expect.stringMatching(/virt-ssh-helper \(auth polkit\)/) });
      expect(sshChecks.agent!.status).toBe('ok');
      const t = await run(['doctor', '--vm-name', VM, '--libvirt-uri', tls(`pkipath=${pki.client}`)]);
      const tlsChecks = Object.fromEntries((t.json.at(-1) as { checks: { id: string; status: string; detail: string }[] }).checks.map((c) => [c.id, c]));
      expect(tlsChecks['tls-hop']).toMatchObject({ status: 'ok', detail: expect.stringMatching(/TLSv1\.[23], server certificate .* verified for 127\.0\.0\.1/) });
      expect(tlsChecks.libvirtd).toMatchObject({ status: 'ok', detail: expect.stringMatching(/auth none/) });
      expect(tlsChecks.agent!.status).toBe('ok');
      const bad = await run(['doctor', '--vm-name', VM, '--libvirt-uri', tls(`pkipath=${pki.expired}`)]);
      expect(bad.code).toBe(8);
      expect(bad.stdout).toMatch(/expired on/);
    });
  },
  () => missingLibvirtd() ?? missingInitramfsInputs(),
);
