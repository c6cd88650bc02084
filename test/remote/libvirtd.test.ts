/**
 * libvirt's remote transports against the real shared libvirtd (its TLS listener on 127.0.0.1, test
 * PKI) and a real sshd in front of it, without a VM: the session gets as far as the domain lookup, so
 * authentication, open and every failure before the agent are proven here; the VM tier
 * (test/vm/remote-libvirt.test.ts) does the agent itself.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseLibvirtUri } from '../../src/libvirt/uri.js';
import { sshHostFor } from '../../src/remote/agent.js';
import { connectLibvirtOverSsh, openLibvirtOverSsh } from '../../src/remote/libvirtd.js';
import { connectLibvirtOverTls, openLibvirtOverTls } from '../../src/remote/tls.js';
import { SshPool } from '../../src/ssh/index.js';
import { ensureLibvirtd, ensureUser, missingLibvirtd, type TestPki } from '../helpers/libvirtd.js';
import { rejectionOf } from '../helpers/errors.js';
import { describeWithPeers } from '../helpers/peers.js';
import { freePort, startSshd, type TestSshd } from '../helpers/sshd.js';

const GROUP_USER = 'qksremote';

describeWithPeers(
  'libvirtd over SSH and TLS (real libvirtd, real sshd)',
  ['libvirtd', 'sshd', 'ssh', 'ssh-keygen', 'openssl', 'nc'],
  () => {
    let sshd: TestSshd;
    let bare: TestSshd;
    let pki: TestPki;
    let tlsPort: number;
    const pool = new SshPool();

    beforeAll(async () => {
      ({ pki, tlsPort } = await ensureLibvirtd());
      ensureUser(GROUP_USER, ['libvirt']);
      [sshd, bare] = await Promise.all([startSshd(), startSshd({ withoutVirtSshHelper: true })]);
    });
    afterAll(async () => {
      await pool.close();
      await Promise.all([sshd?.stop(), bare?.stop()]);
    });

    const overSsh = (s: TestSshd, opts: { user?: string; params?: string; key?: string } = {}) => {
      const uri = parseLibvirtUri(s.uri(opts));
      return { uri, ssh: sshHostFor(pool, uri, {}, { QKS_SSH_CONFIG: s.config }) };
    };
    const tls = (params: string, host = '127.0.0.1', port = tlsPort) => parseLibvirtUri(`qemu+tls://${host}:${port}/system?${params}`);

    it('one session, many lookups: root (none) and the libvirt group (polkit), with virt-ssh-helper and with nc', async () => {
      for (const [s, user, auth] of [[sshd, 'root', 'none'], [sshd, GROUP_USER, 'polkit'], [bare, GROUP_USER, 'polkit'], [bare, 'root', 'none']] as const) {
        const { uri, ssh } = overSsh(s, { user });
        const conn = await connectLibvirtOverSsh(ssh, uri);
        try {
          expect(conn.auth).toBe(auth);
          for (const name of ['qks-absent-1', 'qks-absent-2']) expect((await rejectionOf(conn.lookup(name))).code).toBe('VM_NOT_FOUND');
        } finally {
          await conn.close();
        }
      }
    });

    it('failures on the SSH side: proxy=native without the helper → 3, no libvirtd socket → 3, a refused key → 4', async () => {
      const native = await rejectionOf(openLibvirtOverSsh(overSsh(bare, { params: 'proxy=native' }).ssh, overSsh(bare, { params: 'proxy=native' }).uri, { domain: 'x' }));
      expect([native.code, native.exitCode]).toEqual(['LIBVIRT_NOT_RUNNING', 3]);
      const o = overSsh(sshd, { params: 'proxy=netcat&socket=/run/qks-nonexistent-sock' });
      const nosock = await rejectionOf(openLibvirtOverSsh(o.ssh, o.uri, { domain: 'x' }));
      expect([nosock.code, nosock.exitCode]).toEqual(['LIBVIRT_NOT_RUNNING', 3]);
      const k = overSsh(sshd, { key: sshd.badKey });
      expect((await rejectionOf(openLibvirtOverSsh(k.ssh, k.uri, { domain: 'x' }))).exitCode).toBe(4);
    });

    it('TLS with the test PKI: none auth, lookups over one session; no_verify=1 accepts another host name', async () => {
      const conn = await connectLibvirtOverTls(tls(`pkipath=${pki.client}`));
      try {
        expect(conn.auth).toBe('none');
        expect((await rejectionOf(conn.lookup('qks-absent'))).code).toBe('VM_NOT_FOUND');
      } finally {
        await conn.close();
      }
      await (await connectLibvirtOverTls(tls(`pkipath=${pki.client}&no_verify=1`, 'localhost'))).close();
    });

    it.each([
      ['wrong CA', () => tls(`pkipath=${pki.otherCa}`), /not trusted/],
      ['client certificate from another CA than cacert.pem', () => tls(`pkipath=${pki.wrongCa}`), /not issued by the CA/],
      ['expired client certificate', () => tls(`pkipath=${pki.expired}`), /expired on/],
      ['missing client certificate', () => tls(`pkipath=${pki.noCert}`), /is missing/],
      ['wrong host name', () => tls(`pkipath=${pki.client}`, 'localhost'), /does not name localhost/],
    ])('TLS %s → exit 7 with its fix', async (_w, uri, re) => {
      const e = await rejectionOf(openLibvirtOverTls(uri(), { domain: 'x' }));
      expect([e.code, e.exitCode]).toEqual(['TLS_VERIFY_FAILED', 7]);
      expect(e.message).toMatch(re);
      expect(e.hint).toBeTruthy();
    });

    it('TLS where nothing listens → 3 at once', async () => {
      const t0 = performance.now();
      const e = await rejectionOf(openLibvirtOverTls(tls(`pkipath=${pki.client}`, '127.0.0.1', await freePort()), { domain: 'x' }));
      expect([e.code, e.exitCode]).toEqual(['LIBVIRT_NOT_RUNNING', 3]);
      expect(performance.now() - t0).toBeLessThan(5_000);
    });
  },
  missingLibvirtd,
);
