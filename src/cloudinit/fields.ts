/**
 * Field rules for the artifacts configuration: each one checks one kind of value (hostname, username,
 * address...) and says in its message what a good value looks like. Plain parsers with zod's semantics
 * (a failed check is reported and the next one runs, unless it stops: `stop`; a stopping failure also
 * keeps the configuration's cross-field checks from running), so that the artifacts verb loads no zod
 * (bench/startup.md). ./fields-zod.ts builds the same rules as zod schemas; config.test.ts compares them.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { checkPasswordHash } from './password.js';
import { parseSshPublicKey } from './ssh-key.js';
import type { Parsed } from '../options/table.js';

export type FieldParser<T> = (value: unknown) => Parsed<T>;

/** Newlines, C0/C1 control characters and Unicode line separators: none may reach a YAML document or a shell line. */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export const NO_CONTROL = 'must not contain newlines or control characters';

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const stopped = (message: string): Parsed<never> => ({ ok: false, message, stop: true });

/** zod's name for a value's type in "expected string, received X". */
const received = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isNaN(v) ? 'NaN' : typeof v);
const notA = (type: string, v: unknown) => stopped(`Invalid input: expected ${type}, received ${received(v)}`);

/** A check: its test, its message, and whether a failure stops the checks after it (zod's `abort`). */
export type Check = readonly [test: (s: string) => boolean, message: string, stop?: boolean];

/** A string without control characters (every text field starts here), then `checks` in order. */
export const text =
  (...checks: readonly Check[]): FieldParser<string> =>
  (v) => {
    if (typeof v !== 'string') return notA('string', v);
    if (CONTROL_CHARS.test(v)) return stopped(NO_CONTROL);
    const failed: string[] = [];
    for (const [test, message, stop] of checks) {
      if (test(v)) continue;
      failed.push(message);
      if (stop) return { ok: false, message: failed, stop: true };
    }
    return failed.length ? { ok: false, message: failed } : ok(v);
  };

/** A text field whose one check says itself why it failed. */
const textWhy =
  (f: (s: string) => string | undefined): FieldParser<string> =>
  (v) => {
    const r = text()(v);
    if (!r.ok) return r;
    const m = f(r.value);
    return m === undefined ? r : { ok: false, message: [m] };
  };

export const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const HOSTNAME_MESSAGE =
  'must be an RFC 1123 label: 1-63 characters of a-z, 0-9 and "-", not starting or ending with "-" (Kubesolo refuses upper case)';
export const hostnameField = text([(s) => LABEL.test(s), HOSTNAME_MESSAGE]);

/** System accounts of Alpine and common distributions that a login user must not take over. */
export const RESERVED_USERNAMES = new Set([
  'root', 'bin', 'daemon', 'adm', 'lp', 'sync', 'shutdown', 'halt', 'mail', 'news', 'uucp', 'operator', 'man',
  'postmaster', 'cron', 'ftp', 'sshd', 'at', 'squid', 'xfs', 'games', 'cyrus', 'vpopmail', 'ntp', 'smmsp',
  'guest', 'nobody', 'nogroup', 'wheel', 'qemu', 'kvm', 'chrony', 'messagebus', 'polkitd', 'sys', 'tty',
  'disk', 'kmem', 'audio', 'video', 'input', 'netdev', 'users', 'utmp', 'shadow', 'abuild', 'klogd', 'dhcp',
]);

export const USERNAME_CHECKS: readonly Check[] = [
  [(s) => /^[a-z_][a-z0-9_-]{0,31}$/.test(s), 'must be a Linux user name: 1-32 characters of a-z, 0-9, "_" and "-", starting with a letter or "_"', true],
  [(s) => !RESERVED_USERNAMES.has(s), 'is a reserved system account; choose another name (e.g. alpine)'],
];
export const usernameField = text(...USERNAME_CHECKS);

export const PASSWORD_CHECKS: readonly Check[] = [
  [(s) => s.length >= 1, 'must not be empty'],
  [(s) => s.length <= 1024, 'is longer than 1024 characters'],
];
export const passwordField = text(...PASSWORD_CHECKS);

export const passwordHashField = textWhy(checkPasswordHash);

/** One public key line, normalised (single spaces). */
export const sshKeyField: FieldParser<string> = (v) => {
  if (typeof v !== 'string') return notA('string', v);
  const k = parseSshPublicKey(v);
  if (typeof k === 'string') return stopped(k);
  if (CONTROL_CHARS.test(k.line)) return stopped(NO_CONTROL);
  return ok(k.line);
};

export const VERSION_CHECK: Check = [(s) => /^v\d{1,4}\.\d{1,4}\.\d{1,4}$/.test(s), 'must look like vX.Y.Z (a Kubesolo release tag, e.g. v1.1.7)'];
export const versionField = text(VERSION_CHECK);

export const ARCHES = ['amd64', 'arm64'] as const;
export const ARCH_MESSAGE = 'must be amd64 or arm64';
export const archField: FieldParser<(typeof ARCHES)[number]> = (v) =>
  (ARCHES as readonly unknown[]).includes(v) ? ok(v as (typeof ARCHES)[number]) : stopped(ARCH_MESSAGE);

export const INSTANCE_ID_CHECK: Check = [
  (s) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(s),
  'must be 1-128 characters of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or digit',
];
export const instanceIdField = text(INSTANCE_ID_CHECK);

export const IP_CHECK: Check = [(s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address'];
export const ipField = text(IP_CHECK);

export const CIDR_CHECK: Check = [
  (s) => {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
    if (!m) return false;
    const bits = Number(m[2]);
    return (isIPv4(m[1]!) && bits >= 1 && bits <= 32) || (isIPv6(m[1]!) && bits >= 1 && bits <= 128);
  },
  'must be an address with a prefix length, e.g. 192.168.122.50/24 or fd00::5/64',
];
export const cidrField = text(CIDR_CHECK);

/** A DNS name: labels of letters, digits and "-", at most 253 characters, not all-numeric at the end. */
export function isDnsName(s: string): boolean {
  if (s.length > 253) return false;
  const labels = s.split('.');
  if (!labels.every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1]!);
}

/**
 * Why Kubesolo cannot put an IPv6 address into its API certificate: its --apiserver-extra-sans keeps
 * IPv4 addresses and DNS names and skips anything else with a log line (internal/core/pki/options.go),
 * so the kubeconfig's server would fail TLS verification.
 */
export const IPV6_SAN_REASON =
  "Kubesolo's --apiserver-extra-sans keeps only IPv4 addresses and DNS names (it skips IPv6 ones with a log line), so its certificate would not name it: give an IPv4 address or a DNS name that resolves to the IPv6 one";

export const API_ADDRESS_CHECKS: readonly Check[] = [
  [(s) => !s.includes('%'), `has a zone id (%...): a link-local address cannot be a certificate name. ${IPV6_SAN_REASON}`, true],
  [(s) => isIP(s) !== 6, `is an IPv6 address. ${IPV6_SAN_REASON}`, true],
  [(s) => isIP(s) !== 0 || isDnsName(s), 'must be an IPv4 address or a DNS name (no scheme, port or path), e.g. 203.0.113.10 or k8s.example.com'],
];
export const apiAddressField = text(...API_ADDRESS_CHECKS);

/** Characters a URL may hold that stay inert inside a double-quoted shell word (no $, `, ", \, blanks). */
const SHELL_SAFE_URL = /^[A-Za-z0-9._~:/?#[\]@!&'()*+,;=%-]+$/;

function urlProblem(s: string, what: string, allowPath: boolean): string | undefined {
  if (!SHELL_SAFE_URL.test(s)) return `must be a URL without blanks, quotes, "$", "\\" or backquotes`;
  if (allowPath && s.startsWith('/')) return undefined;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return `must be an http://, https:// or file:// URL${allowPath ? ' or an absolute path' : ''} (${what})`;
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') return u.hostname ? undefined : 'has no host';
  if (u.protocol === 'file:') {
    if (u.hostname && u.hostname !== 'localhost') return 'file:// URLs name a path in the VM: write file:///path (no host)';
    return u.pathname.length > 1 ? undefined : 'file:// needs the absolute path of the file in the VM, e.g. file:///opt/kubesolo.tar.gz';
  }
  return `must be an http://, https:// or file:// URL, not ${u.protocol}// (${what})`;
}

/** --kubesolo-url: where the VM fetches Kubesolo's release tarball (a mirror, or a file the image holds). */
export const kubesoloUrlProblem = (s: string) => urlProblem(s, 'the kubesolo-<version>-linux-<arch>-musl.tar.gz tarball', false);
export const kubesoloUrlField = textWhy(kubesoloUrlProblem);

/** --apk-repository: one line of /etc/apk/repositories (a mirror's URL, or a local repository's path). */
export const apkRepositoryProblem = (s: string) => urlProblem(s, 'e.g. https://mirror.example.com/alpine/v3.22/main', true);
export const apkRepositoryField = textWhy(apkRepositoryProblem);

/**
 * KUBECONFIG_API_ADDRESS is shared with the kubeconfig verb, which takes `https://host:port` forms;
 * a certificate SAN is the host alone, so the variable's entries are cut down to it.
 */
export function hostOfApiAddress(raw: string): string {
  const s = raw.trim().replace(/^https:\/\//i, '').replace(/\/$/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) return bracketed[1]!;
  return isIP(s) === 6 ? s : s.replace(/:\d+$/, '');
}

export const INTERFACE_CHECK: Check = [
  (s) => /^[A-Za-z0-9_.-]{1,15}$/.test(s),
  'must be a Linux interface name (1-15 characters of A-Z, a-z, 0-9, "_", "." and "-"), e.g. eth0',
];
export const interfaceField = text(INTERFACE_CHECK);

export const PATH_CHECK: Check = [(s) => s.length >= 1, 'must not be empty'];
export const pathField = text(PATH_CHECK);

/** Booleans from the environment: true/false, 1/0, yes/no, on/off. Anything else stays a string and fails. */
export function parseBool(s: string): boolean | string {
  const v = s.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  return s;
}

export const BOOL_MESSAGE = 'must be true or false';
export const boolField: FieldParser<boolean> = (v) => (typeof v === 'boolean' ? ok(v) : stopped(BOOL_MESSAGE));

/** undefined passes (zod's `.optional()`). */
export const optionalField =
  <T>(p: FieldParser<T>): FieldParser<T | undefined> =>
  (v) =>
    v === undefined ? ok(undefined) : p(v);

/** zod's array(item): an item's failures carry its index; one stopping failure stops the whole. */
export const listField =
  <T>(item: FieldParser<T>): FieldParser<T[]> =>
  (v) => {
    if (!Array.isArray(v)) return notA('array', v);
    const out: T[] = [];
    const issues: { path: number[]; message: string }[] = [];
    let stop = false;
    v.forEach((x, i) => {
      const r = item(x);
      if (r.ok) return void out.push(r.value);
      if (r.stop) stop = true;
      for (const message of typeof r.message === 'string' ? [r.message] : r.message) issues.push({ path: [i], message });
    });
    return issues.length ? { ok: false, message: issues.map((i) => i.message), issues, ...(stop ? { stop } : {}) } : ok(out);
  };
