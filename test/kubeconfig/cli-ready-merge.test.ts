// --ready and --merge through the CLI as users run it: --ready (stages on stderr, --json times, exit 5 naming the
// stage, exit 7 for refused credentials), --merge (two processes at once, a target that is not YAML,
// kubectl's lock), --allow-unsafe-kubeconfig. The API-server look-alike listens on 127.0.0.1.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { describeWithPeers } from '../helpers/peers.js';
import { apiServerFixture, kubesoloKubeconfig, type ApiServerBehaviour } from './builders.js';

describeWithPeers('kubeconfig --ready / --merge / --allow-unsafe-kubeconfig (CLI)', ['openssl'], () => {
  const fx = apiServerFixture('qks-kc-cli18-');
  async function serve(behaviour: ApiServerBehaviour = {}, served?: string) {
    const { api, agent } = await fx.serve(behaviour, served);
    return { api, agent, base: ['kubeconfig', '--socket', agent.socketPath, '--api-server', `127.0.0.1:${api.port}`] };
  }

  it('--ready: progress names each stage; --json times them', async () => {
    const { base } = await serve({ readyAfterMs: 800, nodeReadyAfterMs: 1600 });
    const out = join(fx.dir, 'r1');
    const r = await runCli(['--json', ...base, '--ready', '--timeout', '60', '--output', out], { env: { HOME: fx.dir } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json[0]).toMatchObject({ ok: true, node: 'kubesolo', stages: { agent: expect.any(Number), file: expect.any(Number), tls: expect.any(Number), readyz: expect.any(Number), node: expect.any(Number) } });
    expect(r.stderr).toMatch(/agent ok after \d+ ms/);
    expect(r.stderr).toMatch(/file ok after \d+ ms/);
    expect(r.stderr).toMatch(/TLS ok after \d+ ms/);
    expect(r.stderr).toMatch(/\/readyz ok after \d+ ms/);
    expect(r.stderr).toMatch(/node Ready ok after \d+ ms/);
    expect(existsSync(out)).toBe(true);
  });

  it('--ready against a server that never becomes ready: exit 5 at --timeout naming the stage', async () => {
    const { base } = await serve({ neverReady: true });
    const out = join(fx.dir, 'r2');
    const r = await runCli([...base, '--ready', '--timeout', '3', '--output', out], { env: { HOME: fx.dir } });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/stage \/readyz; last: 503 failing: etcd.*\[WAIT_TIMEOUT\]/s);
    expect(existsSync(out)).toBe(false);
  });

  it('--ready with a client certificate of another cluster: exit 7, a clear error', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const served = kubesoloKubeconfig(fx.pki).replace(b64(fx.pki.clientCertPem), b64(fx.other.clientCertPem)).replace(b64(fx.pki.clientKeyPem), b64(fx.other.clientKeyPem));
    const { base } = await serve({}, served);
    const r = await runCli([...base, '--ready', '--output', join(fx.dir, 'r3')], { env: { HOME: fx.dir } });
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toMatch(/refused the credentials of user "kubernetes-admin" \(401 Unauthorized on GET \/readyz\) \[API_AUTH_FAILED\]/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--merge from two processes at once: both contexts land, one lock, no entry lost', async () => {
    const { base } = await serve();
    const h = join(fx.dir, 'home-two');
    mkdirSync(join(h, '.kube'), { recursive: true });
    writeFileSync(join(h, '.kube', 'config'), 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
    const [a, b] = await Promise.all([
      runCli([...base, '--merge', '--context', 'vm-a', '--vm-name', 'a'], { env: { HOME: h } }),
      runCli([...base, '--merge', '--context', 'vm-b', '--vm-name', 'b', '--use-context'], { env: { HOME: h } }),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const k = parse(readFileSync(join(h, '.kube', 'config'), 'utf8'));
    expect(k.contexts.map((c: { name: string }) => c.name).sort()).toEqual(['vm-a', 'vm-b']);
    expect(k['current-context']).toBe('vm-b');
    expect(existsSync(join(h, '.kube', 'config.lock'))).toBe(false);
    expect(b.stderr + b.stdout).toMatch(/merged into .*config as context vm-b/);
  });

  it('--merge FILE into a file that is not YAML: exit 2, nothing changed', async () => {
    const { base } = await serve();
    const f = join(fx.dir, 'notyaml');
    writeFileSync(f, '{{{ not yaml');
    const r = await runCli([...base, '--merge', f], { env: { HOME: fx.dir } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/MERGE_TARGET_INVALID/);
    expect(readFileSync(f, 'utf8')).toBe('{{{ not yaml');
  });

  it('--merge while kubectl holds the lock past the bound: exit 5 naming the lock file', async () => {
    const { base } = await serve();
    const f = join(fx.dir, 'held');
    writeFileSync(f, '');
    writeFileSync(`${f}.lock`, '');
    const r = await runCli([...base, '--merge', f], { env: { HOME: fx.dir }, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/held\.lock still exists .*\[KUBECONFIG_LOCKED\]/s);
  });

  it('--allow-unsafe-kubeconfig writes it with one warning per key', async () => {
    const served = kubesoloKubeconfig(fx.pki).replace('    client-key-data:', '    exec:\n      command: /bin/true\n    client-key-data:');
    const { agent } = await serve({}, served);
    const out = join(fx.dir, 'unsafe');
    const r = await runCli(['kubeconfig', '--socket', agent.socketPath, '--no-verify-server', '--allow-unsafe-kubeconfig', '--output', out], { env: { HOME: fx.dir } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--allow-unsafe-kubeconfig: keeping users\[0\]\.user\.exec/);
    expect(readFileSync(out, 'utf8')).toContain('exec:');
  });

  it('--context with several VMs is refused (they would overwrite each other)', async () => {
    const r = await runCli(['kubeconfig', '--vm-name', 'a', '--vm-name', 'b', '--output-dir', fx.dir, '--merge', '--context', 'x'], { env: { HOME: fx.dir } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--context/);
  });
});
