// The read-back check of a render is real on the subset path too (src/cloudinit/yaml-subset.ts): a
// writer that changed a value, read by either reader, is an INTERNAL error, never a document.
import { describe, expect, it, vi } from 'vitest';
import { isQksError } from '../errors.js';

const wrong = vi.hoisted(() => ({ text: (t: string) => t }));
vi.mock('./yaml-subset.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./yaml-subset.js')>();
  return { ...real, writeYamlSubset: (data: unknown) => { const t = real.writeYamlSubset(data); return t === undefined ? t : wrong.text(t); } };
});
const { renderTemplate } = await import('./render.js');

const render = () => renderTemplate({ name: 't', text: '#cloud-config\nhostname: "{{ hostname }}"\ncount: 1\n' }, 'user-data', { hostname: 'node1' });

describe('the read-back check over the subset writer', () => {
  it('passes what the writer wrote right', () => {
    wrong.text = (t) => t;
    expect(render()).toBe('#cloud-config\nhostname: "node1"\ncount: 1\n');
  });

  it.each([
    ['a value changed (the subset reader takes it)', (t: string) => t.replace('node1', 'node2')],
    ['a type changed (the library reads it)', (t: string) => t.replace('count: 1', 'count: "1" # one')],
    ['an entry added', (t: string) => `${t}extra: true\n`],
  ])('refuses %s: INTERNAL', (_why, change) => {
    wrong.text = change;
    try {
      render();
      expect.unreachable();
    } catch (e) {
      expect(isQksError(e, 'INTERNAL'), String(e)).toBe(true);
      expect((e as Error).message).toMatch(/does not read back/);
    }
  });
});
