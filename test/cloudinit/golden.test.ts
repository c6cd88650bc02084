// Goldens: the documents of the main variants with fixed inputs (key, salt seed, epoch) are kept in
// fixtures/cloudinit/<variant>/. A change to the templates or the renderer shows up here as a diff.
// Regenerate after an intended change: UPDATE_GOLDEN=1 npx vitest run test/cloudinit/golden.test.ts
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveArtifactsConfig } from '../../src/cloudinit/config.js';
import { renderArtifacts } from '../../src/cloudinit/artifacts.js';
import { FIXED, VARIANTS } from './variants.js';
import { ROOT } from './embed.js';

const OPTS = { env: {}, home: '/nonexistent', hostArch: 'x64' };

describe('goldens (fixtures/cloudinit)', () => {
  for (const [name, flags] of Object.entries(VARIANTS)) {
    it(name, async () => {
      const config = await resolveArtifactsConfig(flags, OPTS);
      const a = renderArtifacts(config, FIXED);
      const b = renderArtifacts(config, FIXED);
      expect(b).toEqual(a); // reproducible with a fixed seed
      const dir = join(ROOT, 'fixtures', 'cloudinit', name);
      for (const f of a.files) {
        const path = join(dir, f.name);
        if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
          mkdirSync(dir, { recursive: true });
          writeFileSync(path, f.data);
        }
        expect(Buffer.from(f.data).equals(readFileSync(path)), `${name}/${f.name} differs from the golden`).toBe(true);
      }
    });
  }

  it('the instance-id follows the configuration: same input same id, any change a new id', async () => {
    const id = async (f: object) => renderArtifacts(await resolveArtifactsConfig({ ...VARIANTS.default!, ...f }, OPTS)).instanceId;
    const first = await id({});
    expect(await id({})).toBe(first); // even with a random salt
    expect(first).toMatch(/^iid-[0-9a-f]{16}$/);
    const others = await Promise.all([{ hostname: 'other' }, { password: 'changed' }, { autoInstallKubesolo: true }, { apiAddresses: ['10.1.1.1'] }, { ip: '10.0.0.2/24' }, { arch: 'arm64' }].map(id));
    expect(new Set([first, ...others]).size).toBe(others.length + 1);
    expect(await id({ instanceId: 'mine-1' })).toBe('mine-1');
    expect(await id({ outputDir: '/elsewhere' })).toBe(first); // where the files go is not configuration of the VM
  });
});
