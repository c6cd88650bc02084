/**
 * Many VMs in one call: each VM's kubeconfig fetched and written on its own, at most `jobs` at a time.
 * A failure is that VM's result; the others go on and keep their files.
 */
import { toQksError, type QksError } from '../errors.js';
import { getKubeconfig, type GetKubeconfigDeps, type KubeconfigResult } from './get.js';
import type { KubeconfigOptions } from './options.js';

export type BatchItem = { vm: string; ok: true; result: KubeconfigResult } | { vm: string; ok: false; error: QksError };

/** Runs `fn` over `items` with at most `jobs` in flight; calls `onDone` as each finishes; keeps input order in the result. */
export async function mapBounded<T, R>(items: readonly T[], jobs: number, fn: (item: T) => Promise<R>, onDone?: (r: R) => void): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
      onDone?.(out[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  return out;
}

/** Fetches every VM of `o.vmNames` with `o.jobs` concurrency. Never throws for one VM's failure. */
export function getKubeconfigs(o: KubeconfigOptions, deps: GetKubeconfigDeps, onDone?: (item: BatchItem) => void): Promise<BatchItem[]> {
  return mapBounded(
    o.vmNames,
    o.jobs,
    async (vm): Promise<BatchItem> => {
      try {
        return { vm, ok: true, result: await getKubeconfig(o, vm, deps) };
      } catch (e) {
        return { vm, ok: false, error: toQksError(e) };
      }
    },
    onDone,
  );
}
