import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readBlockYaml } from './block-yaml.js';
import { editKubeconfig, readKubeconfig } from './document.js';
import { serverEdits } from './rewrite.js';
import { applyClusterEdits, parseKubeconfig } from './yaml-library.js';

const ADMIN = readFileSync(new URL('../../fixtures/kubeconfig/admin.kubeconfig', import.meta.url), 'utf8');
// outside the block reader's subset: a flow mapping, an anchor and alias, a block scalar
const FLOW = ADMIN.replace('preferences: {}', 'preferences: {colors: true}');
const ALIAS = ADMIN.replace('    cluster: kubesolo\n', '    cluster: &c kubesolo\n').replace('current-context: kubernetes-admin@kubesolo', 'current-context: kubernetes-admin@kubesolo\nextensions-name: *c');
const FLOW_CLUSTER = ADMIN.replace(/- cluster:\n {4}certificate-authority-data: (\S+)\n {4}server: (\S+)\n/, '- cluster: {certificate-authority-data: $1, server: "$2"}\n');

describe('readKubeconfig', () => {
  it.each([
    ['Kubesolo\'s file (the block reader)', ADMIN, true],
    ['a flow mapping (the yaml library)', FLOW, false],
    ['an anchor and an alias (the yaml library)', ALIAS, false],
    ['a flow-style cluster (the yaml library)', FLOW_CLUSTER, false],
  ])('reads %s as parseKubeconfig does', async (_name, text, block) => {
    expect(!!readBlockYaml(text)).toBe(block);
    const a = await readKubeconfig(Buffer.from(text));
    const b = parseKubeconfig(text);
    expect(a.config).toStrictEqual(b.config);
    expect(a.js).toStrictEqual(b.js);
  });

  it('refuses what parseKubeconfig refuses, with the same error', async () => {
    for (const bad of ['', 'a: [', 'clusters: []\n', '- a\n', ADMIN.replace('kind: Config', 'kind: Config\nkind: Config')]) {
      let sync: unknown;
      try {
        parseKubeconfig(bad);
      } catch (e) {
        sync = e;
      }
      await expect(readKubeconfig(bad)).rejects.toMatchObject({ code: (sync as { code: string }).code, message: (sync as Error).message });
    }
  });
});

describe('editKubeconfig', () => {
  it('splices the server into the block text: every other byte stays', async () => {
    const parsed = await readKubeconfig(ADMIN);
    const out = await editKubeconfig(parsed, [...serverEdits(parsed, { host: '10.0.0.50' }).edits, { index: 0, key: 'tls-server-name', value: 'kubernetes' }]);
    expect(out).toBe(ADMIN.replace('    server: https://127.0.0.1:6443\n', '    server: https://10.0.0.50:6443\n    tls-server-name: kubernetes\n'));
  });

  it.each([
    ['a flow-style cluster', FLOW_CLUSTER],
    ['a flow mapping elsewhere', FLOW],
  ])('gives what applyClusterEdits gives for %s', async (_name, text) => {
    const parsed = await readKubeconfig(text);
    const edits = serverEdits(parsed, { host: 'k8s.example.com', port: 7443 }).edits;
    const out = await editKubeconfig(parsed, edits);
    expect(out).toBe(applyClusterEdits(parseKubeconfig(text), edits));
    expect((await readKubeconfig(out)).config.clusters[0]!.cluster.server).toBe('https://k8s.example.com:7443');
  });

  it('returns the text itself when nothing changes', async () => {
    const parsed = await readKubeconfig(ADMIN);
    expect(await editKubeconfig(parsed, [])).toBe(ADMIN);
  });
});
