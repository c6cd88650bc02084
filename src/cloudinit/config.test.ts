import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isQksError } from '../errors.js';
import { resolveArtifactsConfig, type ArtifactsFlags } from './config.js';
import { ED25519_KEY, SK_ED25519_KEY, sshKeygen } from '../../test/cloudinit/keys.js';

const NO_HOME = '/nonexistent-home';
const resolve = (flags: ArtifactsFlags, env: NodeJS.ProcessEnv = {}, home = NO_HOME) => resolveArtifactsConfig(flags, { env, home, hostArch: 'x64' });

async function problems(flags: ArtifactsFlags, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    await resolve(flags, env);
  } catch (e) {
    if (isQksError(e, 'CONFIG_INVALID')) return e.message;
    throw e;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('resolveArtifactsConfig', () => {
  it("has the guide's defaults", async () => {
    const c = await resolve({});
    expect(c).toMatchObject({
      hostname: 'kubesolo', username: 'alpine', password: 'alpine', defaultPassword: true, autoInstallKubesolo: false,
      kubesoloVersion: 'v1.1.7', arch: 'amd64', outputDir: './artifacts', createIso: false, apiAddresses: [], dns: [], interface: 'eth0',
      apkRepositories: [],
    });
    expect(c.sshKeys).toEqual([]);
    expect((await resolveArtifactsConfig({}, { env: {}, home: NO_HOME, hostArch: 'arm64' })).arch).toBe('arm64');
  });

  it('reads KUBECONFIG_API_ADDRESS in the forms the kubeconfig verb takes, keeping the hosts for the SANs', async () => {
    const c = await resolve({}, { KUBECONFIG_API_ADDRESS: 'https://203.0.113.1:6443, k8s.example.com:443 203.0.113.2' });
    expect(c.apiAddresses).toEqual(['203.0.113.1', 'k8s.example.com', '203.0.113.2']);
    // an IPv6 one is cut down to its address, then refused for the reason Kubesolo gives
    const msg = await problems({}, { KUBECONFIG_API_ADDRESS: 'https://[2001:db8::1]:6443' });
    expect(msg).toContain('KUBECONFIG_API_ADDRESS)[0]: is an IPv6 address');
  });

  it('refuses IPv6 and zone-id API addresses with the reason (Kubesolo keeps IPv4 and DNS names only)', async () => {
    for (const a of ['2001:db8::1', '::ffff:203.0.113.1', 'fe80::1%eth0']) {
      const msg = await problems({ apiAddresses: [a] });
      expect(msg, a).toMatch(/--api-address \(KUBECONFIG_API_ADDRESS\)\[0\]: (is an IPv6 address|has a zone id)/);
      expect(msg, a).toContain('--apiserver-extra-sans keeps only IPv4 addresses and DNS names');
    }
    expect((await resolve({ apiAddresses: ['203.0.113.9', 'api.example.com'] })).apiAddresses).toEqual(['203.0.113.9', 'api.example.com']);
  });

  it('--kubesolo-url (KUBESOLO_URL): http(s) or file:///path, shell-safe, only with --auto-install-kubesolo', async () => {
    const ok = ['https://mirror.example.com/kubesolo/v1.1.7/kubesolo-v1.1.7-linux-amd64-musl.tar.gz', 'http://10.0.0.1:8080/k.tar.gz', 'file:///opt/kubesolo.tar.gz'];
    for (const u of ok) expect((await resolve({ autoInstallKubesolo: true, kubesoloUrl: u })).kubesoloUrl).toBe(u);
    expect((await resolve({}, { AUTO_INSTALL_KUBESOLO: 'true', KUBESOLO_URL: ok[2]! })).kubesoloUrl).toBe(ok[2]);
    for (const [u, want] of [
      ['ftp://x/k.tar.gz', 'must be an http://, https:// or file:// URL'],
      ['file://host/k.tar.gz', 'file:// URLs name a path in the VM'],
      ['file:///', 'file:// needs the absolute path'],
      ['https://x/$(reboot).tar.gz', 'must be a URL without blanks, quotes'],
      ['https://x/a"b', 'must be a URL without blanks, quotes'],
      ['https://x/a b', 'must be a URL without blanks, quotes'],
      ['/opt/k.tar.gz', 'must be an http://'],
    ]) {
      expect(await problems({ autoInstallKubesolo: true, kubesoloUrl: u }), u).toContain(`--kubesolo-url (KUBESOLO_URL): ${want}`);
    }
    expect(await problems({ kubesoloUrl: ok[0] })).toContain('--kubesolo-url (KUBESOLO_URL): needs --auto-install-kubesolo');
  });

  it('--apk-repository (APK_REPOSITORIES): repeatable URLs or absolute paths, validated each', async () => {
    const c = await resolve({ apkRepositories: ['http://mirror.local/alpine/v3.22/main', '/media/cdrom/apks'] });
    expect(c.apkRepositories).toEqual(['http://mirror.local/alpine/v3.22/main', '/media/cdrom/apks']);
    expect((await resolve({}, { APK_REPOSITORIES: 'http://a/main, http://a/community' })).apkRepositories).toEqual(['http://a/main', 'http://a/community']);
    expect(await problems({ apkRepositories: ['http://ok/main', 'gopher://x'] })).toContain('--apk-repository (APK_REPOSITORIES)[1]: must be an http://');
    expect(await problems({ apkRepositories: ['http://ok/main\nhttp://evil'] })).toContain('--apk-repository (APK_REPOSITORIES)[0]: must not contain newlines');
  });

  it('takes flags over environment variables over defaults', async () => {
    const env = {
      VM_HOSTNAME: 'from-env', VM_USER: 'envuser', VM_PASSWORD: 'envpw', AUTO_INSTALL_KUBESOLO: 'true', KUBESOLO_RELEASE: 'v1.2.3',
      ARTIFACTS_DIR: '/tmp/env-dir', SSH_PUBLIC_KEY: ED25519_KEY, KUBECONFIG_API_ADDRESS: '203.0.113.1, k8s.example.com', VM_ARCH: 'arm64',
      CREATE_ISO: 'yes',
    };
    const fromEnv = await resolve({}, env);
    expect(fromEnv).toMatchObject({
      hostname: 'from-env', username: 'envuser', password: 'envpw', defaultPassword: false, autoInstallKubesolo: true, kubesoloVersion: 'v1.2.3',
      outputDir: '/tmp/env-dir', sshKeys: [ED25519_KEY], sshKeySources: ['env'], apiAddresses: ['203.0.113.1', 'k8s.example.com'], arch: 'arm64', createIso: true,
    });
    const fromFlags = await resolve(
      { hostname: 'from-flag', username: 'flaguser', password: 'flagpw', autoInstallKubesolo: false, kubesoloVersion: 'v9.9.9', outputDir: 'out', sshKeys: SK_ED25519_KEY, apiAddresses: ['10.0.0.1'], arch: 'amd64', createIso: false },
      env,
    );
    expect(fromFlags).toMatchObject({
      hostname: 'from-flag', username: 'flaguser', password: 'flagpw', autoInstallKubesolo: false, kubesoloVersion: 'v9.9.9',
      outputDir: 'out', sshKeys: [SK_ED25519_KEY], sshKeySources: ['flag'], apiAddresses: ['10.0.0.1'], arch: 'amd64', createIso: false,
    });
  });

  it('a password hash at a stronger level wins over a password below it; both at one level is an error', async () => {
    const hash = '$6$saltsalt$' + 'a'.repeat(86);
    expect(await resolve({ passwordHash: hash }, { VM_PASSWORD: 'x' })).toMatchObject({ passwordHash: hash, password: undefined });
    expect(await resolve({ password: 'y' }, { VM_PASSWORD_HASH: hash })).toMatchObject({ password: 'y', passwordHash: undefined });
    expect(await problems({ password: 'y', passwordHash: hash })).toMatch(/--password-hash \/ --password: give a password or a password hash, not both/);
  });

  it('names the flag and the variable of each bad value, all at once', async () => {
    const msg = await problems({ hostname: 'Bad_Host', username: 'root', kubesoloVersion: '1.1', arch: 'riscv64' }, { AUTO_INSTALL_KUBESOLO: 'maybe' });
    expect(msg).toContain('--hostname (VM_HOSTNAME): must be an RFC 1123 label');
    expect(msg).toContain('--username (VM_USER): is a reserved system account');
    expect(msg).toContain('--kubesolo-version (KUBESOLO_RELEASE): must look like vX.Y.Z');
    expect(msg).toContain('--arch (VM_ARCH): must be amd64 or arm64');
    expect(msg).toContain('--auto-install-kubesolo (AUTO_INSTALL_KUBESOLO): must be true or false');
  });

  it.each([
    [{ hostname: 'a'.repeat(64) }, '--hostname'],
    [{ hostname: '-lead' }, '--hostname'],
    [{ hostname: 'trail-' }, '--hostname'],
    [{ hostname: 'ok\nruncmd: [reboot]' }, '--hostname (VM_HOSTNAME): must not contain newlines'],
    [{ username: '9lives' }, '--username'],
    [{ username: 'a'.repeat(33) }, '--username'],
    [{ password: 'pw\u0000' }, '--password (VM_PASSWORD): must not contain newlines'],
    [{ password: '' }, '--password'],
    [{ passwordHash: 'plaintext' }, '--password-hash (VM_PASSWORD_HASH): is not a crypt hash'],
    [{ sshKeys: 'ssh-ed25519 AAAA\nssh-rsa AAAA' }, '--ssh-key (SSH_PUBLIC_KEY): must be exactly one public key line'],
    [{ kubesoloVersion: 'v1.1.0; reboot' }, '--kubesolo-version'],
    [{ instanceId: 'has space' }, '--instance-id (VM_INSTANCE_ID)'],
    [{ apiAddresses: ['ok.example.com', 'https://x'] }, '--api-address (KUBECONFIG_API_ADDRESS)[1]: must be an IPv4 address or a DNS name'],
    [{ ip: '192.168.1.5' }, '--ip (VM_IP): must be an address with a prefix length'],
    [{ ip: '300.1.1.1/24' }, '--ip'],
    [{ ip: '10.0.0.5/24', gateway: 'fe80::1' }, '--gateway (VM_GATEWAY): must be an IPv4 address like --ip'],
    [{ gateway: '10.0.0.1' }, '--gateway (VM_GATEWAY): needs a static address'],
    [{ ip: '10.0.0.5/24', dns: ['8.8.8.8', 'dns.example'] }, '--dns (VM_DNS)[1]: must be an IPv4 or IPv6 address'],
    [{ ip: '10.0.0.5/24', interface: 'eth0; reboot' }, '--interface (VM_INTERFACE)'],
  ] as [ArtifactsFlags, string][])('%j → %s', async (flags, want) => {
    expect(await problems(flags)).toContain(want);
  });

  it('refuses a private key loudly, from a flag or from a file', async () => {
    const { privateKey } = sshKeygen('ed25519');
    expect(await problems({ sshKeys: privateKey })).toMatch(/--ssh-key \(SSH_PUBLIC_KEY\): this is a PRIVATE key/);
    const dir = mkdtempSync(join(tmpdir(), 'qks-cfg-'));
    writeFileSync(join(dir, 'id_ed25519'), privateKey);
    expect(await problems({ sshKeys: join(dir, 'id_ed25519') })).toMatch(/PRIVATE key/);
    expect(await problems({ sshKeys: join(dir, 'missing.pub') })).toMatch(/--ssh-key \(SSH_PUBLIC_KEY\): cannot read the key file/);
  });

  it('reads a key from a .pub path and auto-detects ~/.ssh/*.pub (id_ed25519 first, invalid ones skipped)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'qks-home-'));
    mkdirSync(join(home, '.ssh'));
    const rsa = sshKeygen('rsa').publicKey;
    const ed = sshKeygen('ed25519').publicKey;
    writeFileSync(join(home, '.ssh', 'aaa.pub'), 'not a key\n');
    writeFileSync(join(home, '.ssh', 'id_rsa.pub'), rsa + '\n');
    expect(await resolve({}, {}, home)).toMatchObject({ sshKeys: [rsa], sshKeySources: [join(home, '.ssh', 'id_rsa.pub')] });
    writeFileSync(join(home, '.ssh', 'id_ed25519.pub'), ed + '\n');
    expect(await resolve({}, {}, home)).toMatchObject({ sshKeys: [ed], sshKeySources: [join(home, '.ssh', 'id_ed25519.pub')] });
    expect(await resolve({ sshKeys: join(home, '.ssh', 'id_rsa.pub') }, {}, home)).toMatchObject({ sshKeys: [rsa] });
    expect(await resolve({ sshKeys: '~/.ssh/id_rsa.pub' }, {}, home)).toMatchObject({ sshKeys: [rsa] });
  });

  it('keeps every repeated --ssh-key, from lines and files, duplicates once; a bad one is named by its index (issue 21: only the last was kept)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'qks-home-'));
    const rsa = sshKeygen('rsa').publicKey;
    writeFileSync(join(home, 'rsa.pub'), rsa + '\n');
    const c = await resolve({ sshKeys: [ED25519_KEY, join(home, 'rsa.pub'), ED25519_KEY] }, {}, home);
    expect(c.sshKeys).toEqual([ED25519_KEY, rsa]);
    expect(c.sshKeySources).toEqual(['flag', join(home, 'rsa.pub'), 'flag']);
    expect(await problems({ sshKeys: [ED25519_KEY, 'ssh-rsa n0pe!'] })).toContain('--ssh-key (SSH_PUBLIC_KEY)[1]: the key data is not base64');
  });

  it('splits list variables and repeated flags on commas and spaces', async () => {
    const c = await resolve({ ip: '10.0.0.5/24', dns: ['1.1.1.1,8.8.8.8'] }, { KUBECONFIG_API_ADDRESS: 'a.example.com b.example.com' });
    expect(c.dns).toEqual(['1.1.1.1', '8.8.8.8']);
    expect(c.apiAddresses).toEqual(['a.example.com', 'b.example.com']);
  });
});
