/**
 * Builders for the kubeconfig tests: a Kubesolo-like PKI made with openssl, a kubeconfig embedding it,
 * and an API-server look-alike answering /version over TLS on a loopback address.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** Kubesolo's API certificate SANs (FACTS §4), for a node whose IP was 192.168.122.50. */
export const KUBESOLO_SANS =
  'DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:10.43.0.1,IP:192.168.122.50';

export interface Pki {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate with `sans`, and an admin client certificate, all in `dir` (prefix `name`). */
export function makePki(dir: string, name: string, sans = KUBESOLO_SANS): Pki {
  const f = (s: string) => join(dir, `${name}-${s}`);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', `/CN=${name}-ca`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const leaf = (leafName: string, subj: string, ext: string) => {
    openssl(['req', ...ec, '-keyout', f(`${leafName}.key`), '-out', f(`${leafName}.csr`), '-subj', subj], dir);
    writeFileSync(f(`${leafName}.ext`), ext);
    openssl(['x509', '-req', '-in', f(`${leafName}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${leafName}.crt`), '-days', '2', '-extfile', f(`${leafName}.ext`)], dir);
  };
  leaf('server', '/CN=kube-apiserver', `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`);
  leaf('client', '/O=system:masters/CN=kubernetes-admin', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  const r = (s: string) => readFileSync(f(s), 'utf8');
  return { caPem: r('ca.crt'), serverCertPem: r('server.crt'), serverKeyPem: r('server.key'), clientCertPem: r('client.crt'), clientKeyPem: r('client.key') };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A kubeconfig shaped like Kubesolo's admin.kubeconfig. */
export function kubesoloKubeconfig(pki: Pki, server = 'https://127.0.0.1:6443'): string {
  return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64(pki.caPem)}
    server: ${server}
  name: kubesolo
contexts:
- context:
    cluster: kubesolo
    user: kubernetes-admin
  name: kubernetes-admin@kubesolo
current-context: kubernetes-admin@kubesolo
kind: Config
preferences: {}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ${b64(pki.clientCertPem)}
    client-key-data: ${b64(pki.clientKeyPem)}
- name: admin-token
  user:
    token: not-a-real-token
`;
}

export const VERSION_REPLY = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0+kubesolo-test',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** An API-server look-alike on `host` (loopback only): /version as JSON over TLS. */
export async function startApiServer(pki: Pki, host: string, port = 0): Promise<{ server: Server; port: number; requests: string[]; close(): Promise<void> }> {
  if (!host.startsWith('127.')) throw new Error('tests listen on loopback addresses only');
  const requests: string[] = [];
  const server = createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url?.startsWith('/version')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(VERSION_REPLY));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"kind":"Status","status":"Failure","code":404}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    requests,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
