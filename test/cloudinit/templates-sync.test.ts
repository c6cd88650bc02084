import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderDocuments } from '../../src/cloudinit/artifacts.js';
import { resolveArtifactsConfig } from '../../src/cloudinit/config.js';
import { EMBEDDED_TREES } from '../../src/cloudinit/embedded-templates.js';
import { parseTemplateText, readYaml } from '../../src/cloudinit/render.js';
import { builtinTemplates, type TemplateSet } from '../../src/cloudinit/templates.js';
import { readYamlSubset, writeYamlSubset } from '../../src/cloudinit/yaml-subset.js';
import { EMBEDDED_MODULE, embeddedModuleText, templateFiles } from './embed.js';
import { FIXED, VARIANTS } from './variants.js';

describe('embedded templates', () => {
  it('match templates/*.template (the bundle carries them)', () => {
    const want = embeddedModuleText();
    if (process.env.UPDATE_EMBEDDED === '1') writeFileSync(EMBEDDED_MODULE, want);
    expect(readFileSync(EMBEDDED_MODULE, 'utf8'), 'run: UPDATE_EMBEDDED=1 npx vitest run test/cloudinit/templates-sync.test.ts').toBe(want);
  });

  it('their embedded trees are what the yaml library parses from them at run time', () => {
    for (const [file, text] of templateFiles()) {
      expect(EMBEDDED_TREES[file as keyof typeof EMBEDDED_TREES], file).toEqual(parseTemplateText({ name: file, text }));
    }
  });

  describe.each(Object.entries(VARIANTS))('%s', (_name, flags) => {
    // a fixed instance-id: the default one digests the templates' text, which differs below
    const config = () => resolveArtifactsConfig({ ...flags, instanceId: 'iid-fixed' }, { env: {}, home: '/nonexistent', hostArch: 'x64' });

    it('renders from the embedded trees as from the text parsed at run time (a user template that is a copy)', async () => {
      const c = await config();
      const builtin = builtinTemplates();
      // one more comment line: another text, so parsed with the yaml library, the same document
      const copy = Object.fromEntries(Object.entries(builtin).map(([k, t]) => [k, { name: `copy of ${t.name}`, text: `${t.text}# a copy\n` }])) as unknown as TemplateSet;
      expect(renderDocuments(c, { ...FIXED, templates: copy })).toEqual(renderDocuments(c, { ...FIXED, templates: builtin }));
    });

    it('renders without the yaml library: every document is written and read back by src/cloudinit/yaml-subset.ts', async () => {
      for (const doc of renderDocuments(await config(), FIXED).docs) {
        const body = doc.data.replace(/^#cloud-config\n/, '');
        expect(writeYamlSubset(readYaml(doc.data)), doc.name).toBe(body);
        expect(readYamlSubset(doc.data), doc.name).toEqual(readYaml(doc.data));
      }
    });
  });
});
