import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, parseDocument, Scalar, type Node } from 'yaml';
import { readBlockYaml, type BlockNode } from './block-yaml.js';

const ADMIN = readFileSync(new URL('../../fixtures/kubeconfig/admin.kubeconfig', import.meta.url), 'utf8');

/** What the yaml library makes of `text`, as kubeconfig reading asks it (./yaml-library.ts). */
function library(text: string) {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  return { doc, ok: doc.errors.length === 0 && doc.warnings.length === 0 };
}

const STYLE = { [Scalar.PLAIN]: 'plain', [Scalar.QUOTE_SINGLE]: 'single', [Scalar.QUOTE_DOUBLE]: 'double' } as Record<string, string>;

/** Every node of ours against the library's: kind, flow, key offsets, scalar values, styles and ranges. */
function sameTree(ours: BlockNode, theirs: Node | null, path = '$'): void {
  if (ours.kind === 'scalar') {
    expect(isScalar(theirs), path).toBe(true);
    const s = theirs as Scalar;
    expect(s.value, path).toBe(ours.value);
    expect(STYLE[s.type!], path).toBe(ours.style);
    expect([s.range![0], s.range![1]], path).toEqual(ours.range);
  } else if (ours.kind === 'seq') {
    expect(isSeq(theirs), path).toBe(true);
    const s = theirs as unknown as { flow?: boolean; items: Node[] };
    expect(!!s.flow, path).toBe(ours.flow);
    expect(s.items.length, path).toBe(ours.items.length);
    ours.items.forEach((n, i) => sameTree(n, s.items[i]!, `${path}[${i}]`));
  } else if (ours.kind === 'map') {
    expect(isMap(theirs), path).toBe(true);
    const m = theirs as unknown as { flow?: boolean; items: { key: Scalar; value: Node | null }[] };
    expect(!!m.flow, path).toBe(ours.flow);
    expect(m.items.length, path).toBe(ours.items.length);
    ours.items.forEach((p, i) => {
      expect(m.items[i]!.key.value, path).toBe(p.key);
      expect(m.items[i]!.key.range![0], `${path}.${p.key} key`).toBe(p.keyStart);
      sameTree(p.value, m.items[i]!.value, `${path}.${p.key}`);
    });
  } else {
    throw new Error(`${path}: the reader made an "other" node`);
  }
}

/** The property: where the reader answers, the library reads the same text without complaint, to the same values at the same offsets. */
function agrees(text: string): boolean {
  const ours = readBlockYaml(text);
  if (!ours) return false;
  const { doc, ok } = library(text);
  expect(ok, `the library refuses what the reader read:\n${text}`).toBe(true);
  expect(ours.js).toStrictEqual(doc.toJS());
  sameTree(ours.tree, doc.contents);
  return true;
}

describe('readBlockYaml', () => {
  it("reads Kubesolo's kubeconfig as the yaml library does, offsets included", () => {
    expect(agrees(ADMIN)).toBe(true);
  });

  it.each([
    ['kubectl style (seq indented under its key, comments, quotes, {})', 'apiVersion: v1\nclusters:\n  - cluster:\n      server: "https://10.0.0.5:6443"   # rewritten\n      tls-server-name: kubernetes\n    name: \'it\'\'s\'\ncontexts: []\npreferences: {}\n'],
    ['a document start and blank lines', '---\n\napiVersion: v1\n\n# users below\nusers:\n-   name: a\n    user:\n      token: "x\\u00e9\\"y\\\\z\\/"\n'],
    ['booleans and nulls of the core schema', 'a: True\nb: FALSE\nc: ~\nd: Null\ne: truex\nf: null-ish\n'],
    ['plain scalars with #, : and brackets inside', 'a: b#c\nb: https://h:1/p?q=[1]&r={2}\nc: x :y\nd: v1 # comment\n'],
    ['no newline at the end, trailing spaces', 'a: b   \nc:\n- d  \n- e'],
  ])('agrees with the library: %s', (_name, text) => {
    expect(agrees(text)).toBe(true);
  });

  it.each([
    ['a flow mapping', 'a: {b: c}\n'],
    ['a block scalar', 'a: |\n  b\n'],
    ['a multi-line plain scalar', 'a: b\n  c\n'],
    ['an anchor and an alias', 'a: &x b\nc: *x\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a number', 'a: 6443\n'],
    ['a float', 'a: 1.5e3\n'],
    ['a quoted key', '"a": b\n'],
    ['a duplicate key', 'a: b\na: c\n'],
    ['an empty value', 'a:\nb: c\n'],
    ['CRLF line ends', 'a: b\r\n'],
    ['a tab', 'a:\tb\n'],
    ['a BOM', '\ufeffa: b\n'],
    ['a second document', 'a: b\n---\nc: d\n'],
    ['a directive', '%YAML 1.2\n---\na: b\n'],
    ['a nested "- -"', 'a:\n- - b\n'],
    ['a YAML escape JSON lacks', 'a: "\\x41"\n'],
    ['an unclosed quote', 'a: "b\n'],
    ['a scalar document', 'just text\n'],
    ['a merge key', 'a:\n  <<: {}\n'],
    ['__proto__', '__proto__: x\n'],
    ['only comments', '# nothing\n'],
  ])('leaves %s to the library', (_name, text) => {
    expect(readBlockYaml(text)).toBeUndefined();
  });

  // generated documents in the subset's syntax, each style and layout drawn
  const key = fc.stringMatching(/^[a-z_][a-z0-9_.\/-]{0,11}$/);
  // mostly what kubeconfigs hold (base64, URLs, names), now and then an indicator first or ': ' inside
  const plainText = fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9/+=._~@%:?&,[\]{}()# -]{0,23}$/) }, fc.stringMatching(/^[a-zA-Z0-9/+=._~@%:?&,[\]{}()# -]{1,24}$/));
  const anyText = fc.string({ unit: fc.constantFrom('a', ' ', '"', "'", '\\', '#', ':', '-', 'é', '\u{1F600}', '\n', '/', '{', '}'), maxLength: 12 });
  const scalar = fc.oneof(
    plainText.map((t) => t.trim()).filter((t) => t !== ''),
    fc.constantFrom('true', 'False', '~', 'null', 'NULL', 'yes', 'on', '1', '0x1f', '.5', '+1', 'v1', '127.0.0.1', '1.2.3', '{}', '[]'),
    anyText.map((t) => JSON.stringify(t)),
    anyText.filter((t) => !t.includes('\n')).map((t) => `'${t.replaceAll("'", "''")}'`),
  );
  type Tree = string | Tree[] | [string, Tree][];
  const layout = fc.record({ indent: fc.integer({ min: 1, max: 4 }), seqIndented: fc.boolean(), comments: fc.boolean(), gap: fc.integer({ min: 1, max: 3 }), start: fc.boolean() });
  /** Writes `t` in block style; `asMap`: the generator made it a mapping (pairsTag), since a mapping and a list of pairs look alike. */
  function write(t: Tree, asMap: boolean, col: number, l: { indent: number; seqIndented: boolean; comments: boolean; gap: number }, out: string[], first: string | undefined): void {
    const pad = (n: number) => ' '.repeat(n);
    const comment = (i: number) => (l.comments && i % 2 === 0 ? '  # note' : '');
    if (typeof t === 'string') {
      out.push(`${first ?? pad(col)}${t}${comment(out.length)}`);
      return;
    }
    if (asMap) {
      (t as [string, Tree][]).forEach(([k, v], i) => {
        const lead = i === 0 && first !== undefined ? first : pad(col);
        if (typeof v === 'string') out.push(`${lead}${k}: ${v}${comment(out.length)}`);
        else {
          out.push(`${lead}${k}:${l.comments ? ' # below' : ''}`);
          const vIsMap = isPairs(v);
          write(v, vIsMap, vIsMap || l.seqIndented ? col + l.indent : col, l, out, undefined);
        }
      });
      return;
    }
    t.forEach((item, i) => {
      const lead = `${i === 0 && first !== undefined ? first : pad(col)}-${pad(l.gap)}`;
      if (typeof item === 'string') out.push(`${lead}${item}${comment(out.length)}`);
      else if (isPairs(item)) write(item, true, col + 1 + l.gap, l, out, lead);
      else {
        // a sequence inside a sequence needs its own lines: `- -` is left to the library
        out.push(`${lead}x`);
      }
    });
  }
  const pairsTag = new WeakSet<object>();
  const isPairs = (t: Tree): boolean => typeof t !== 'string' && pairsTag.has(t);
  const tagged = fc.letrec<{ tree: Tree; map: Tree; seq: Tree }>((tie) => ({
    tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('map'), tie('seq')),
    map: fc.uniqueArray(fc.tuple(key, tie('tree')), { minLength: 1, maxLength: 4, selector: ([k]) => k }).map((m) => (pairsTag.add(m), m)),
    seq: fc.array(tie('tree'), { minLength: 1, maxLength: 3 }),
  })).map;

  // ./block-yaml.ts runs its core-schema expressions only on text whose first character they can match
  it('agrees with the library on every core-schema word and number form, as a key, a value and an item', () => {
    const words = ['null', 'Null', 'NULL', '~', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', '__proto__', '_x', 'nil', 'Nope', 'Tiny', 'fx', 'Fx', '~x'];
    const numbers = ['0', '-5', '+1', '1e3', '.5', '-.5', '0o17', '0x1f', '.inf', '-.Inf', '+.INF', '.NaN', '.nan', '.x', '+x', '-x', '1.2.3', '127.0.0.1'];
    let read = 0;
    for (const w of [...words, ...numbers]) {
      for (const text of [`${w}: v\n`, `k: ${w}\n`, `k:\n- ${w}\n`, `k:\n  ${w}: ${w}\n`]) if (agrees(text)) read++;
    }
    expect(read).toBeGreaterThan(40);
  });

  it('agrees with the library on generated block documents', () => {
    const numRuns = 400;
    let read = 0;
    fc.assert(
      fc.property(tagged, layout, (t, l) => {
        const out: string[] = l.start ? ['---'] : [];
        write(t, true, 0, l, out, undefined);
        if (agrees(`${out.join('\n')}\n`)) read++;
      }),
      { numRuns },
    );
    // about half stay inside the subset (the rest draw numbers, indicators first, ": " inside)
    expect(read).toBeGreaterThan(numRuns / 4);
  });

  it('agrees with the library on mutated kubeconfigs, or leaves them to it', () => {
    const alphabet = fc.constantFrom(' ', '  ', '\n', '-', '- ', ':', ': ', '#', ' #', '"', "'", '\\', '{', '}', '[', ']', '&', '*', '!', '|', '>', '%', '@', '?', ',', '~', 'true', '1', '.', 'é', '---', '\n  ', '\n- ', 'a: b');
    const edit = fc.record({ at: fc.nat(), cut: fc.nat({ max: 6 }), put: alphabet });
    let read = 0;
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        let text = ADMIN;
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.put + text.slice(at + e.cut);
        }
        if (agrees(text)) read++;
      }),
      { numRuns: 3000 },
    );
    // most single edits keep a document the reader reads (inside a value, say): the property is not vacuous
    expect(read).toBeGreaterThan(600);
  });
});
