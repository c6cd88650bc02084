/**
 * The kubeconfig through the yaml library: what ./block-yaml.ts leaves to it (flow style, anchors,
 * block scalars...), the re-serialisation a splice cannot prove, and the synchronous entry points the
 * library exports (parseKubeconfig, applyClusterEdits, rewriteKubeconfigServer). The CLI reaches this
 * module only through ./document.ts's dynamic import, so a plain kubeconfig never loads yaml.
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isPair, isScalar, isSeq, parseDocument, Scalar, type Node } from 'yaml';
import { kubeconfigInvalid, rewriteNotProven } from './errors.js';
import { readBlockYaml, type BlockDocument, type BlockNode, type BlockPair } from './block-yaml.js';
import { expectedJs, serverEdits, spliceClusterEdits, type ApiAddress, type ClusterEdit } from './rewrite.js';
import { checkedKubeconfig, kubeconfigText, MAX_KUBECONFIG_BYTES, type ParsedKubeconfig } from './schema.js';

const PARSE = { prettyErrors: false, uniqueKeys: true, keepSourceTokens: false } as const;

/** yaml's nodes as the splice sees them: ranges and styles kept, anything else (aliases, odd keys) 'other'. */
function treeOf(node: Node | null | undefined): BlockNode {
  if (isScalar(node) && node.range) {
    const style = node.type === Scalar.QUOTE_DOUBLE ? 'double' : node.type === Scalar.QUOTE_SINGLE ? 'single' : node.type === Scalar.PLAIN ? 'plain' : 'block';
    return { kind: 'scalar', value: node.value, style, range: [node.range[0], node.range[1]] };
  }
  if (isSeq(node)) return { kind: 'seq', flow: !!node.flow, items: node.items.map((n) => treeOf(n as Node)) };
  if (isMap(node)) {
    const items: BlockPair[] = [];
    for (const p of node.items) {
      if (!isPair(p) || !isScalar(p.key) || typeof p.key.value !== 'string' || !p.key.range) return { kind: 'other' };
      items.push({ key: p.key.value, keyStart: p.key.range[0], value: treeOf(p.value as Node) });
    }
    return { kind: 'map', flow: !!node.flow, items };
  }
  return { kind: 'other' };
}

/** `text` read by the yaml library, or KUBECONFIG_INVALID (position and reason, never the source line: it holds keys). */
export function readYamlDocument(text: string): BlockDocument {
  const doc = parseDocument(text, PARSE);
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const at = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw kubeconfigInvalid(`is not valid YAML${at}: ${e.message.split('\n')[0]}`);
  }
  try {
    return { js: doc.toJS({ maxAliasCount: 100 }), tree: treeOf(doc.contents) };
  } catch (e) {
    throw kubeconfigInvalid(`cannot be read as YAML: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** The document's values, by the block reader where it can, else by yaml; undefined when it is no valid YAML. */
function reread(text: string): unknown {
  const quick = readBlockYaml(text);
  if (quick) return quick.js;
  const d = parseDocument(text, PARSE);
  return d.errors.length ? undefined : d.toJS();
}

/** Parses untrusted bytes as a kubeconfig (YAML or JSON). Throws KUBECONFIG_INVALID naming what is wrong. */
export function parseKubeconfig(data: string | Uint8Array, maxBytes = MAX_KUBECONFIG_BYTES): ParsedKubeconfig {
  const text = kubeconfigText(data, maxBytes);
  return checkedKubeconfig(text, readBlockYaml(text) ?? readYamlDocument(text));
}

/**
 * Applies `edits` to the kubeconfig text. Returns the new text, proven by a re-parse to be exactly the
 * original document with those values set: spliced where it can be, else re-serialised.
 */
export function applyClusterEdits(parsed: ParsedKubeconfig, edits: ClusterEdit[]): string {
  const spliced = spliceClusterEdits(parsed, edits, reread);
  if (spliced !== undefined) return spliced;
  const doc = parseDocument(parsed.text, PARSE);
  for (const e of edits) doc.setIn(['clusters', e.index, 'cluster', e.key], e.value);
  const out = doc.toString({ lineWidth: 0 });
  if (isDeepStrictEqual(reread(out), expectedJs(parsed.js, edits))) return out;
  throw rewriteNotProven();
}

/** Convenience: parse, rewrite every server, return the new text. */
export function rewriteKubeconfigServer(text: string, address: ApiAddress): string {
  const parsed = parseKubeconfig(text);
  return applyClusterEdits(parsed, serverEdits(parsed, address).edits);
}
