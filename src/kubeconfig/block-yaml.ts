/**
 * A reader for the block-style YAML kubeconfigs are written in (Kubesolo's, k3s's, kubectl's own):
 * block mappings and sequences, one-line plain and quoted scalars, `{}` and `[]`, comments. For
 * anything else (flow collections, block or multi-line scalars, anchors, aliases, tags, numbers,
 * quoted keys, CR or tab characters...) it answers `undefined`, and the caller hands the text to the
 * yaml library (./yaml-library.ts). Where it answers, it answers what the yaml library does, source
 * offsets included (block-yaml.test.ts compares the two on generated and on mutated documents).
 *
 * Why it exists: loading, compiling and running the yaml library was ~20 ms of each `kubeconfig`
 * start, most of the verb's own time (bench/startup.md, "Round 4: kubeconfig").
 *
 * Pure: a string in, a tree out.
 */

export type BlockNode = BlockMap | BlockSeq | BlockScalar | OtherNode;

export interface BlockMap {
  kind: 'map';
  /** `{}` (flow style): no items to splice into. */
  flow: boolean;
  items: BlockPair[];
}

export interface BlockPair {
  key: string;
  /** Offset of the key's first character. */
  keyStart: number;
  value: BlockNode;
}

export interface BlockSeq {
  kind: 'seq';
  flow: boolean;
  items: BlockNode[];
}

export type ScalarStyle = 'plain' | 'single' | 'double' | 'block';

export interface BlockScalar {
  kind: 'scalar';
  /** string, boolean or null from this reader; whatever yaml made of it from ./yaml-library.ts. */
  value: unknown;
  style: ScalarStyle;
  /** [first character, one past the last] of the scalar's source, quotes included; as yaml's Scalar.range[0..1]. */
  range: [number, number];
}

/** A node this reader does not model (the yaml library's aliases, for instance): never spliced into. */
export interface OtherNode {
  kind: 'other';
}

export interface BlockDocument {
  tree: BlockNode;
  /** The document as plain JS values, as yaml's `toJS()` gives it. */
  js: unknown;
}

/** Reads `text`, or undefined when it is outside the subset (which says nothing about its validity). */
export function readBlockYaml(text: string): BlockDocument | undefined {
  // characters yaml treats specially or that this reader does not follow: CR, tab, BOM, NEL,
  // line/paragraph separators, C0/C1 controls, noncharacters
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/.test(text)) return undefined;
  try {
    const r = new Reader(text);
    const tree = r.document();
    return tree && { tree, js: toJs(tree) };
  } catch (e) {
    if (e === OUTSIDE) return undefined;
    throw e;
  }
}

function toJs(n: BlockNode): unknown {
  switch (n.kind) {
    case 'scalar':
      return n.value;
    case 'seq':
      return n.items.map(toJs);
    case 'map': {
      const o: Record<string, unknown> = {};
      for (const p of n.items) o[p.key] = toJs(p.value);
      return o;
    }
    default:
      throw OUTSIDE;
  }
}

/** Thrown inside the reader when the text leaves the subset; never escapes readBlockYaml. */
const OUTSIDE = Symbol('outside the block subset');
const outside = (): never => {
  throw OUTSIDE;
};

interface Line {
  /** Offset of the line's first character in the text. */
  at: number;
  text: string;
  /** Leading spaces. */
  indent: number;
}

/** Keys yaml would read as something other than that string (core schema), or that JS objects treat specially. */
const SPECIAL_KEY = new Set(['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', '__proto__']);

// YAML 1.2 core schema (yaml's default): plain scalars that are not strings
// (words in sets, and NUMBER only on text that starts as a number can: a process's first regular
// expressions cost a start ~0.5 ms, bench/startup.md round 9; most kubeconfig values are base64 and names)
const NULL = new Set(['~', 'null', 'Null', 'NULL']);
const TRUE = new Set(['true', 'True', 'TRUE']);
const FALSE = new Set(['false', 'False', 'FALSE']);
/** Numbers (int, octal, hex, float, inf, nan): left to the yaml library, kubeconfigs hold none. */
const NUMBER = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
/** Characters a plain scalar may not start with here (YAML's indicators, and `-`, `?`, `:` to stay simple). */
const PLAIN_FIRST = new Set('-?:,[]{}#&*!|>\'"%@`');
const NUMBER_FIRST = new Set('-+.0123456789');

const isAsciiLetter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/**
 * The key `s` starts with, or undefined. A key starts with a letter or `_`, then letters, digits, `_`, `.`,
 * `/`, `-` (kubeconfig keys, extension names), and ends at a `:` followed by a space or the end.
 */
function keyOf(s: string): string | undefined {
  const c0 = s.charCodeAt(0);
  if (!(isAsciiLetter(c0) || c0 === 0x5f)) return undefined;
  let i = 1;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(isAsciiLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2f || c === 0x2d)) break;
  }
  return s[i] === ':' && (i + 1 === s.length || s[i + 1] === ' ') ? s.slice(0, i) : undefined;
}

const DOUBLE_ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

class Reader {
  private readonly lines: Line[] = [];
  /** Index of the next line not yet consumed. */
  private i = 0;

  constructor(text: string) {
    let at = 0;
    let started = false;
    for (const raw of text.split('\n')) {
      const indent = raw.length - raw.trimStart().length;
      const body = raw.slice(indent);
      const blank = body === '' || body.startsWith('#');
      if (!blank) {
        if (body.startsWith('%') || body.startsWith('...') || (started && body.startsWith('---'))) outside();
        // one `---` before the content, alone on its line
        if (!started && body.startsWith('---')) {
          if (indent !== 0 || raw !== '---') outside();
        } else {
          this.lines.push({ at, text: raw, indent });
        }
        started = true;
      }
      at += raw.length + 1;
    }
  }

  document(): BlockNode | undefined {
    const first = this.lines[0];
    if (!first) return undefined;
    const node = this.block(first.indent);
    if (this.i !== this.lines.length) outside();
    return node;
  }

  /** The collection that starts the next line, at column `col`: a scalar alone on its line is left to yaml. */
  private block(col: number): BlockNode {
    const body = this.lines[this.i]!.text.slice(col);
    if (isItem(body)) return this.seq(col);
    if (keyOf(body) !== undefined) return this.map(col);
    return outside();
  }

  private seq(col: number): BlockSeq {
    const items: BlockNode[] = [];
    for (;;) {
      const line = this.lines[this.i];
      if (!line || line.indent !== col) break;
      const body = line.text.slice(col);
      if (!isItem(body)) break;
      const rest = body.slice(1);
      const content = rest.trimStart();
      // `-` with its item on the lines below, and `- -`, are left to yaml
      if (content === '' || content.startsWith('#') || isItem(content)) outside();
      const itemCol = col + 1 + (rest.length - content.length);
      if (keyOf(content) !== undefined) {
        items.push(this.map(itemCol));
      } else {
        items.push(this.inline(line, itemCol));
        this.i++;
        this.noDeeper(col);
      }
    }
    return { kind: 'seq', flow: false, items };
  }

  /** A block mapping whose keys are at column `col`; its first key is on the next line, at that column. */
  private map(col: number): BlockMap {
    const items: BlockPair[] = [];
    const seen = new Set<string>();
    let first = true;
    for (;;) {
      const line = this.lines[this.i];
      if (!line) break;
      // the first key may follow a `- ` on its line; the others start their lines
      if (!first && line.indent !== col) {
        if (line.indent > col) outside();
        break;
      }
      // not a key at the map's column (a `- ` item after an inline value, say): not YAML, or not ours
      const key = keyOf(line.text.slice(col)) ?? outside();
      first = false;
      // (no key is a number: keyOf's keys start with a letter or `_`)
      if (SPECIAL_KEY.has(key) || seen.has(key)) outside();
      seen.add(key);
      const keyStart = line.at + col;
      const after = col + key.length + 1;
      const rest = line.text.slice(after);
      if (rest.trim() === '' || rest.trimStart().startsWith('#')) {
        this.i++;
        items.push({ key, keyStart, value: this.below(col) });
      } else {
        items.push({ key, keyStart, value: this.inline(line, after + (rest.length - rest.trimStart().length)) });
        this.i++;
        this.noDeeper(col);
      }
    }
    return { kind: 'map', flow: false, items };
  }

  /** The value of a key at column `col` written on the lines below it: deeper, or a `- ` list at the key's own column. */
  private below(col: number): BlockNode {
    const next = this.lines[this.i];
    if (next && next.indent > col) return this.block(next.indent);
    if (next && next.indent === col && isItem(next.text.slice(col))) return this.seq(col);
    // nothing below: an empty value (yaml's null), left to yaml
    return outside();
  }

  /** After a one-line value owned by column `col`: a deeper line would continue it (a multi-line scalar). */
  private noDeeper(col: number): void {
    const next = this.lines[this.i];
    if (next && next.indent > col) outside();
  }

  /** A one-line value starting at column `col` of `line`: a scalar, `{}` or `[]`. */
  private inline(line: Line, col: number): BlockNode {
    const s = line.text.slice(col);
    const start = line.at + col;
    const c = s[0];
    if (c === '"' || c === "'") {
      const { value, end } = c === '"' ? double(s) : single(s);
      trailing(s.slice(end));
      return { kind: 'scalar', value, style: c === '"' ? 'double' : 'single', range: [start, start + end] };
    }
    if (c === '{' || c === '[') {
      const m = /^(\{\}|\[\])( +#.*| *)$/.exec(s);
      if (!m) outside();
      return m![1] === '{}' ? { kind: 'map', flow: true, items: [] } : { kind: 'seq', flow: true, items: [] };
    }
    if (PLAIN_FIRST.has(s[0]!)) outside();
    // a plain scalar ends at a comment (` #`) or the end of the line
    const hash = s.indexOf(' #');
    const text = (hash === -1 ? s : s.slice(0, hash)).trimEnd();
    if (text.includes(': ') || text.endsWith(':')) outside();
    const value = NULL.has(text) ? null : TRUE.has(text) ? true : FALSE.has(text) ? false : NUMBER_FIRST.has(text[0]!) && NUMBER.test(text) ? outside() : text;
    return { kind: 'scalar', value, style: 'plain', range: [start, start + text.length] };
  }
}

/** A `- ` sequence item (or a bare `-`) at the start of `body`. */
function isItem(body: string): boolean {
  return body === '-' || body.startsWith('- ');
}

/** After a quoted scalar on its line: spaces, then a comment or nothing. */
function trailing(rest: string): void {
  if (!/^(?: +#.*| *)$/.test(rest)) outside();
}

/** A one-line double-quoted scalar at the start of `s` with JSON's escapes: its value and where it ends. */
function double(s: string): { value: string; end: number } {
  let out = '';
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') return { value: out, end: i + 1 };
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[++i];
    if (e === undefined) break;
    if (e === 'u') {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) outside();
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else if (e in DOUBLE_ESCAPES) {
      out += DOUBLE_ESCAPES[e];
    } else {
      outside();
    }
  }
  return outside();
}

/** A one-line single-quoted scalar at the start of `s` (`''` is a quote). */
function single(s: string): { value: string; end: number } {
  let out = '';
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "'") {
      out += c;
      continue;
    }
    if (s[i + 1] === "'") {
      out += "'";
      i++;
      continue;
    }
    return { value: out, end: i + 1 };
  }
  return outside();
}
