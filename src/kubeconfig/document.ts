/**
 * Reading and editing a kubeconfig on the CLI's path: the block reader (./block-yaml.ts) first, the
 * yaml library (./yaml-library.ts, imported on demand) for what it leaves. Kubesolo's, k3s's and
 * kubectl's own files never need the library, and its ~20 ms of loading (bench/startup.md).
 */
import { readBlockYaml } from './block-yaml.js';
import { spliceClusterEdits, type ClusterEdit } from './rewrite.js';
import { checkedKubeconfig, kubeconfigText, MAX_KUBECONFIG_BYTES, type ParsedKubeconfig } from './schema.js';

/** Parses untrusted bytes as a kubeconfig (YAML or JSON). Rejects with KUBECONFIG_INVALID naming what is wrong. */
export async function readKubeconfig(data: string | Uint8Array, maxBytes = MAX_KUBECONFIG_BYTES): Promise<ParsedKubeconfig> {
  const text = kubeconfigText(data, maxBytes);
  return checkedKubeconfig(text, readBlockYaml(text) ?? (await import('./yaml-library.js')).readYamlDocument(text));
}

/** `edits` applied to the kubeconfig text, proven by a re-read to change nothing else (./yaml-library.ts applyClusterEdits). */
export async function editKubeconfig(parsed: ParsedKubeconfig, edits: ClusterEdit[]): Promise<string> {
  return spliceClusterEdits(parsed, edits, (text) => readBlockYaml(text)?.js) ?? (await import('./yaml-library.js')).applyClusterEdits(parsed, edits);
}
