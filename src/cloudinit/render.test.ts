import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isQksError } from '../errors.js';
import { renderTemplate, type TemplateVars } from './render.js';

const tpl = (text: string, name = 'my/user-data.template') => ({ name, text });
const vars: TemplateVars = { hostname: 'node1', on: true, off: false, empty: '', keys: ['k1', 'k2'], none: [] };
const render = (text: string, v: TemplateVars = vars, kind: 'user-data' | 'meta-data' = 'user-data') =>
  renderTemplate(tpl(text), kind, v, Object.keys(vars));
const data = (out: string) => parse(out, { version: '1.1' }) as Record<string, unknown>;

function templateError(text: string, kind: 'user-data' | 'meta-data' = 'user-data') {
  try {
    render(text, vars, kind);
  } catch (e) {
    if (isQksError(e, 'TEMPLATE_INVALID')) return e;
    throw e;
  }
  throw new Error('expected TEMPLATE_INVALID');
}

describe('renderTemplate', () => {
  it('puts whole values in as their type and text placeholders as text', () => {
    const out = render('#cloud-config\nhostname: "{{ hostname }}"\nflag: "{{on}}"\nkeys: "{{ keys }}"\nmotd: "hello {{ hostname }}!"\n');
    expect(out.startsWith('#cloud-config\n')).toBe(true);
    expect(data(out)).toEqual({ hostname: 'node1', flag: true, keys: ['k1', 'k2'], motd: 'hello node1!' });
  });

  it('keeps or drops entries with !if/ and !unless/, splicing tagged lists', () => {
    const out = render(
      '#cloud-config\na: !if/on {x: 1}\nb: !if/off {x: 2}\nc: !unless/empty 3\nd: !if/none [1]\nl:\n  - 0\n  - !if/on\n    - 1\n    - 2\n  - !if/off\n    - 3\n  - !if/on [4, 5]\n  - !unless/on 6\n  - !if/on {m: 7}\n',
    );
    expect(data(out)).toEqual({ a: { x: 1 }, c: 3, l: [0, 1, 2, 4, 5, { m: 7 }] });
  });

  it('substitutes in keys and refuses a key made twice', () => {
    expect(data(render('#cloud-config\n"{{ hostname }}": 1\n'))).toEqual({ node1: 1 });
    expect(templateError('#cloud-config\nnode1: 1\n"{{ hostname }}": 2\n').message).toMatch(/:3: duplicate key "node1"/);
  });

  it('a template parsed once serves every render: each sees its own variables, each error its own name and line', () => {
    const text = '#cloud-config\nhostname: "{{ hostname }}"\nkeys: !if/keys "{{ keys }}"\n';
    expect(data(renderTemplate(tpl(text), 'user-data', vars))).toEqual({ hostname: 'node1', keys: ['k1', 'k2'] });
    expect(data(renderTemplate(tpl(text), 'user-data', { hostname: 'node2', keys: [] }))).toEqual({ hostname: 'node2' });
    // the same text under another name, with a variable the first render knew and this one does not
    expect(() => renderTemplate(tpl(text, 'other/user-data.template'), 'user-data', { keys: [] }, ['keys'])).toThrow(/^other\/user-data\.template:2: unknown placeholder "hostname"/);
  });

  it('keeps a key named __proto__ a key (--interface __proto__ is a legal Linux name), not a prototype', () => {
    const out = renderTemplate(tpl('version: 2\nethernets:\n  "{{ hostname }}":\n    dhcp4: true\n', 'n'), 'meta-data', { hostname: '__proto__' }, ['hostname']);
    expect(out).toBe('version: 2\nethernets:\n  __proto__:\n    dhcp4: true\n');
    expect(Object.keys(data(out).ethernets as object)).toEqual(['__proto__']);
  });

  it('writes multi-line text as literal blocks and quotes every single-line string', () => {
    const out = render('#cloud-config\nwrite_files:\n  - content: |\n      #!/bin/sh\n      echo {{ hostname }}\n    permissions: "0755"\n    n: yes\n');
    expect(out).toContain('content: |\n      #!/bin/sh\n      echo node1\n');
    expect(out).toContain('permissions: "0755"');
    expect(data(out)).toEqual({ write_files: [{ content: '#!/bin/sh\necho node1\n', permissions: '0755', n: true }] });
  });

  describe('hostile templates fail with TEMPLATE_INVALID naming file and line', () => {
    it.each([
      ['#cloud-config\nok: 1\nbad: [1, 2\n', /my\/user-data\.template:\d+: not valid YAML/],
      ['#cloud-config\na: 1\nb: "{{ nope }}"\n', /user-data\.template:3: unknown placeholder "nope"/],
      ['#cloud-config\na: 1\nb: !if/nope 1\n', /user-data\.template:3: unknown placeholder "nope"/],
      ['#cloud-config\nb: !!python/object 1\n', /:2: unknown tag/],
      ['#cloud-config\nb: !include /etc/passwd\n', /:2: unknown tag !include/],
      ['#cloud-config\nb: {{ hostname }}\n', /:2: a mapping key must be plain text/],
      ['#cloud-config\nb: "x {{ keys }}"\n', /:2: the list "keys" cannot be placed inside text/],
      ['#cloud-config\nb: "{{ not a name }}"\n', /:2: .*not a placeholder name/],
      ['#cloud-config\na: &x 1\nb: *x\n', /:3: unsupported YAML node/],
      ['#cloud-config\na: 1\na: 2\n', /:3: duplicate key "a"/],
      ['hostname: x\n', /user-data\.template:1: .*must start with the line "#cloud-config"/],
      ['## template: jinja\n#cloud-config\nhostname: x\n', /:1: .*#cloud-config/],
      ['#cloud-config\n- a\n- b\n', /must be a mapping/],
      ['#cloud-config\nbase: 1\nx:\n  <<: {a: 1}\n', /:4: merge keys/],
      ['#cloud-config\n!if/on k: 1\n', /:2: a tag on a key/],
    ])('%j', (text, why) => {
      const e = templateError(text);
      expect(e.message).toMatch(why);
      expect(e.exitCode).toBe(2);
    });

    it('meta-data needs no header but must be a mapping', () => {
      expect(data(render('instance-id: "{{ hostname }}"\n', vars, 'meta-data'))).toEqual({ 'instance-id': 'node1' });
      expect(templateError('just text', 'meta-data').message).toMatch(/must be a mapping/);
    });
  });

  it('any template text either renders to a mapping or fails as TEMPLATE_INVALID (fuzz)', () => {
    const piece = fc.constantFrom('a', 'b: ', '- ', '  ', '\n', '{{ hostname }}', '{{ keys }}', '{{', '}}', '!if/on ', '!unless/none ', '!x ', '&a ', '*a', '<<: ', '"', "'", '|', '>', '[', ']', '{', '}', ',', '#', ':', '?', '%', '@', '`', '\t', 'yes', '0755', '~');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
        try {
          const out = render('#cloud-config\n' + parts.join(''));
          expect(out.startsWith('#cloud-config\n')).toBe(true);
        } catch (e) {
          if (!isQksError(e, 'TEMPLATE_INVALID')) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });

  describe('cost (issue 21: 50k keys took 56 s, a 20 MB template 11 min)', () => {
    it('renders 50k keys well within a generous bound: linear, not quadratic (figures in bench/templates.bench.ts)', () => {
      const text = `#cloud-config\nbig:\n${Array.from({ length: 50_000 }, (_, i) => (i % 10 ? `  k${i}: x\n` : `  k${i}: "{{hostname}}"\n`)).join('')}`;
      const started = performance.now();
      const out = render(text);
      // the quadratic renderer needed about 56 s unloaded; linear takes about 1 s: 25 s leaves room for a loaded machine
      expect(performance.now() - started).toBeLessThan(25_000);
      // (the yaml library's own duplicate-key check is the quadratic part: read back without it)
      expect(Object.keys(parse(out, { version: '1.1', uniqueKeys: false }).big as object)).toHaveLength(50_000);
    }, 60_000);

    it('refuses a template above the cap before parsing it', () => {
      const e = templateError(`#cloud-config\nx: "${'a'.repeat(1024 * 1024)}"\n`);
      expect(e.message).toMatch(/larger than 1048576 bytes/);
    });
  });
});
