/**
 * checkArtifactsConfig (plain, the CLI's) gives what the zod schema gives (ArtifactsConfigSchema, the
 * rules as they were before the verb lost zod): the same data, the same issues in the same order, for
 * each field's good and bad values, alone and beside a failing cross-field check.
 */
import { describe, expect, it } from 'vitest';
import { checkArtifactsConfig } from './config.js';
import { ArtifactsConfigSchema } from './config-zod.js';
import { ED25519_KEY } from '../../test/cloudinit/keys.js';

const BASE: Record<string, unknown> = {
  sshKeys: [ED25519_KEY], hostname: 'kubesolo', username: 'alpine', password: 'alpine', passwordHash: undefined, autoInstallKubesolo: false,
  kubesoloVersion: 'v1.1.7', kubesoloUrl: undefined, apkRepositories: [], arch: 'amd64', outputDir: './artifacts', createIso: false,
  templateDir: undefined, instanceId: undefined, apiAddresses: [], ip: undefined, gateway: undefined, dns: [], interface: 'eth0',
  defaultPassword: true, sshKeySources: ['flag'],
};

const CTRL = 'a\nb';
const VALUES: Record<string, unknown[]> = {
  sshKeys: [[], [ED25519_KEY, ED25519_KEY], ['nope'], [ED25519_KEY, 'ssh-ed25519'], [`${ED25519_KEY}\u2028x`], 'x', [1], [ED25519_KEY.replace(' ', '   ')]],
  hostname: ['node-1', 'Node', '-a', '', CTRL, 'a'.repeat(64), 3, undefined],
  username: ['bob', 'root', 'Root', '1x', CTRL, '', null],
  password: ['x', '', 'x'.repeat(1025), CTRL, undefined, 5],
  passwordHash: ['$6$abc$' + 'a'.repeat(86), '$y$j9T$abc$def', '$1$a$b', 'plain', CTRL, undefined],
  autoInstallKubesolo: [true, 'yes', 1, undefined],
  kubesoloVersion: ['v1.2.3', '1.2.3', 'v1.2', CTRL, ''],
  kubesoloUrl: ['https://m.lan/k.tgz', 'file:///opt/k.tgz', 'file://h/x', 'ftp://x/y', 'a b', 'http://', '/abs', CTRL, undefined],
  apkRepositories: [['https://m/alpine/v3.22/main', '/local/repo'], ['ftp://x'], ['a"b', 'http://ok/x'], 'x', [CTRL]],
  arch: ['arm64', 'x86_64', 3, undefined],
  outputDir: ['/tmp/x', '', CTRL, 1],
  createIso: [true, 'no'],
  templateDir: ['/t', '', CTRL, undefined],
  instanceId: ['iid-1', '-x', 'a'.repeat(129), CTRL, undefined],
  apiAddresses: [['10.0.0.1', 'k8s.example.com'], ['fe80::1%eth0'], ['fd00::1'], ['http://x'], ['1.2.3.4', 'bad_name', 'fd00::2'], [CTRL], 'x'],
  ip: ['192.168.122.50/24', 'fd00::5/64', '10.0.0.1', '10.0.0.1/33', '::1/0', CTRL, undefined],
  gateway: ['192.168.122.1', 'fd00::1', 'x', CTRL, undefined],
  dns: [['1.1.1.1'], ['x', '1.1.1.1', 'y'], ['fd00::53'], 'x'],
  interface: ['eth0', 'a'.repeat(16), 'eth 0', CTRL, ''],
};

const zodIssues = (raw: Record<string, unknown>) => {
  const r = ArtifactsConfigSchema.safeParse(raw);
  return r.success ? { data: r.data } : { issues: r.error.issues.map((i) => [i.path, i.message]) };
};
const plainIssues = (raw: Record<string, unknown>) => {
  const r = checkArtifactsConfig(raw);
  return r.success ? { data: r.data } : { issues: r.issues.map((i) => [i.path, i.message]) };
};

describe('checkArtifactsConfig against the zod schema', () => {
  const cases: [string, Record<string, unknown>][] = [['defaults', BASE]];
  for (const [field, values] of Object.entries(VALUES)) {
    for (const v of values) {
      cases.push([`${field}=${JSON.stringify(v)}`, { ...BASE, [field]: v }]);
      // beside cross-field failures (gateway without --ip; a URL without auto-install; IPv4 gateway for an IPv6 --ip)
      cases.push([`${field}=${JSON.stringify(v)} + gateway without ip`, { ...BASE, gateway: '10.0.0.1', dns: ['1.1.1.1'], kubesoloUrl: 'https://m/k.tgz', [field]: v }]);
      cases.push([`${field}=${JSON.stringify(v)} + v6 ip, v4 gateway`, { ...BASE, ip: 'fd00::5/64', gateway: '10.0.0.1', [field]: v }]);
    }
  }
  it.each(cases)('%s', (_name, raw) => {
    expect(plainIssues(raw)).toStrictEqual(zodIssues(raw));
  });
});
