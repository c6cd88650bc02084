// The main artifact variants with fixed inputs (fixed key, salt seed, epoch): used by the schema
// tests and the goldens in fixtures/cloudinit/.
import type { ArtifactsFlags } from '../../src/cloudinit/config.js';
import { ED25519_KEY } from './keys.js';

export const FIXED = { saltSeed: '1700000000', epoch: 1_700_000_000 } as const;

const base: ArtifactsFlags = { sshKeys: ED25519_KEY, hostname: 'prod-kubesolo-01', password: 'your-secure-password', arch: 'amd64' };

export const VARIANTS: Record<string, ArtifactsFlags> = {
  default: { ...base },
  'auto-install': { ...base, autoInstallKubesolo: true, apiAddresses: ['203.0.113.10', 'k8s.example.com'] },
  'static-network': { ...base, autoInstallKubesolo: true, arch: 'arm64', ip: '192.168.122.50/24', gateway: '192.168.122.1', dns: ['192.168.122.1', '1.1.1.1'] },
  'air-gapped': {
    ...base,
    autoInstallKubesolo: true,
    kubesoloUrl: 'file:///opt/kubesolo/kubesolo-v1.1.7-linux-amd64-musl.tar.gz',
    apkRepositories: ['http://192.168.122.1/alpine/v3.22/main', 'http://192.168.122.1/alpine/v3.22/community'],
    ip: '192.168.122.60/24',
    gateway: '192.168.122.1',
    dns: ['192.168.122.1'],
  },
  'static-ipv6': { ...base, ip: 'fd00:122::50/64', gateway: 'fd00:122::1', dns: ['fd00:122::1'] },
};
