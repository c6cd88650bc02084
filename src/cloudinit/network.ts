/**
 * Static networks that cannot work, found before a seed is written: a gateway outside the subnet (the
 * network-config template routes through it with no on-link flag), the address equal to the gateway,
 * the subnet's network or broadcast address, loopback, multicast or unspecified addresses, DNS servers
 * that are no servers. Pure: addresses in, findings out. What may be meant (a resolver on loopback,
 * IPv4 link-local) is a warning, not an error.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface StaticNetwork {
  /** Address with prefix, e.g. 192.168.122.50/24 (already checked for shape). */
  ip?: string;
  gateway?: string;
  dns: readonly string[];
  interface: string;
}

export interface NetworkFinding {
  field: 'ip' | 'gateway' | 'dns' | 'interface';
  /** Index in the list (dns). */
  index?: number;
  message: string;
}

interface Addr {
  v: 4 | 6;
  n: bigint;
}

const BITS = { 4: 32, 6: 128 } as const;

/** An IPv4 or IPv6 address as a number; undefined when it is neither. */
export function parseAddress(s: string): Addr | undefined {
  if (isIPv4(s)) return { v: 4, n: s.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n) };
  if (!isIPv6(s)) return undefined;
  let text = s;
  const tail = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text); // ::ffff:192.0.2.1
  if (tail) {
    const v4 = parseAddress(tail[1]!)!.n;
    text = `${text.slice(0, tail.index)}:${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return { v: 6, n: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

function inRange(a: Addr, base: string, prefix: number): boolean {
  const b = parseAddress(base)!;
  if (a.v !== b.v) return false;
  const shift = BigInt(BITS[a.v] - prefix);
  return a.n >> shift === b.n >> shift;
}

/** What an address is, when it is no unicast address a host can use; undefined when it is fine. */
function unusable(a: Addr): string | undefined {
  if (a.v === 4) {
    if (inRange(a, '127.0.0.0', 8)) return 'a loopback address';
    if (inRange(a, '224.0.0.0', 4)) return 'a multicast address';
    if (a.n === 0xffffffffn) return 'the broadcast address 255.255.255.255';
    if (inRange(a, '0.0.0.0', 8)) return 'an unspecified ("this network") address';
    return undefined;
  }
  if (a.n === 1n) return 'the loopback address';
  if (a.n === 0n) return 'the unspecified address';
  if (inRange(a, 'ff00::', 8)) return 'a multicast address';
  if (inRange(a, '::ffff:0.0.0.0', 96)) {
    const v4 = unusable({ v: 4, n: a.n & 0xffffffffn });
    if (v4) return `${v4} (IPv4-mapped)`;
  }
  return undefined;
}

function splitCidr(cidr: string): { addr: Addr; prefix: number } | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  const addr = m ? parseAddress(m[1]!) : undefined;
  return addr ? { addr, prefix: Number(m![2]) } : undefined;
}

/** Settings that cannot work: each is refused (exit 2), naming its flag. */
export function networkProblems(net: StaticNetwork): NetworkFinding[] {
  const out: NetworkFinding[] = [];
  // Linux refuses "." and ".." as interface names (dev_valid_name); the character rule is in fields.ts
  if (net.interface === '.' || net.interface === '..') out.push({ field: 'interface', message: `"${net.interface}" is not a valid interface name` });
  for (const [i, d] of net.dns.entries()) {
    const a = parseAddress(d);
    if (!a) continue; // the field rule reports it
    const why = unusable(a);
    if (why && !why.includes('loopback')) out.push({ field: 'dns', index: i, message: `${d} is ${why}, not a DNS server` });
  }
  const cidr = net.ip ? splitCidr(net.ip) : undefined;
  if (!cidr) return out;
  const { addr, prefix } = cidr;
  const bits = BITS[addr.v];
  const ipText = net.ip!.split('/')[0]!;
  const why = unusable(addr);
  if (why) out.push({ field: 'ip', message: `${ipText} is ${why}: a VM cannot use it as its address` });
  const hostBits = BigInt(bits - prefix);
  const hostMask = (1n << hostBits) - 1n;
  // IPv4 /31 and /32 have no network or broadcast address (RFC 3021)
  if (!why && addr.v === 4 && prefix <= 30) {
    if ((addr.n & hostMask) === 0n) out.push({ field: 'ip', message: `${ipText} is the network address of ${net.ip}; pick a host address such as ${formatV4(addr.n + 1n)}/${prefix}` });
    else if ((addr.n & hostMask) === hostMask) out.push({ field: 'ip', message: `${ipText} is the broadcast address of ${net.ip}; pick a host address such as ${formatV4(addr.n - 1n)}/${prefix}` });
  }
  const gw = net.gateway ? parseAddress(net.gateway) : undefined;
  if (!gw || gw.v !== addr.v) return out; // no gateway, or the family rule in config.ts reports it
  const gwWhy = unusable(gw);
  if (gwWhy) {
    out.push({ field: 'gateway', message: `${net.gateway} is ${gwWhy}, not a router` });
    return out;
  }
  if (gw.n === addr.n) {
    out.push({ field: 'gateway', message: `${net.gateway} is the VM's own address (--ip): the gateway is another host on the subnet` });
    return out;
  }
  const linkLocal = gw.v === 6 && inRange(gw, 'fe80::', 10); // an IPv6 router is usually reached by its link-local address
  if (!linkLocal && gw.n >> hostBits !== addr.n >> hostBits) {
    out.push({ field: 'gateway', message: `${net.gateway} is outside the subnet of ${net.ip}: the VM could not reach it (widen the prefix or fix the gateway)` });
  } else if (gw.v === 4 && prefix <= 30 && ((gw.n & hostMask) === 0n || (gw.n & hostMask) === hostMask)) {
    out.push({ field: 'gateway', message: `${net.gateway} is the network or broadcast address of ${net.ip}, not a router` });
  }
  return out;
}

/** Settings that may be meant but often are not: printed as warnings, the seed is written. */
export function networkWarnings(net: StaticNetwork): string[] {
  const out: string[] = [];
  for (const d of net.dns) {
    const a = parseAddress(d);
    if (a && unusable(a)?.includes('loopback')) out.push(`--dns ${d} is a loopback address: only right if the VM runs its own resolver`);
  }
  const cidr = net.ip ? splitCidr(net.ip) : undefined;
  if (!cidr) return out;
  const ipText = net.ip!.split('/')[0]!;
  if (cidr.addr.v === 4 && inRange(cidr.addr, '169.254.0.0', 16)) out.push(`--ip ${ipText} is IPv4 link-local (169.254.0.0/16): it is not routed`);
  if (cidr.addr.v === 6 && cidr.prefix < 127 && (cidr.addr.n & ((1n << BigInt(128 - cidr.prefix)) - 1n)) === 0n) {
    out.push(`--ip ${ipText} is the subnet-router anycast address of ${net.ip}: routers answer to it too`);
  }
  return out;
}

function formatV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
}
