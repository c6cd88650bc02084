/**
 * Data-safe template rendering. A template is a YAML document; placeholders are substituted in the
 * parsed data tree, never in the text, and the result is serialised again as YAML (the library's text,
 * ./yaml-subset.ts writing the usual data without it). So a value can change only the scalar it stands
 * in: it cannot add keys, items, lines or commands.
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
import { EMBEDDED_TEMPLATES, EMBEDDED_TREES } from './embedded-templates.js';
import { readYamlSubset, writeYamlSubset } from './yaml-subset.js';
import type { TemplateMap, TemplateNode, TemplateNodeBase, TemplateOther, TemplateScalar, TemplateSeq } from './template-tree.js';

export type { TemplateMap, TemplateNode, TemplateOther, TemplateScalar, TemplateSeq } from './template-tree.js';

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
  /** Names a template may use; checked even when not all have values (for validating a template alone). */
  known: ReadonlySet<string>;
  vars: TemplateVars;
}

function fail(ctx: Ctx, node: TemplateNode | undefined | null, message: string, hint?: string): never {
  throw templateInvalid(ctx.tpl.name, node?.line, message, hint);
}

function lookup(ctx: Ctx, node: TemplateNode, name: string): TemplateValue | undefined {
  if (!ctx.known.has(name)) {
    fail(ctx, node, `unknown placeholder "${name}"`, `Known variables: ${[...ctx.known].sort().join(', ')}.`);
  }
  return ctx.vars[name];
}

/** Substitutes placeholders inside a string scalar. `whole` allows a non-text value for an exact "{{ x }}". */
function substitute(ctx: Ctx, node: TemplateNode, s: string, whole: boolean): TemplateValue {
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
function condition(ctx: Ctx, node: TemplateNode): boolean | undefined {
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

function renderNode(ctx: Ctx, node: TemplateNode | null): unknown {
  if (node === null) return null;
  if (node.kind === 'scalar') {
    const cond = condition(ctx, node);
    if (cond === false) return DROP;
    const value = cond === true && 'untagged' in node ? node.untagged : node.value;
    return typeof value === 'string' ? substitute(ctx, node, value, true) : value;
  }
  if (node.kind === 'map') {
    if (condition(ctx, node) === false) return DROP;
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      if (pair.key?.kind !== 'scalar') {
        fail(ctx, pair.key ?? node, 'a mapping key must be plain text', 'An unquoted {{ name }} is a YAML mapping: write it in quotes, "{{ name }}".');
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
  if (node.kind === 'seq') {
    if (condition(ctx, node) === false) return DROP;
    const out: unknown[] = [];
    for (const item of node.items) {
      const cond = item === null || (item.kind === 'other' && item.pair) ? undefined : condition(ctx, item);
      const value = renderNode(ctx, item);
      if (value === DROP) continue;
      if (cond === true && item?.kind === 'seq' && Array.isArray(value)) out.push(...value);
      else out.push(value);
    }
    return out;
  }
  fail(ctx, node, 'unsupported YAML node (aliases and complex keys are not allowed)');
}

/**
 * The tree of a document the yaml library parsed. Nothing is refused here: renderNode refuses what it
 * reaches, in its order, so errors come as they did when it walked the library's nodes.
 */
function templateTree(doc: Document.Parsed, lines: LineCounter): TemplateNode | null {
  const lineOf = (node: { range?: unknown } | null | undefined): number | undefined => {
    const offset = (node?.range as [number] | undefined)?.[0];
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
  const base = (node: Node, kind: TemplateNode['kind']) => {
    const tree: TemplateNodeBase & { kind: TemplateNode['kind'] } = { kind };
    if (node.tag !== undefined) tree.tag = node.tag;
    const line = lineOf(node);
    if (line !== undefined) tree.line = line;
    return tree;
  };
  const walk = (node: unknown, key = false): TemplateNode | null => {
    if (node === null || node === undefined) return null;
    if (isScalar(node)) {
      const tree = base(node, 'scalar') as TemplateScalar;
      tree.value = node.value;
      if (key && typeof node.value !== 'string' && node.source !== undefined) tree.source = node.source;
      const source = node.source;
      if (node.tag && COND_TAG.test(node.tag) && node.type === 'PLAIN' && typeof source === 'string') {
        // read when used, as renderNode used to: only a kept scalar is read again
        Object.defineProperty(tree, 'untagged', { get: () => parse(source, YAML_OPTIONS), enumerable: true });
      }
      return tree;
    }
    if (isMap(node)) {
      const tree = base(node, 'map') as TemplateMap;
      tree.items = node.items.map((pair) => ({ key: walk(pair.key, true), value: walk(pair.value) }));
      return tree;
    }
    if (isSeq(node)) {
      const tree = base(node, 'seq') as TemplateSeq;
      tree.items = node.items.map((item) => walk(item));
      return tree;
    }
    if (isPair(node)) return { kind: 'other', pair: true }; // a pair has no position of its own
    return base(node as Node, 'other') as TemplateOther;
  };
  return walk(doc.contents);
}

/**
 * Parsed templates by text: an inventory renders the same three templates for every VM, and parsing is
 * most of a render (bench/artifacts.bench.ts). Safe to share: renderNode only reads the tree. Bounded
 * in entries and in the size of a text worth keeping; only templates that parsed are kept.
 */
const parsedTemplates = new Map<string, TemplateNode | null>();
const PARSED_TEMPLATES_MAX = 8;
const PARSED_TEMPLATE_MAX_CHARS = 64 * 1024;

/** The built-in templates' trees by their text (a user's copy of one, unchanged, is the same template). */
let builtinTrees: Map<string, TemplateNode> | undefined;

function parseTemplate(tpl: TemplateSource): TemplateNode | null {
  builtinTrees ??= new Map(Object.entries(EMBEDDED_TREES).map(([file, tree]) => [EMBEDDED_TEMPLATES[file as keyof typeof EMBEDDED_TEMPLATES], tree as TemplateNode]));
  const builtin = builtinTrees.get(tpl.text);
  if (builtin) return builtin;
  const hit = parsedTemplates.get(tpl.text);
  if (hit !== undefined) return hit;
  const parsed = parseTemplateText(tpl);
  if (tpl.text.length <= PARSED_TEMPLATE_MAX_CHARS) {
    if (parsedTemplates.size >= PARSED_TEMPLATES_MAX) parsedTemplates.delete(parsedTemplates.keys().next().value!);
    parsedTemplates.set(tpl.text, parsed);
  }
  return parsed;
}

/** Parses a template with the yaml library (test/cloudinit/embed.ts makes the built-in trees with it). */
export function parseTemplateText(tpl: TemplateSource): TemplateNode | null {
  const lines = new LineCounter();
  // uniqueKeys off: the library's check compares each key with every earlier one (quadratic: 50k keys
  // took a minute); renderNode finds duplicates with a hash lookup, after substitution, with the line
  const doc = parseDocument(tpl.text, { ...YAML_OPTIONS, lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const line = lines.linePos(err.pos[0]).line;
    throw templateNotYaml(tpl.name, line, err.message);
  }
  return templateTree(doc, lines);
}

/** Checks the user-data header cloud-init needs to treat the file as cloud-config. */
function checkHeader(tpl: TemplateSource, kind: DocumentKind): void {
  if (kind !== 'user-data') return;
  const first = tpl.text.replace(/^\uFEFF/, '').split('\n', 1)[0]!.trimEnd();
  if (first !== '#cloud-config') {
    throw templateWithoutHeader(tpl.name);
  }
}

/**
 * Serialises data for cloud-init with the yaml library: single-line text always double-quoted, multi-line
 * text as a literal block. (src/cloudinit/yaml-subset.ts writes the same text for the usual data.)
 */
export function serialiseYaml(data: unknown): string {
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

/** Reads rendered text as the read-back check does with the yaml library (cloud-init's YAML 1.1). */
export function readYaml(text: string): unknown {
  return parse(text, { ...YAML_OPTIONS, uniqueKeys: false });
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
  const tree = parseTemplate(tpl);
  const ctx: Ctx = { tpl, known: new Set(known ?? Object.keys(vars)), vars };
  const data = renderNode(ctx, tree);
  if (data === DROP || data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw templateNotMapping(tpl.name, kind);
  }
  // the usual data without the library (the same text: src/cloudinit/yaml-subset.ts), the rest with it
  const body = writeYamlSubset(data) ?? serialiseYaml(data);
  const out = kind === 'user-data' ? `#cloud-config\n${body}` : body;
  // Belt and braces: what cloud-init will read back must be exactly the data we meant (read as the
  // library reads it: readYamlSubset only takes text it reads the same, the library the rest).
  const back = readYamlSubset(out) ?? readYaml(out);
  if (!isDeepStrictEqual(back, data)) {
    throw renderedDiffers(tpl.name, kind);
  }
  return out;
}
