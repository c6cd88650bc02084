// The default instance-id digests the password through SHA-512 crypt. meta-data is as readable as
// user-data, so that crypt must be salted per VM like the user-data hash: one salt shared by every seed
// would let a single precomputed dictionary crack any VM's password from its instance-id.
import { describe, expect, it, vi } from 'vitest';
import * as password from '../../src/cloudinit/password.js';
import { resolveArtifactsConfig } from '../../src/cloudinit/config.js';
import { builtinTemplates } from '../../src/cloudinit/templates.js';
import { defaultInstanceId } from '../../src/cloudinit/artifacts.js';

vi.mock('../../src/cloudinit/password.js', async (importOriginal) => {
  const actual = await importOriginal<typeof password>();
  return { ...actual, sha512Crypt: vi.fn(actual.sha512Crypt) };
});

const OPTS = { env: {}, home: '/nonexistent', hostArch: 'x64' };

describe('defaultInstanceId', () => {
  it('salts the password crypt per host and user, never with one salt for all', async () => {
    const crypt = vi.mocked(password.sha512Crypt);
    const saltFor = async (flags: { hostname: string; username: string }) => {
      crypt.mockClear();
      defaultInstanceId(await resolveArtifactsConfig({ ...flags, password: 'same-password' }, OPTS), builtinTemplates());
      expect(crypt).toHaveBeenCalledTimes(1);
      return crypt.mock.calls[0]![1];
    };
    const a = await saltFor({ hostname: 'node-a', username: 'alpine' });
    expect(await saltFor({ hostname: 'node-a', username: 'alpine' })).toBe(a); // still reproducible
    expect(await saltFor({ hostname: 'node-b', username: 'alpine' })).not.toBe(a);
    expect(await saltFor({ hostname: 'node-a', username: 'ops' })).not.toBe(a);
  });
});
