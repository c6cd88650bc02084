import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { isQksError } from '../errors.js';
import { chooseServerName, dnsSans, verifyCluster, type Handshake } from './tls.js';

const SANS = 'DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:localhost, IP Address:127.0.0.1, IP Address:10.43.0.1';
const cert = (subjectaltname = SANS) => ({ subjectaltname, subject: { CN: 'kube-apiserver' } }) as unknown as PeerCertificate;
const ca = Buffer.from('-----BEGIN CERTIFICATE-----\n...\n').toString('base64');

const stub = (h: Handshake | NodeJS.ErrnoException) => async () => {
  if (h instanceof Error) throw h;
  return h;
};
const err = (code: string) => Object.assign(new Error(code), { code });

describe('verifyCluster policy', () => {
  const cluster = (server: string, extra = {}) => ({ server, 'certificate-authority-data': ca, ...extra });

  it('address in the SANs: verified', async () => {
    const r = await verifyCluster(cluster('https://10.43.0.1:6443'), { rewritten: true, handshake: stub({ authorized: true, cert: cert() }) });
    expect(r).toMatchObject({ verified: true, reason: 'address-covered' });
  });

  it('address outside: tls-server-name, preferring kubernetes', async () => {
    const r = await verifyCluster(cluster('https://203.0.113.10:6443'), { rewritten: true, handshake: stub({ authorized: true, cert: cert() }) });
    expect(r).toMatchObject({ verified: true, reason: 'tls-server-name-set', tlsServerName: 'kubernetes' });
    expect(chooseServerName(cert('DNS:*.example.com, DNS:api.example.com'))).toBe('api.example.com');
    expect(chooseServerName(cert('IP Address:10.0.0.1'))).toBeUndefined();
    expect(dnsSans(cert())).toEqual(['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'localhost']);
  });

  it('an existing tls-server-name the certificate covers is kept', async () => {
    const r = await verifyCluster(cluster('https://203.0.113.10:6443', { 'tls-server-name': 'kubernetes.default' }), { rewritten: true, handshake: stub({ authorized: true, cert: cert() }) });
    expect(r).toMatchObject({ verified: true, reason: 'server-name-covered' });
    expect(r.tlsServerName).toBeUndefined();
  });

  it('an existing tls-server-name the certificate does not cover is replaced, even when the address is covered', async () => {
    // kubectl verifies against tls-server-name, so keeping it would leave a kubeconfig that fails
    const r = await verifyCluster(cluster('https://10.43.0.1:6443', { 'tls-server-name': 'api.example.com' }), { rewritten: true, handshake: stub({ authorized: true, cert: cert() }) });
    expect(r).toMatchObject({ verified: true, reason: 'tls-server-name-set', tlsServerName: 'kubernetes' });
    const ipOnly = await verifyCluster(cluster('https://10.0.0.1:6443', { 'tls-server-name': 'api.example.com' }), { rewritten: true, handshake: stub({ authorized: true, cert: cert('IP Address:10.0.0.1') }) });
    expect(ipOnly).toMatchObject({ verified: true, reason: 'tls-server-name-set', tlsServerName: '10.0.0.1' });
  });

  it('another CA: TLS_VERIFY_FAILED (exit 7)', async () => {
    const e = await verifyCluster(cluster('https://203.0.113.10:6443'), { rewritten: true, handshake: stub({ authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', cert: cert() }) }).catch((x) => x);
    expect(isQksError(e, 'TLS_VERIFY_FAILED')).toBe(true);
    expect(e.exitCode).toBe(7);
  });

  it('no covered name at all: TLS_VERIFY_FAILED', async () => {
    const e = await verifyCluster(cluster('https://203.0.113.10:6443'), { rewritten: true, handshake: stub({ authorized: true, cert: cert('IP Address:10.0.0.1') }) }).catch((x) => x);
    expect(isQksError(e, 'TLS_VERIFY_FAILED')).toBe(true);
  });

  it('unreachable or not TLS: unverified, no error', async () => {
    for (const code of ['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']) {
      expect(await verifyCluster(cluster('https://203.0.113.10:6443'), { rewritten: true, handshake: stub(err(code)) })).toMatchObject({ verified: false, reason: 'unreachable' });
    }
    expect(await verifyCluster(cluster('https://203.0.113.10:6443'), { rewritten: true, handshake: stub(err('ERR_SSL_WRONG_VERSION_NUMBER')) })).toMatchObject({ reason: 'handshake-failed' });
  });

  it('loopback left as is: not checked; CA as a guest file: not checked', async () => {
    const never = async () => {
      throw new Error('must not connect');
    };
    expect(await verifyCluster(cluster('https://127.0.0.1:6443'), { rewritten: false, handshake: never })).toMatchObject({ reason: 'not-rewritten' });
    expect(await verifyCluster({ server: 'https://10.0.0.1:6443', 'certificate-authority': '/var/lib/kubesolo/pki/ca.crt' }, { rewritten: true, handshake: never })).toMatchObject({ reason: 'no-ca' });
  });
});
