import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseSshPublicKey } from '../src/cloudinit/ssh-key.js';
import { throwawaySshKey } from '../src/demo/demo.js';
import { runCli } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'qks-demo-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('qemu-kubesolo demo', () => {
  it('writes artifacts and fetches a kubeconfig from a fake VM over a real socket, printing each step', async () => {
    const dir = join(mkdtempSync(join(tmp, 'run-')), 'out'); // not there yet: the demo makes it
    const r = await runCli(['demo', '--dir', dir], { env: { HOME: '/nonexistent', SSH_PUBLIC_KEY: '' } });
    expect(r.code, r.stderr).toBe(0);
    for (const n of [1, 2, 3, 4]) expect(r.stderr).toContain(`[${n}/4]`);
    expect(r.stderr).toContain('throwaway demo key');
    expect(r.stdout).toContain('virt-install');
    for (const f of ['user-data', 'meta-data', 'cidata.iso']) expect(statSync(join(dir, 'artifacts', f)).mode & 0o777).toBe(0o600);
    const kc = statSync(join(dir, 'kubeconfig'));
    expect(kc.mode & 0o777).toBe(0o600);
    const doc = parse(readFileSync(join(dir, 'kubeconfig'), 'utf8')) as { clusters: { cluster: { server: string } }[] };
    expect(doc.clusters[0]!.cluster.server).toBe('https://192.0.2.10:6443');
  });

  it('gives wrappers one JSON result', async () => {
    const dir = join(mkdtempSync(join(tmp, 'run-')), 'out'); // not there yet: the demo makes it
    const r = await runCli(['--json', '--quiet', 'demo', '--dir', dir], { env: { HOME: '/nonexistent', SSH_PUBLIC_KEY: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toHaveLength(1);
    expect(r.json[0]).toMatchObject({ ok: true, sshKey: 'generated', kubeconfig: { method: 'file-read', server: 'https://192.0.2.10:6443' } });
    expect(r.stderr).not.toContain('[1/4]');
  });

  it('makes throwaway keys that parse as OpenSSH ed25519 public keys', () => {
    const line = throwawaySshKey();
    expect(line).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} qemu-kubesolo-demo$/);
    expect(parseSshPublicKey(line)).toMatchObject({ type: 'ssh-ed25519' }); // a string would be the refusal
  });
});
