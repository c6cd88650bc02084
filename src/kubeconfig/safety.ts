/**
 * A kubeconfig fetched from a guest is untrusted input: the guest is less trusted than the
 * host that runs kubectl. This pure check finds everything in it that would make kubectl run a program,
 * read or reach something on this host, or drop TLS, and names each by its path
 * (`users[0].user.exec`). Kubesolo itself writes embedded data only (certificate-authority-data,
 * client-certificate-data, client-key-data, a token): nothing of it is refused.
 *
 * Keys are compared case-insensitively: a decoder that folds case must not see a key this check missed.
 */
import { QksError } from '../errors.js';
import { serverUrlProblem } from './rewrite.js';

export interface UnsafeFinding {
  /** Where, as kubectl users read it: `users[0].user.exec`. */
  path: string;
  /** The key itself: `exec`. */
  key: string;
  /** The name of the entry it is in, when it has one. */
  entry?: string;
  /** What it would make kubectl do. */
  reason: string;
}

const RUNS = 'makes kubectl run a program on this host';
const READS = 'makes kubectl read a file on this host';

/** Keys refused inside a `clusters[].cluster`. */
const CLUSTER_KEYS: Record<string, string> = {
  'certificate-authority': READS,
  'insecure-skip-tls-verify': 'turns off the verification of the API server certificate',
  'proxy-url': 'sends every request through a proxy the guest chose',
};

/** Keys refused inside a `users[].user`. */
const USER_KEYS: Record<string, string> = {
  exec: RUNS,
  'auth-provider': 'runs an auth-provider plugin (gcp, oidc...), which may run a program or reach other hosts',
  'client-certificate': READS,
  'client-key': READS,
  tokenfile: READS,
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isMap = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** A key that is present with a value kubectl would act on (null, '' and false are no-ops to it). */
const active = (v: unknown): boolean => v !== undefined && v !== null && v !== '' && v !== false;

/** Every `extensions` key and YAML merge key (`<<`, which Go's YAML reader merges and ours keeps) anywhere. */
function walk(v: unknown, path: string, out: UnsafeFinding[], depth = 0): void {
  if (depth > 64) return; // the schema parser bounds aliases; nesting this deep is no kubeconfig anyway
  if (Array.isArray(v)) {
    v.forEach((x, i) => walk(x, `${path}[${i}]`, out, depth + 1));
    return;
  }
  if (!isMap(v)) return;
  for (const [k, x] of Object.entries(v)) {
    const here = path ? `${path}.${k}` : k;
    const lk = k.toLowerCase();
    if (lk === 'extensions' && active(x) && !(Array.isArray(x) && x.length === 0)) {
      out.push({ path: here, key: k, reason: 'carries extensions, data for plugins that kubectl hands on' });
    } else if (k === '<<') {
      out.push({ path: here, key: k, reason: 'is a YAML merge key: Go readers merge it and others do not, so what kubectl sees could differ from what was checked' });
    }
    walk(x, here, out, depth + 1);
  }
}

function keysIn(body: unknown, path: string, entry: string | undefined, refused: Record<string, string>, out: UnsafeFinding[]): void {
  if (!isMap(body)) return;
  for (const [k, v] of Object.entries(body)) {
    const reason = refused[k.toLowerCase()];
    if (reason && active(v)) out.push({ path: `${path}.${k}`, key: k, ...(entry !== undefined ? { entry } : {}), reason });
  }
}

/** Everything in the kubeconfig (its parsed JS value) that a guest must not decide for this host. Pure. */
export function findUnsafe(config: unknown): UnsafeFinding[] {
  const out: UnsafeFinding[] = [];
  if (!isMap(config)) return out;
  const named = (list: unknown) =>
    Array.isArray(list) ? list.map((item: unknown, index) => ({ index, item, name: isMap(item) && typeof item.name === 'string' ? item.name : undefined })) : [];
  for (const { index, item, name } of named(config.clusters)) {
    const body = isMap(item) ? item.cluster : undefined;
    const path = `clusters[${index}].cluster`;
    keysIn(body, path, name, CLUSTER_KEYS, out);
    if (isMap(body) && typeof body.server === 'string') {
      const problem = serverUrlProblem(body.server);
      if (problem) out.push({ path: `${path}.server`, key: 'server', ...(name !== undefined ? { entry: name } : {}), reason: `the server URL ${problem}` });
    }
  }
  for (const { index, item, name } of named(config.users)) keysIn(isMap(item) ? item.user : undefined, `users[${index}].user`, name, USER_KEYS, out);
  walk(config, '', out);
  return out;
}

/** One line per finding, e.g. `users[0].user.exec (user "admin"): makes kubectl run a program on this host`. */
export function describeFinding(f: UnsafeFinding): string {
  const kind = f.path.startsWith('users') ? 'user' : f.path.startsWith('clusters') ? 'cluster' : 'entry';
  return `${f.path}${f.entry !== undefined ? ` (${kind} ${JSON.stringify(f.entry)})` : ''}: ${f.reason}`;
}

/** The refusal: KUBECONFIG_UNSAFE naming the first key and counting the rest; every path in `details`. */
export function unsafeError(findings: readonly UnsafeFinding[]): QksError {
  const first = findings[0]!;
  const more = findings.length > 1 ? ` (and ${findings.length - 1} more: ${findings.slice(1).map((f) => f.path).join(', ')})` : '';
  return new QksError('KUBECONFIG_UNSAFE', `the retrieved kubeconfig is refused: ${describeFinding(first)}${more}`, {
    hint: 'Kubesolo writes embedded certificates and tokens only: this file was changed in the guest. Nothing was written. ' +
      'If you trust it, --allow-unsafe-kubeconfig writes it anyway.',
    details: { findings: findings.map((f) => ({ path: f.path, key: f.key, reason: f.reason, ...(f.entry !== undefined ? { entry: f.entry } : {}) })) },
  });
}

/**
 * The rule, applied where the bytes become a kubeconfig: throws KUBECONFIG_UNSAFE, or with `allow`
 * returns the findings for the caller to warn about.
 */
export function vetKubeconfig(config: unknown, opts: { allow: boolean }): UnsafeFinding[] {
  const findings = findUnsafe(config);
  if (findings.length && !opts.allow) throw unsafeError(findings);
  return findings;
}
