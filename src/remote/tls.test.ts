import { describe, expect, it } from 'vitest';
import { parseLibvirtUri } from '../libvirt/uri.js';
import { pkiPaths, tlsConnectError, tlsTarget } from './tls.js';

const uri = (raw: string) => parseLibvirtUri(raw);

describe('pkiPaths: libvirt client PKI in libvirt places', () => {
  it('root: /etc/pki; others: ~/.pki/libvirt; pkipath= wins', () => {
    expect(pkiPaths(uri('qemu+tls://h/system'), { uid: 0, home: '/root' })).toEqual({ dir: '/etc/pki/libvirt', ca: '/etc/pki/CA/cacert.pem', cert: '/etc/pki/libvirt/clientcert.pem', key: '/etc/pki/libvirt/private/clientkey.pem' });
    expect(pkiPaths(uri('qemu+tls://h/system'), { uid: 1000, home: '/home/a' })).toMatchObject({ ca: '/home/a/.pki/libvirt/cacert.pem', cert: '/home/a/.pki/libvirt/clientcert.pem', key: '/home/a/.pki/libvirt/clientkey.pem' });
    expect(pkiPaths(uri('qemu+tls://h/system?pkipath=/p'), { uid: 0 })).toMatchObject({ ca: '/p/cacert.pem', cert: '/p/clientcert.pem', key: '/p/clientkey.pem' });
  });
});

describe('tlsTarget', () => {
  it('port 16514 unless given; no_verify and name= as libvirt; other parameters refused', () => {
    expect(tlsTarget(uri('qemu+tls://h/system'))).toEqual({ host: 'h', port: 16514, noVerify: false, name: 'qemu:///system', where: 'h:16514' });
    expect(tlsTarget(uri('qemu://h:1/system?no_verify=1'))).toMatchObject({ port: 1, noVerify: true });
    expect(() => tlsTarget(uri('qemu+tls://h/system?tls_priority=NORMAL'))).toThrow(/tls_priority is not supported/);
  });
});

describe('tlsConnectError: each TLS failure names its fix (exit 7), not listening is exit 3', () => {
  const t = tlsTarget(uri('qemu+tls://hv1/system'));
  const err = (code: string, message = code) => tlsConnectError(t, '/etc/pki/CA/cacert.pem', Object.assign(new Error(message), { code }));
  it.each([
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS_VERIFY_FAILED', 7, /does not name hv1/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'TLS_VERIFY_FAILED', 7, /not trusted/],
    ['CERT_HAS_EXPIRED', 'TLS_VERIFY_FAILED', 7, /not trusted/],
    ['ECONNREFUSED', 'LIBVIRT_NOT_RUNNING', 3, /nothing accepts/],
  ])('%s → %s', (code, ours, exit, re) => {
    const e = err(code);
    expect(e.code).toBe(ours);
    expect(e.exitCode).toBe(exit);
    expect(e.message).toMatch(re);
    expect(e.hint).toBeTruthy();
  });
  it('a server alert about our certificate → refused client certificate', () => {
    expect(err('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'tlsv1 alert unknown ca').message).toMatch(/refused our client certificate/);
  });
});
