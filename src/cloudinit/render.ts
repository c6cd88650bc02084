/**
 * Data-safe template rendering. A template is a YAML document; placeholders are substituted in the
 * parsed data tree, never in the text, and the result is serialised again by the YAML library. So a
 * value can change only the scalar it stands in: it cannot add keys, items, lines or commands.
 *
 *   "{{ name }}"          whole value: replaced by the variable (text, boolean or list)
 *   "... {{ name }} ..."  inside text: the variable's text is inserted
 *   !if/name, !unless/name on a mapping value or a list item: kept only when the variable is set
 *                         (true, non-empty text, non-empty list) or not set; a tagged list inside a
 *                         list is spliced into it.
 *
 * Pure: text in, text out. Errors are TEMPLATE_INVALID naming the template and the line.
 */
import { isDeepStrictEqual } from 'node:util';
import { Document, LineCounter, isMap, isPair, isScalar, isSeq, parse, parseDocument, visit, type Node, type SchemaOptions } from 'yaml';
import { renderedDiffers, templateInvalid, templateNotMapping, templateNotYaml, templateTooLarge, templateWithoutHeader } from './errors.js';
import { INPUT_CAPS } from '../files/caps.js';

export type TemplateValue = string | boolean | readonly string[];
export type TemplateVars = Readonly<Record<string, TemplateValue>>;

export interface TemplateSource {
  /** Shown in errors: the file path, or "built-in user-data.template". */
  name: string;
  text: string;
}

export type DocumentKind = 'user-data' | 'meta-data' | 'network-config';

/** YAML 1.1 on both sides: cloud-init reads with PyYAML, for which `yes`, `0755` or `1:20` are not text. */
const YAML_VERSION = '1.1' as const;
type Tags = Exclude<NonNullable<SchemaOptions['customTags']>, ((tags: never) => unknown)>;
/** The yaml library's 1.1 booleans also take y/n; PyYAML's (what cloud-init reads with) do not. */
const PYYAML_BOOLS = (tags: Tags): Tags =>
  tags.map((t) => {
    if (typeof t !== 'object' || t.tag !== 'tag:yaml.org,2002:bool' || !('test' in t) || !t.test) return t;
    const isTrue = t.test.test('yes');
    return { ...t, test: isTrue ? /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/ : /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/ };
  }) as Tags;
const YAML_OPTIONS = { version: YAML_VERSION, customTags: PYYAML_BOOLS } as const;
/** Explicit tags a template may carry (the standard ones); anything else, e.g. !!python/object, is refused. */
const STANDARD_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'seq', 'map'].map((t) => `tag:yaml.org,2002:${t}`));
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;
const COND_TAG = /^!(if|unless)\/([A-Za-z_][A-Za-z0-9_]*)$/;

/** Is a variable "set" for !if: true, non-empty text, non-empty list. */
function truthy(v: TemplateValue | undefined): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== undefined && v !== false && v !== '';
}

interface Ctx {
  tpl: TemplateSource;
  lines: LineCounter;
  /** Names a template may use; checked even when not all have values (for validating a template alone). */
  known: ReadonlySet<string>;
  vars: TemplateVars;
}

function fail(ctx: Ctx, node: Node | undefined | null, message: string, hint?: string): never {
  const offset = node?.range?.[0];
  const line = offset === undefined ? undefined : ctx.lines.linePos(offset).line;
  throw templateInvalid(ctx.tpl.name, line, message, hint);
}

function lookup(ctx: Ctx, node: Node, name: string): TemplateValue | undefined {
  if (!ctx.known.has(name)) {
    fail(ctx, node, `unknown placeholder "${name}"`, `Known variables: ${[...ctx.known].sort().join(', ')}.`);
  }
  return ctx.vars[name];
}

/** Substitutes placeholders inside a string scalar. `whole` allows a non-text value for an exact "{{ x }}". */
function substitute(ctx: Ctx, node: Node, s: string, whole: boolean): TemplateValue {
  const exact = WHOLE_PLACEHOLDER.exec(s);
  if (exact && whole) return lookup(ctx, node, exact[1]!) ?? '';
  return s.replace(PLACEHOLDER, (_m, name: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(ctx, node, `"{{ ${name} }}" is not a placeholder name`);
    const v = lookup(ctx, node, name) ?? '';
    if (Array.isArray(v)) fail(ctx, node, `the list "${name}" cannot be placed inside text; use it as a whole value: "{{ ${name} }}"`);
    return String(v);
  });
}

/** The condition of a node's tag: undefined (no condition), or whether to keep the node. */
function condition(ctx: Ctx, node: Node): boolean | undefined {
  const tag = node.tag;
  if (!tag) return undefined;
  const m = COND_TAG.exec(tag);
  if (!m) {
    if (STANDARD_TAGS.has(tag)) return undefined; // !!str and friends
    fail(ctx, node, `unknown tag ${tag} (only !if/NAME and !unless/NAME)`);
  }
  const set = truthy(lookup(ctx, node, m[2]!));
  return m[1] === 'if' ? set : !set;
}

const DROP = Symbol('drop');

function renderNode(ctx: Ctx, node: unknown): unknown {
  if (node === null || node === undefined) return null;
  if (isScalar(node)) {
    const cond = condition(ctx, node);
    if (cond === false) return DROP;
    // A custom tag makes the library keep a plain scalar as text; resolve it as if untagged (`!if/x 3` is 3).
    const value = cond === true && node.type === 'PLAIN' && typeof node.source === 'string' ? parse(node.source, YAML_OPTIONS) : node.value;
    return typeof value === 'string' ? substitute(ctx, node, value, true) : value;
  }
  if (isMap(node)) {
    if (condition(ctx, node) === false) return DROP;
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      if (!isScalar(pair.key)) {
        fail(ctx, (pair.key as Node) ?? node, 'a mapping key must be plain text', 'An unquoted {{ name }} is a YAML mapping: write it in quotes, "{{ name }}".');
      }
      if (pair.key.tag && !STANDARD_TAGS.has(pair.key.tag)) fail(ctx, pair.key, `a tag on a key (${pair.key.tag}) is not supported: put !if/NAME on the value`);
      const rawKey = pair.key.value;
      if (rawKey === '<<' || typeof rawKey === 'symbol') fail(ctx, pair.key, 'merge keys (<<) are not supported: write the entries out');
      // Keys stay the text they were written as (a `yes:` key is the string "yes" for cloud-init too).
      const key = typeof rawKey === 'string' ? substitute(ctx, pair.key, rawKey, false) : (pair.key.source ?? String(rawKey));
      const value = renderNode(ctx, pair.value);
      if (value === DROP) continue;
      if (Object.prototype.hasOwnProperty.call(out, key as string)) fail(ctx, pair.key, `duplicate key "${String(key)}"`);
      // defineProperty: a plain assignment to "__proto__" (a legal interface name) would set the prototype
      Object.defineProperty(out, key as string, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  if (isSeq(node)) {
    if (condition(ctx, node) === false) return DROP;
    const out: unknown[] = [];
    for (const item of node.items) {
      const cond = isPair(item) ? undefined : condition(ctx, item as Node);
      const value = renderNode(ctx, item);
      if (value === DROP) continue;
      if (cond === true && isSeq(item) && Array.isArray(value)) out.push(...value);
      else out.push(value);
    }
    return out;
  }
  fail(ctx, node as Node, 'unsupported YAML node (aliases and complex keys are not allowed)');
}

/**
 * Parsed templates by text: an inventory renders the same three templates for every VM, and parsing is
 * most of a render (bench/artifacts.bench.ts). Safe to share: renderNode only reads the tree. Bounded
 * in entries and in the size of a text worth keeping; only templates that parsed are kept.
 */
const parsedTemplates = new Map<string, { doc: Document.Parsed; lines: LineCounter }>();
const PARSED_TEMPLATES_MAX = 8;
const PARSED_TEMPLATE_MAX_CHARS = 64 * 1024;

function parseTemplate(tpl: TemplateSource): { doc: Document.Parsed; lines: LineCounter } {
  const hit = parsedTemplates.get(tpl.text);
  if (hit) return hit;
  const parsed = parseTemplateText(tpl);
  if (tpl.text.length <= PARSED_TEMPLATE_MAX_CHARS) {
    if (parsedTemplates.size >= PARSED_TEMPLATES_MAX) parsedTemplates.delete(parsedTemplates.keys().next().value!);
    parsedTemplates.set(tpl.text, parsed);
  }
  return parsed;
}

function parseTemplateText(tpl: TemplateSource): { doc: Document.Parsed; lines: LineCounter } {
  const lines = new LineCounter();
  // uniqueKeys off: the library's check compares each key with every earlier one (quadratic: 50k keys
  // took a minute); renderNode finds duplicates with a hash lookup, after substitution, with the line
  const doc = parseDocument(tpl.text, { ...YAML_OPTIONS, lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const line = lines.linePos(err.pos[0]).line;
    throw templateNotYaml(tpl.name, line, err.message);
  }
  return { doc, lines };
}

/** Checks the user-data header cloud-init needs to treat the file as cloud-config. */
function checkHeader(tpl: TemplateSource, kind: DocumentKind): void {
  if (kind !== 'user-data') return;
  const first = tpl.text.replace(/^\uFEFF/, '').split('\n', 1)[0]!.trimEnd();
  if (first !== '#cloud-config') {
    throw templateWithoutHeader(tpl.name);
  }
}

/** Serialises data for cloud-init: single-line text always double-quoted, multi-line text as a literal block. */
function serialise(data: unknown): string {
  const doc = new Document(data, YAML_OPTIONS);
  visit(doc, {
    Scalar(key, node) {
      if (typeof node.value !== 'string') return;
      // y/n are booleans to some YAML 1.1 readers (not PyYAML): quote them as keys too
      if (key === 'key') {
        if (/^[yYnN]$/.test(node.value)) node.type = 'QUOTE_DOUBLE';
        return;
      }
      node.type = node.value.includes('\n') ? 'BLOCK_LITERAL' : 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0, indentSeq: true });
}

/**
 * Renders one template with `vars`. `known` lists every variable name a template may use (defaults to
 * the keys of `vars`). Returns the document's text: user-data starts with "#cloud-config".
 */
export function renderTemplate(tpl: TemplateSource, kind: DocumentKind, vars: TemplateVars, known?: Iterable<string>): string {
  // the same cap as for a template file (src/files/caps.ts): rendering is linear, but memory is not free
  if (Buffer.byteLength(tpl.text, 'utf8') > INPUT_CAPS.template) {
    throw templateTooLarge(tpl.name, INPUT_CAPS.template);
  }
  checkHeader(tpl, kind);
  const { doc, lines } = parseTemplate(tpl);
  const ctx: Ctx = { tpl, lines, known: new Set(known ?? Object.keys(vars)), vars };
  const data = renderNode(ctx, doc.contents);
  if (data === DROP || data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw templateNotMapping(tpl.name, kind);
  }
  const body = serialise(data);
  const out = kind === 'user-data' ? `#cloud-config\n${body}` : body;
  // Belt and braces: what cloud-init will read back must be exactly the data we meant.
  if (!isDeepStrictEqual(parse(out, { ...YAML_OPTIONS, uniqueKeys: false }), data)) {
    throw renderedDiffers(tpl.name, kind);
  }
  return out;
}
