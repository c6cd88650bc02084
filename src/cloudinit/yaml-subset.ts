/**
 * The YAML that rendering writes, without the YAML library, for the data it usually writes: maps with
 * plain keys, lists, ASCII text, booleans, null and integers. Both halves answer `undefined` for
 * anything else, and src/cloudinit/render.ts then uses the library (that is the only cost of
 * declining). A render spent most of its time in the library: parsing the template, serialising the
 * data and parsing the text back (~20-30 ms of a cold `artifacts` run, bench/startup.md).
 *
 * - writeYamlSubset(data) gives exactly the library's text (src/cloudinit/render.ts serialise: every
 *   single-line string double-quoted, multi-line ones as literal blocks, lineWidth 0, indentSeq).
 * - readYamlSubset(text) reads a grammar narrow enough to be read right by construction: the lines
 *   writeYamlSubset writes, nothing more (no comments but a first `#cloud-config` line, no flow
 *   collections but `[]` and `{}`, no escapes but `\"` and `\\`, a literal block's lines at exactly its
 *   indentation or deeper, not ending in empty lines). For any text it accepts it returns what the
 *   library's parse returns (test/cloudinit/yaml-subset.test.ts, on generated and mutated texts), so
 *   the read-back check of a render keeps its meaning: what cloud-init reads is the data we meant.
 */

/**
 * A key written plain: starts with a letter or `_`, and is nothing YAML 1.1 (the library's schema,
 * node_modules/yaml/dist/schema/yaml-1.1) reads as other than text: a boolean, null, or a float such as
 * `e5` (its exponent-only form). Such keys the library quotes, and the subset leaves to it.
 */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const NOT_TEXT_KEY = /^(?:y|n|yes|no|on|off|true|false|null|e-?[0-9]+)$/i;
/** Single-line text: printable ASCII (JSON.stringify then escapes only `"` and `\`, as the library writes it). */
const LINE_TEXT = /^[\x20-\x7e]*$/;
/** A line of a literal block: printable ASCII, not spaces only (empty lines are written as empty). */
const BLOCK_LINE = /^(?:[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*)?$/;
const INTEGER = /^(?:0|-?[1-9][0-9]*)$/;

/**
 * Multi-line text the library writes as a literal block with no indentation indicator and clip or strip
 * chomping: printable ASCII lines, none of spaces only, the first not starting with a space, the last
 * not empty and not ending in one, at most one newline after it.
 */
function literalBlock(value: string): boolean {
  const lines = (value.endsWith('\n') ? value.slice(0, -1) : value).split('\n');
  const first = lines[0]!;
  const last = lines[lines.length - 1]!;
  return value.includes('\n') && first !== '' && first[0] !== ' ' && last !== '' && last[last.length - 1] !== ' ' && lines.every((l) => BLOCK_LINE.test(l));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

function isPlainArray(v: unknown): v is unknown[] {
  return Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype;
}

/** A value on the line of its key or dash, or undefined when it is not one. */
function inline(v: unknown): string | undefined {
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'number') return Number.isSafeInteger(v) && !Object.is(v, -0) ? String(v) : undefined;
  if (typeof v === 'string') return LINE_TEXT.test(v) ? JSON.stringify(v) : undefined;
  if (isPlainArray(v)) return v.length === 0 ? '[]' : undefined;
  if (isPlainObject(v)) return Object.keys(v).length === 0 ? '{}' : undefined;
  return undefined;
}

class Declined extends Error {}

/**
 * `value` after "key:" or "-" whose line starts at `indent` (the collection's indentation), as the text
 * that follows on the same line and the lines below. Throws Declined outside the subset.
 */
function valueText(value: unknown, indent: string, inSeq: boolean): string {
  const one = inline(value);
  if (one !== undefined) return (inSeq ? '' : ' ') + one;
  const inner = `${indent}  `;
  if (typeof value === 'string') {
    // a multi-line string (inline() took the single-line ones)
    if (!literalBlock(value)) throw new Declined();
    const clip = value.endsWith('\n');
    const body = clip ? value.slice(0, -1) : value;
    return `${inSeq ? '' : ' '}|${clip ? '' : '-'}\n${inner}${body.replace(/\n+/g, `$&${inner}`)}`;
  }
  if (isPlainArray(value)) {
    const items = seqLines(value, inner);
    // in a list item the nested list starts on the dash's line: "- - a"
    return inSeq ? items.slice(inner.length) : `\n${items}`;
  }
  if (isPlainObject(value)) {
    const entries = mapLines(value, inner);
    return inSeq ? entries.slice(inner.length) : `\n${entries}`;
  }
  throw new Declined();
}

function mapLines(map: Record<string, unknown>, indent: string): string {
  const out: string[] = [];
  for (const key of Object.keys(map)) {
    if (!PLAIN_KEY.test(key) || NOT_TEXT_KEY.test(key)) throw new Declined();
    const value = map[key];
    if (value === undefined) throw new Declined();
    out.push(`${indent}${key}:${valueText(value, indent, false)}`);
  }
  return out.join('\n');
}

function seqLines(seq: readonly unknown[], indent: string): string {
  const out: string[] = [];
  for (let i = 0; i < seq.length; i++) {
    if (!(i in seq) || seq[i] === undefined) throw new Declined();
    out.push(`${indent}- ${valueText(seq[i], indent, true)}`);
  }
  return out.join('\n');
}

/** The library's serialisation of `data` (a mapping), or undefined when `data` is outside the subset. */
export function writeYamlSubset(data: unknown): string | undefined {
  if (!isPlainObject(data)) return undefined;
  if (Object.keys(data).length === 0) return '{}\n';
  try {
    return `${mapLines(data, '')}\n`;
  } catch (e) {
    if (e instanceof Declined) return undefined;
    throw e;
  }
}

/** Reads the lines of one document of the subset; every method throws Declined at anything else. */
class SubsetReader {
  private i = 0;
  constructor(private readonly lines: readonly string[]) {}

  document(): Record<string, unknown> {
    if (this.lines[0] === '#cloud-config') this.i = 1;
    if (this.lines.length === this.i + 1 && this.lines[this.i] === '{}') return {};
    const data = this.map(0);
    if (this.i !== this.lines.length) throw new Declined();
    return data;
  }

  /** The number of spaces a line starts with, or -1 past the end. */
  private indentOf(line: string | undefined): number {
    if (line === undefined) return -1;
    let n = 0;
    while (line.charCodeAt(n) === 32) n++;
    return n;
  }

  /** A mapping whose keys are at column `indent`; its first line may have been given a virtual indentation. */
  private map(indent: number, first?: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let line = first ?? this.lines[this.i]; line !== undefined && this.indentOf(line) === indent; line = this.lines[this.i]) {
      this.i++;
      const colon = line.indexOf(':', indent);
      if (colon < 0) throw new Declined();
      const key = line.slice(indent, colon);
      if (!PLAIN_KEY.test(key) || NOT_TEXT_KEY.test(key) || Object.prototype.hasOwnProperty.call(out, key)) throw new Declined();
      const rest = line.slice(colon + 1);
      let value: unknown;
      if (rest === '') value = this.nested(indent + 2);
      else if (rest === ' |' || rest === ' |-') value = this.block(indent + 2, rest === ' |');
      else if (rest.startsWith(' ')) value = this.inline(rest.slice(1));
      else throw new Declined();
      // defineProperty: "__proto__" is a key like any other (as the library reads it)
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    }
    if (Object.keys(out).length === 0) throw new Declined();
    return out;
  }

  /** The list or mapping on the lines below a key, at column `indent`. */
  private nested(indent: number): unknown {
    const line = this.lines[this.i];
    if (line === undefined || this.indentOf(line) !== indent) throw new Declined();
    return line.startsWith('- ', indent) ? this.seq(indent) : this.map(indent);
  }

  /** A list whose dashes are at column `indent`; its first line may have been given a virtual indentation. */
  private seq(indent: number, first?: string): unknown[] {
    const out: unknown[] = [];
    const pad = ' '.repeat(indent + 2);
    for (let line = first ?? this.lines[this.i]; line !== undefined && this.indentOf(line) === indent && line.startsWith('- ', indent); line = this.lines[this.i]) {
      this.i++;
      const rest = line.slice(indent + 2);
      if (rest.startsWith('- ')) {
        // "- - a": a list inside the item, its first dash two columns in
        this.i--;
        out.push(this.seq(indent + 2, pad + rest));
      } else if (rest === '|' || rest === '|-') {
        out.push(this.block(indent + 2, rest === '|'));
      } else if (/^[A-Za-z_][A-Za-z0-9_-]*:(?: |$)/.test(rest)) {
        // "- key: value": a mapping inside the item, its keys two columns in
        this.i--;
        out.push(this.map(indent + 2, pad + rest));
      } else {
        out.push(this.inline(rest));
      }
    }
    if (out.length === 0) throw new Declined();
    return out;
  }

  /** A literal block whose lines are at column `indent` (the first exactly there), clip or strip. */
  private block(indent: number, clip: boolean): string {
    const body: string[] = [];
    for (let line = this.lines[this.i]; line !== undefined; line = this.lines[++this.i]) {
      if (line === '') {
        body.push('');
        continue;
      }
      const n = this.indentOf(line);
      if (n < indent) break;
      if (n === line.length || (body.length === 0 && n !== indent) || !LINE_TEXT.test(line)) throw new Declined();
      body.push(line.slice(indent));
    }
    if (body.length === 0 || body[body.length - 1] === '') throw new Declined();
    return body.join('\n') + (clip ? '\n' : '');
  }

  /** A value on the line of its key or dash: the whole rest of the line. */
  private inline(text: string): unknown {
    switch (text) {
      case 'null':
        return null;
      case 'true':
        return true;
      case 'false':
        return false;
      case '[]':
        return [];
      case '{}':
        return {};
    }
    if (INTEGER.test(text)) {
      const n = Number(text);
      if (!Number.isSafeInteger(n)) throw new Declined();
      return n;
    }
    if (text.length < 2 || text[0] !== '"' || text[text.length - 1] !== '"' || !LINE_TEXT.test(text)) throw new Declined();
    let out = '';
    const end = text.length - 1; // the closing quote
    for (let k = 1; k < end; k++) {
      const c = text[k]!;
      if (c === '"') throw new Declined();
      if (c === '\\') {
        const next = k + 1 < end ? text[++k] : undefined;
        if (next !== '"' && next !== '\\') throw new Declined();
        out += next;
      } else out += c;
    }
    return out;
  }
}

/** What the library's parse (YAML 1.1, render.ts's options) reads from `text`, or undefined when `text` is outside the subset. */
export function readYamlSubset(text: string): unknown {
  if (!text.endsWith('\n')) return undefined;
  try {
    return new SubsetReader(text.slice(0, -1).split('\n')).document();
  } catch (e) {
    if (e instanceof Declined) return undefined;
    throw e;
  }
}
