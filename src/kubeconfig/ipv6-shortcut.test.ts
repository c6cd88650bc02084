/** IPv4 and names never reach Node's isIPv6 (its first call compiles a large regex: bench/startup.md). */
import { describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted(() => ({ isIPv6: 0 }));
vi.mock('node:net', async (importOriginal) => {
  const net = await importOriginal<typeof import('node:net')>();
  return { ...net, isIPv6: (s: string) => (calls.isIPv6++, net.isIPv6(s)) };
});
const { hostForUrl, isIpAddress, readApiAddress } = await import('./rewrite.js');

describe('the IPv6 shortcut', () => {
  it('skips isIPv6 for IPv4 and names, and still knows IPv6', () => {
    calls.isIPv6 = 0;
    expect(hostForUrl('10.0.0.5')).toBe('10.0.0.5');
    expect(hostForUrl('kube.example')).toBe('kube.example');
    expect(readApiAddress('https://10.0.0.5:6443')).toEqual({ host: '10.0.0.5', port: 6443 });
    expect(readApiAddress('kube.example')).toEqual({ host: 'kube.example' });
    expect(isIpAddress('10.0.0.5')).toBe(true);
    expect(isIpAddress('kube.example')).toBe(false);
    expect(calls.isIPv6).toBe(0);
    expect(hostForUrl('fd00::5')).toBe('[fd00::5]');
    expect(readApiAddress('[fd00::5]:6443')).toEqual({ host: 'fd00::5', port: 6443 });
    expect(readApiAddress('fd00::5')).toEqual({ host: 'fd00::5' });
    expect(isIpAddress('fd00::5')).toBe(true);
    expect(isIpAddress('a:b')).toBe(false);
    expect(calls.isIPv6).toBeGreaterThan(0);
  });
});
