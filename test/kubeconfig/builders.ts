/**
 * Builders for the kubeconfig tests: a Kubesolo-like PKI made with openssl, a kubeconfig embedding it,
 * and an API-server look-alike answering /version over TLS on a loopback address.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startFakeAgent, type FakeAgent } from '../../src/fake-agent/index.js';
import { DEFAULT_REMOTE_PATH } from '../../src/kubeconfig/options.js';

/** Kubesolo's API certificate SANs (as a running node's certificate shows them), for a node whose IP was 192.168.122.50. */
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

export interface ApiServerBehaviour {
  /** /readyz answers 503 (with kube-apiserver's check list) until this many ms after start. Default 0. */
  readyAfterMs?: number;
  /** The node's Ready condition turns True this many ms after start. Default 0. */
  nodeReadyAfterMs?: number;
  /** Never ready: /readyz 503 forever. */
  neverReady?: boolean;
  /** Node name in /api/v1/nodes. */
  nodeName?: string;
}

/** What kube-apiserver's /readyz says while a check still fails (`?verbose` style). */
const READYZ_503 = '[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n[+]poststarthook/start-apiserver-admission-initializer ok\nreadyz check failed\n';

/**
 * An API-server look-alike on `host` (loopback only): /version, /readyz, /api/v1/nodes as JSON over TLS.
 * A client certificate not from `pki`'s CA is anonymous, and anonymous requests get 401, as
 * kube-apiserver does with anonymous auth off.
 */
export async function startApiServer(
  pki: Pki,
  host: string,
  port = 0,
  behaviour: ApiServerBehaviour = {},
): Promise<{ server: Server; port: number; requests: string[]; close(): Promise<void> }> {
  if (!host.startsWith('127.')) throw new Error('tests listen on loopback addresses only');
  const requests: string[] = [];
  const started = performance.now();
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const authed = (req.socket as import('node:tls').TLSSocket).authorized;
    const since = performance.now() - started;
    if (req.url?.startsWith('/version')) return json(res, 200, VERSION_REPLY);
    if (!authed) return json(res, 401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    if (req.url?.startsWith('/readyz')) {
      const ready = !behaviour.neverReady && since >= (behaviour.readyAfterMs ?? 0);
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end(ready ? 'ok' : READYZ_503);
    }
    if (req.url?.startsWith('/api/v1/nodes')) {
      const ready = since >= (behaviour.nodeReadyAfterMs ?? 0);
      return json(res, 200, {
        kind: 'NodeList',
        apiVersion: 'v1',
        items: [
          {
            metadata: { name: behaviour.nodeName ?? 'kubesolo' },
            status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'KubeletNotReady' }] },
          },
        ],
      });
    }
    return json(res, 404, { kind: 'Status', status: 'Failure', code: 404 });
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

/**
 * A TCP port on `host` (loopback only) that drops SYNs, as a firewall does: a listener with a full
 * accept queue that never accepts (Linux then ignores new SYNs). Python, as Node always accepts.
 */
export async function startSilentListener(host: string): Promise<{ port: number; close(): void }> {
  if (!host.startsWith('127.')) throw new Error('tests listen on loopback addresses only');
  const { spawn } = await import('node:child_process');
  const script = [
    'import socket, sys, time',
    's = socket.socket(); s.bind((sys.argv[1], 0)); s.listen(0)',
    'port = s.getsockname()[1]',
    // fill the accept queue (backlog 0 holds one connection) so the kernel drops further SYNs
    'fill = socket.create_connection((sys.argv[1], port), timeout=5)',
    'print(port, flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child = spawn('python3', ['-c', script, host], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  return { port, close: () => child.kill() };
}

/**
 * What the --ready, merge and doctor tests share: a temp dir with Kubesolo's test PKI and another CA's,
 * and `serve()`, an API-server look-alike on 127.0.0.1 (random port) plus a fake agent serving the
 * kubeconfig (Kubesolo's by default). Registers its own beforeAll / afterAll; read the fields in tests.
 */
export function apiServerFixture(tempPrefix: string) {
  const closers: (() => Promise<void>)[] = [];
  let agents = 0;
  const fx = {
    dir: '',
    pki: undefined as unknown as Pki,
    other: undefined as unknown as Pki,
    closers,
    async serve(behaviour: ApiServerBehaviour = {}, served?: string): Promise<{ api: Awaited<ReturnType<typeof startApiServer>>; agent: FakeAgent }> {
      const api = await startApiServer(fx.pki, '127.0.0.1', 0, behaviour);
      closers.push(api.close);
      const agent = await startFakeAgent({ socketPath: join(fx.dir, `a${agents++}.sock`), files: { [DEFAULT_REMOTE_PATH]: served ?? kubesoloKubeconfig(fx.pki) } });
      closers.push(() => agent.close());
      return { api, agent };
    },
  };
  beforeAll(() => {
    fx.dir = mkdtempSync(join(tmpdir(), tempPrefix));
    fx.pki = makePki(fx.dir, 'kubesolo');
    fx.other = makePki(fx.dir, 'other');
  });
  afterAll(async () => {
    await Promise.all(closers.map((c) => c()));
    rmSync(fx.dir, { recursive: true, force: true });
  });
  return fx;
}
