/**
 * Structural edits of a kubeconfig: each cluster's `server` (scheme, port and path kept; IPv6 in
 * brackets; hostnames too) and `tls-server-name`. The parse's source ranges locate the values; the new
 * text is spliced into the original at those positions, so every other byte of the file stays as
 * Kubesolo wrote it. Each result is re-parsed and compared with the intended document; where a splice
 * cannot be proven right (flow style, block scalars...), ./yaml-library.ts re-serialises instead.
 *
 * Pure: strings in, strings out.
 */
import { isIPv6 } from 'node:net';
import type { BlockMap, BlockNode } from './block-yaml.js';
import { kubeconfigInvalid } from './errors.js';
import type { ParsedKubeconfig } from './schema.js';

/** An address clients use to reach the API server, as given to --api-server. */
export interface ApiAddress {
  /** Host name or IP, without brackets. */
  host: string;
  /** When given, replaces the kubeconfig's port; otherwise the port stays. */
  port?: number;
}

const DNS_NAME = /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** True for an IPv4/IPv6 address or an RFC 1123 DNS name. */
export function isValidHost(host: string): boolean {
  return isIpAddress(host) || (DNS_NAME.test(host) && !/^\d+(\.\d+)*$/.test(host));
}

const GENERIC_ADDRESS = 'is not an IP address or DNS name (optionally with :PORT, IPv6 as [addr]:PORT)';

/**
 * Reads --api-server: `10.0.0.50`, `10.0.0.50:7443`, `k8s.example.com`, `2001:db8::5`, `[2001:db8::5]:7443`,
 * or `https://host[:port]`. Returns the address, or why it is refused (the caller names the option).
 */
export function readApiAddress(raw: string): ApiAddress | { problem: string } {
  let s = raw.trim();
  // (string tests before the patterns: a start's first regular expressions cost it ~0.5 ms, bench/startup.md round 9)
  if (s.slice(0, 8).toLowerCase() === 'https://') s = s.endsWith('/') ? s.slice(8, -1) : s.slice(8);
  else if (splitUrl(s)) return { problem: 'is not https://: the API server speaks TLS only' };
  if (s.includes('@')) return { problem: 'has a user part (user@): give only HOST[:PORT]' };
  // a zone names an interface of this host: meaningless to other hosts, and kubectl rejects it
  if (s.includes('%')) return { problem: 'has an IPv6 zone id (%...): a zone names one host\'s interface, means nothing to other hosts, and kubectl rejects it; give a global or unique-local address' };
  let host: string;
  let portText: string | undefined;
  const bracketed = s[0] === '[' ? /^\[([^\]]+)\](?::(\d+))?$/.exec(s) : null;
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
    if (!isIpv6Address(host)) return { problem: GENERIC_ADDRESS };
  } else if (isIpv6Address(s)) {
    host = s;
  } else {
    const m = /^([^:/?#@\s]+)(?::(\d+))?$/.exec(s);
    if (!m) return { problem: GENERIC_ADDRESS };
    host = m[1]!;
    portText = m[2];
  }
  if (!isValidHost(host)) return { problem: GENERIC_ADDRESS };
  if (portText === undefined) return { host };
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { problem: 'has a port outside 1-65535' };
  return { host, port };
}

/** readApiAddress without the reason: the address, or undefined. */
export function parseApiAddress(raw: string): ApiAddress | undefined {
  const r = readApiAddress(raw);
  return 'problem' in r ? undefined : r;
}

/**
 * IPv6 has at least two colons ("::"): the test skips Node's isIPv6 for IPv4, names and host:port,
 * since its first call compiles a large regex (4-11 ms of a start, bench/startup.md).
 */
export function isIpv6Address(s: string): boolean {
  return s.indexOf(':') !== s.lastIndexOf(':') && isIPv6(s);
}

/**
 * net.isIPv4 without its pattern (its first call compiles it: ~0.2 ms of a start, bench/startup.md round 9):
 * four decimal parts 0-255, no leading zeros.
 */
export function isIpv4Address(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => p.length >= 1 && p.length <= 3 && (p === '0' || p[0] !== '0') && [...p].every((c) => c >= '0' && c <= '9') && Number(p) <= 255);
}

/** net.isIP(s) !== 0, with the same shortcut for IPv6. */
export function isIpAddress(s: string): boolean {
  return isIpv4Address(s) || isIpv6Address(s);
}

/** `host` as it appears in a URL authority: IPv6 in brackets. */
export function hostForUrl(host: string): string {
  return isIpv6Address(host) ? `[${host}]` : host;
}

export interface ServerUrl {
  /** `https://` (others only where --allow-unsafe-kubeconfig let them through). */
  scheme: string;
  /** `user:password@` as written, or '' (only with --allow-unsafe-kubeconfig). */
  userinfo: string;
  /** Host without brackets. */
  host: string;
  /** The port as written ('' when none). */
  port: string;
  /** Path, query and fragment ('' when none was written). */
  rest: string;
}

/**
 * `scheme://authority rest` as /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is splits it, without the pattern
 * (see isIpv4Address): the authority ends at the first `/`, `?` or `#`. Undefined: no `scheme://` first.
 */
export function splitUrl(s: string): { scheme: string; authority: string; rest: string } | undefined {
  const colon = s.indexOf('://');
  if (colon < 1) return undefined;
  const schemeOk = [...s.slice(0, colon)].every((c, i) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && ((c >= '0' && c <= '9') || c === '+' || c === '.' || c === '-')));
  if (!schemeOk) return undefined;
  let end = colon + 3;
  while (end < s.length && s[end] !== '/' && s[end] !== '?' && s[end] !== '#') end++;
  return { scheme: s.slice(0, colon + 3), authority: s.slice(colon + 3, end), rest: s.slice(end) };
}

/**
 * Parses a cluster's `server` as a URL (WHATWG, as browsers and Node do), so a user part, an IPv6 host
 * or an odd scheme is read as what it is rather than split by a pattern (a pattern once read
 * `https://user:pass@127.0.0.1:6443` as `127.0.0.1//user:pass@...`). Undefined when it is no
 * URL with a host.
 */
export function parseServerUrl(server: string): ServerUrl | undefined {
  const s = server.trim();
  const m = splitUrl(s);
  if (!m) return undefined;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return undefined;
  }
  if (!u.hostname) return undefined;
  const userinfo = u.username || u.password ? `${u.username}${u.password ? `:${u.password}` : ''}@` : '';
  // URL normalises an empty path to "/": keep the text's own (none, usually)
  const rest = m.rest === '' ? '' : `${u.pathname}${u.search}${u.hash}`;
  // URL drops a port equal to the scheme's default; keep it as written
  const port = u.port || (/:(\d+)$/.exec(m.authority)?.[1] ?? '');
  let host = u.hostname;
  if (host.startsWith('[')) host = host.slice(1);
  if (host.endsWith(']')) host = host.slice(0, -1);
  return { scheme: `${u.protocol}//`, userinfo, host, port, rest };
}

/**
 * Why a cluster `server` is not `https://HOST[:PORT]` (a path is kept), or undefined when it is.
 * Each reason says what the URL would make kubectl do.
 */
export function serverUrlProblem(server: string): string | undefined {
  const s = server.trim();
  if (!splitUrl(s)) return 'has no scheme: write https://HOST[:PORT]';
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return 'is not a valid URL';
  }
  switch (u.protocol) {
    case 'https:':
      break;
    case 'http:':
      return 'is http://: kubectl would send its credentials in clear text (Kubesolo serves https only)';
    case 'file:':
      return 'is a file:// URL: it points kubectl at a file on this host';
    case 'unix:':
      return 'is a unix:// URL: it points kubectl at a socket on this host';
    default:
      return `has the scheme ${u.protocol}//, not https://`;
  }
  if (u.username || u.password) return 'has a user part (user:password@): Kubesolo writes none, and credentials in a URL end up in logs';
  if (!u.hostname) return 'has no host';
  if (u.search || u.hash) return 'has a query or fragment, which no API server URL needs';
  return undefined;
}

export function formatServerUrl(u: ServerUrl): string {
  return `${u.scheme}${u.userinfo}${hostForUrl(u.host)}${u.port ? `:${u.port}` : ''}${u.rest}`;
}

/** The server URL with its host (and port, when the address names one) replaced. */
export function rewriteServerUrl(server: string, address: ApiAddress): string {
  const u = parseServerUrl(server);
  if (!u) {
    throw kubeconfigInvalid('has a cluster server that is not a URL', { details: { problem: serverUrlProblem(server) } });
  }
  return formatServerUrl({ ...u, host: address.host, port: address.port !== undefined ? String(address.port) : u.port });
}

/** The port a client dials for a server URL (443 when none is written). */
export function serverPort(u: ServerUrl): number {
  return u.port ? Number(u.port) : 443;
}

/** True for addresses only a process inside the VM can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || (isIpv4Address(h) && h.startsWith('127.'));
}

/** One edit: set `clusters[index].cluster[key]` to `value`. */
export interface ClusterEdit {
  index: number;
  key: 'server' | 'tls-server-name';
  value: string;
}

/** Plain scalars we may write unquoted in block context; anything else is written as a JSON string. */
const PLAIN_SAFE = /^[A-Za-z0-9][A-Za-z0-9._~/:%[\]@+-]*$/;

function scalarText(value: string, plainOk: boolean): string {
  return plainOk && PLAIN_SAFE.test(value) && !value.endsWith(':') ? value : JSON.stringify(value);
}

type Splice = { at: number; end: number; text: string };

/** `clusters[index].cluster` of the tree, when it is a mapping. */
function clusterMap(tree: BlockNode, index: number): BlockMap | undefined {
  const get = (n: BlockNode | undefined, key: string) => (n?.kind === 'map' ? n.items.find((p) => p.key === key)?.value : undefined);
  const clusters = get(tree, 'clusters');
  const cluster = get(clusters?.kind === 'seq' ? clusters.items[index] : undefined, 'cluster');
  return cluster?.kind === 'map' ? cluster : undefined;
}

/** Where to splice one edit into the source, or undefined when only a re-serialisation will do. */
function spliceFor(text: string, tree: BlockNode, edit: ClusterEdit): Splice | undefined {
  const map = clusterMap(tree, edit.index);
  if (!map || map.flow) return undefined;
  const pair = map.items.find((p) => p.key === edit.key);
  if (pair) {
    const v = pair.value;
    if (v.kind !== 'scalar' || v.style === 'block') return undefined;
    return { at: v.range[0], end: v.range[1], text: scalarText(edit.value, v.style === 'plain') };
  }
  // a missing key: a new line after the `server:` line, indented like it
  const server = map.items.find((p) => p.key === 'server');
  if (!server || server.value.kind !== 'scalar') return undefined;
  const lineStart = text.lastIndexOf('\n', server.keyStart - 1) + 1;
  const indent = text.slice(lineStart, server.keyStart);
  if (!/^ *$/.test(indent)) return undefined;
  const eol = text.indexOf('\n', server.value.range[1]);
  const line = `${indent}${edit.key}: ${scalarText(edit.value, true)}`;
  return eol === -1 ? { at: text.length, end: text.length, text: `\n${line}\n` } : { at: eol + 1, end: eol + 1, text: `${line}\n` };
}

/** The document's values with `edits` applied: what a rewritten text must read back as. */
export function expectedJs(original: unknown, edits: ClusterEdit[]): unknown {
  const js = structuredClone(original) as { clusters: { cluster: Record<string, unknown> }[] };
  for (const e of edits) js.clusters[e.index]!.cluster[e.key] = e.value;
  return js;
}

/**
 * `edits` spliced into the kubeconfig text, proven by `reread` (text to values, undefined for no YAML)
 * to be exactly the original document with those values set; undefined when the splice does not apply
 * or is not proven (./yaml-library.ts then re-serialises).
 */
export function spliceClusterEdits(parsed: ParsedKubeconfig, edits: ClusterEdit[], reread: (text: string) => unknown): string | undefined {
  if (!edits.length) return parsed.text;
  const splices = edits.map((e) => spliceFor(parsed.text, parsed.tree, e));
  if (!splices.every((s): s is Splice => s !== undefined)) return undefined;
  let out = parsed.text;
  // from the end backwards, so earlier offsets stay valid
  for (const s of [...splices].sort((a, b) => b.at - a.at)) out = out.slice(0, s.at) + s.text + out.slice(s.end);
  const got = reread(out);
  return got !== undefined && sameJson(got, expectedJs(parsed.js, edits)) ? out : undefined;
}

/**
 * Deep equality of JSON-like values (strings, booleans, null, numbers, arrays, plain objects: what a
 * kubeconfig reads as), without node:util's comparisons module (its load is a start-up cost). Anything
 * else compares unequal, which only sends the edit to ./yaml-library.ts's re-serialisation.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  // as isDeepStrictEqual: NaN is NaN, -0 is not 0
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (Array.isArray(b) || Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && sameJson(x[k], y[k]));
}

export interface ServerChange {
  cluster: string;
  from: string;
  to: string;
}

/** Rewrites every cluster's server to `address`. Returns the edits and what changed. */
export function serverEdits(parsed: ParsedKubeconfig, address: ApiAddress): { edits: ClusterEdit[]; changes: ServerChange[] } {
  const edits: ClusterEdit[] = [];
  const changes: ServerChange[] = [];
  parsed.config.clusters.forEach((c, index) => {
    const to = rewriteServerUrl(c.cluster.server, address);
    changes.push({ cluster: c.name, from: c.cluster.server, to });
    if (to !== c.cluster.server) edits.push({ index, key: 'server', value: to });
  });
  return { edits, changes };
}
