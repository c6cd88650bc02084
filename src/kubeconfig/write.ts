/**
 * Where the kubeconfig goes and how: atomically (temp file + fsync + rename in the same directory), mode
 * 0600, missing parent directories 0700. The content never reaches a log.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../files/atomic.js';

/** Directory for kubeconfigs when neither --output nor --output-dir is given: `~/.kube`, as the guide's example. */
export function defaultOutputDir(env: NodeJS.ProcessEnv): string {
  return join(env.HOME || homedir(), '.kube');
}

/** `~` and `~/x` as a shell would expand them (make and env files pass them literally). */
export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path === '~') return env.HOME || homedir();
  if (path.startsWith('~/')) return join(env.HOME || homedir(), path.slice(2));
  return path;
}

/** The file for one VM inside an output directory: `<dir>/<vm-name>` (the guide writes ~/.kube/kubesolo). */
export function outputPathFor(dir: string, vmName: string, cwd = process.cwd()): string {
  const d = isAbsolute(dir) ? dir : resolve(cwd, dir);
  return join(d, vmName);
}

/** The file --merge writes: FILE, else $KUBECONFIG's first entry (a ':' list), else ~/.kube/config. */
export function mergeTarget(file: string | true | undefined, env: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  const chosen = typeof file === 'string' && file !== '' ? file : env.KUBECONFIG?.split(':').find(Boolean);
  return resolve(cwd, expandHome(chosen ?? join(defaultOutputDir(env), 'config'), env));
}

/** Writes the kubeconfig; returns the bytes written. */
export async function writeKubeconfig(path: string, text: string, options: { blocking?: boolean } = {}): Promise<number> {
  const data = Buffer.from(text, 'utf8');
  await writeFileAtomic(path, data, { mode: 0o600, dirMode: 0o700, blocking: !!options.blocking });
  return data.byteLength;
}
