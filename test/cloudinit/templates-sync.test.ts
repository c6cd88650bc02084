import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_MODULE, embeddedModuleText } from './embed.js';

describe('embedded templates', () => {
  it('match templates/*.template (the bundle carries them)', () => {
    const want = embeddedModuleText();
    if (process.env.UPDATE_EMBEDDED === '1') writeFileSync(EMBEDDED_MODULE, want);
    expect(readFileSync(EMBEDDED_MODULE, 'utf8'), 'run: UPDATE_EMBEDDED=1 npx vitest run test/cloudinit/templates-sync.test.ts').toBe(want);
  });
});
