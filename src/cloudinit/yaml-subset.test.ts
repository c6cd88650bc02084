import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readYaml, serialiseYaml } from './render.js';
import { readYamlSubset, writeYamlSubset } from './yaml-subset.js';

/** An object with these entries as own properties ("__proto__" too), as renderNode builds them. */
function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

const key = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,6}$/),
  fc.constantFrom('__proto__', 'e0', 'E-12', 'e', 'eth0', 'y', 'N', 'yes', 'On', 'TRUE', 'null', 'Null', '~', '1', '0755', '-a', 'a b', 'a:b', 'a: b', '#a', '', ' a', 'é', '<<', '.inf', 'a\nb'),
  fc.string({ maxLength: 4 }),
);
const line = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,12}$/),
  fc.constantFrom('', ' ', '  x', 'x ', '#!/bin/sh', '- a', 'a: b', '"q"', '\\', '---', '...', '%x', '\t', 'é', '\u2028', '\r', '\x00', '\x85'),
);
const text = fc.oneof(
  line,
  // several lines, 0-2 newlines at the end
  fc.tuple(fc.array(line, { minLength: 1, maxLength: 5 }), fc.constantFrom('', '\n', '\n\n')).map(([ls, end]) => ls.join('\n') + end),
  fc.string({ maxLength: 8, unit: 'binary' }),
);
const scalar = fc.oneof(
  text,
  fc.boolean(),
  fc.constant(null),
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(0, -0, 2 ** 53, -(2 ** 53) - 2, 1.5, 1e21, Number.NaN, Infinity),
);
const { value: data } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.uniqueArray(fc.tuple(key, tie('value')), { maxLength: 4, selector: ([k]) => k }).map(objectOf),
}));
const document = fc.uniqueArray(fc.tuple(key, data), { maxLength: 5, selector: ([k]) => k }).map(objectOf);
/** Documents the subset is meant to take: plain keys, ASCII text. */
const usualText = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,12}$/),
  fc.tuple(fc.array(fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,8}[\x21-\x7e])?$/), { minLength: 1, maxLength: 4 }), fc.boolean()).map(([ls, nl]) => ls.join('\n') + (nl ? '\n' : '')),
);
const { value: usual } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, usualText, fc.boolean(), fc.constant(null), fc.integer(), tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 3 }),
  map: fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z_][a-z0-9_-]{0,5}$/).filter((k) => !/^(?:y|n|yes|no|on|off|true|false|null|e-?[0-9]+)$/.test(k)), tie('value')), { maxLength: 3, selector: ([k]) => k }).map(objectOf),
}));
const usualDocument = fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z_][a-z0-9_-]{0,5}$/).filter((k) => !/^(?:y|n|yes|no|on|off|true|false|null|e-?[0-9]+)$/.test(k)), usual), { maxLength: 5, selector: ([k]) => k }).map(objectOf);

/** What the library reads, or a marker when it refuses the text. */
function libraryRead(t: string): unknown {
  try {
    return readYaml(t);
  } catch {
    return Symbol.for('not YAML');
  }
}

/** The soundness property: whatever the subset reader accepts, the library reads the same. */
function expectReadAsLibrary(t: string): boolean {
  const mine = readYamlSubset(t);
  if (mine === undefined) return false;
  expect(isDeepStrictEqual(mine, libraryRead(t)), `${JSON.stringify(t)}: subset ${JSON.stringify(mine)}, library ${JSON.stringify(libraryRead(t))}`).toBe(true);
  return true;
}

describe('writeYamlSubset', () => {
  it('writes what the yaml library writes, or declines (any data)', () => {
    let written = 0;
    fc.assert(
      fc.property(document, (doc) => {
        const mine = writeYamlSubset(doc);
        if (mine === undefined) return;
        written++;
        expect(mine).toBe(serialiseYaml(doc));
      }),
      { numRuns: 3000 },
    );
    expect(written).toBeGreaterThan(300); // the property is not empty
  });

  it('takes the usual data: plain keys, ASCII text (single-line, or lines without edge spaces), booleans, null, integers', () => {
    fc.assert(
      fc.property(usualDocument, (doc) => {
        const mine = writeYamlSubset(doc);
        expect(mine).toBe(serialiseYaml(doc));
        // and the reader takes what it writes, as the data
        expect(isDeepStrictEqual(readYamlSubset(mine!), doc)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['a key YAML 1.1 reads as a boolean or null', { yes: 1 }],
    ['a key that is a number', { 1: 'x' }],
    ['a key YAML 1.1 reads as a float', { e5: 'x' }],
    ['text outside printable ASCII', { a: 'é' }],
    ['a tab', { a: 'a\tb' }],
    ['a block that starts with a space (indentation indicator)', { a: ' x\ny\n' }],
    ['a block that ends in two newlines (keep chomping)', { a: 'x\n\n' }],
    ['a block with a line of spaces only', { a: 'x\n  \ny' }],
    ['a number that is not a safe integer', { a: 1.5 }],
    ['-0', { a: -0 }],
    ['a date', { a: new Date(0) }],
    ['undefined', { a: undefined }],
  ])('declines %s', (_why, doc) => {
    expect(writeYamlSubset(doc)).toBeUndefined();
  });
});

describe('readYamlSubset', () => {
  it('reads what writeYamlSubset writes as the library reads it', () => {
    fc.assert(
      fc.property(document, (doc) => {
        const t = writeYamlSubset(doc);
        if (t === undefined) return;
        expect(expectReadAsLibrary(t)).toBe(true);
        expect(expectReadAsLibrary(`#cloud-config\n${t}`)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  // the reader's whole claim: a text it accepts means to it what it means to the library
  it('accepts a text only when the library reads it the same (written texts, then changed at random)', () => {
    const piece = fc.constantFrom(' ', '  ', '\n', '\n\n', '- ', '-', ':', ': ', '"', '\\', '\\n', '#', ' #', '|', '|-', '|+', '|2', '>', "'", '\t', 'yes', 'y', '~', 'null', '0', '01', '-0', '1.5', '1_0', '0x1', '[]', '{}', '[', '{', '&a ', '*a', '!!str ', '? ', '---', '...', '%', 'é', '\r', 'a', 'k: ', 'k:', '__proto__: ');
    let accepted = 0;
    fc.assert(
      fc.property(
        usualDocument,
        fc.array(fc.tuple(fc.nat(), fc.nat(3), piece), { minLength: 1, maxLength: 3 }),
        (doc, edits) => {
          let t = writeYamlSubset(doc)!;
          for (const [at, cut, insert] of edits) {
            const i = at % (t.length + 1);
            t = t.slice(0, i) + insert + t.slice(i + cut);
          }
          if (expectReadAsLibrary(t)) accepted++;
        },
      ),
      { numRuns: 5000 },
    );
    expect(accepted).toBeGreaterThan(100); // some changes keep a text of the subset (other keys, values, lines)
  });

  it('accepts a text only when the library reads it the same (pieces of the grammar)', () => {
    const piece = fc.constantFrom('a', 'k', '__proto__', 'yes', 'y', ':', ': ', ' ', '  ', '\n', '- ', '-', '"', '"x"', '\\"', '\\\\', '\\n', '|', '|-', '|+', '#', '#cloud-config\n', 'true', 'null', '0', '12', '-3', '01', '[]', '{}', '\t', "'", 'é');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        expectReadAsLibrary(parts.join('') + '\n');
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['an escape other than \\" and \\\\', 'a: "x\\ty"\n'],
    ['an unterminated string', 'a: "x\\"\n'],
    ['a comment', 'a: 1 # one\n'],
    ['a block ending in an empty line', 'a: |\n  x\n\nb: 1\n'],
    ['a block whose first line is deeper than the rest', 'a: |\n    x\n  y\n'],
    ['a key with nothing under it', 'a:\nb: 1\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a flow list', 'a: [1]\n'],
    ['a plain string value', 'a: x\n'],
    ['a leading zero', 'a: 0755\n'],
    ['no final newline', 'a: 1'],
  ])('declines %s', (_why, t) => {
    expect(readYamlSubset(t)).toBeUndefined();
  });

  it('keeps "__proto__" a key, as the library does', () => {
    const read = readYamlSubset('a:\n  __proto__:\n    b: true\n') as { a: object };
    expect(Object.keys(read.a)).toEqual(['__proto__']);
    expect(isDeepStrictEqual(read, readYaml('a:\n  __proto__:\n    b: true\n'))).toBe(true);
  });
});
