/**
 * The demo: the tool's two jobs on embedded defaults, with nothing but Node on the machine. It writes
 * the cloud-init artifacts and cidata.iso, then starts a fake guest agent on a real unix socket whose
 * guest "installs Kubesolo" a moment later, and fetches the kubeconfig from it with --wait, the way
 * `qemu-kubesolo kubeconfig` does against a VM.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateArtifacts, type ArtifactsResult } from '../cloudinit/artifacts.js';
import { detectSshKey, resolveArtifactsConfig } from '../cloudinit/config.js';
import { startFakeAgent } from '../fake-agent/index.js';
import { fetchKubeconfig, type KubeconfigEvents, type KubeconfigResult } from '../kubeconfig/get.js';
import { DEFAULT_REMOTE_PATH } from '../kubeconfig/options.js';
import type { CancelSignal } from '../cancel.js';

export interface DemoOptions {
  /** Where the artifacts and the kubeconfig go. Default ./qemu-kubesolo-demo. */
  dir?: string;
  /** How long after the fake VM starts its kubeconfig appears, ms. Default 1500. */
  kubeconfigDelayMs?: number;
  env?: NodeJS.ProcessEnv;
  signal?: CancelSignal;
  /** Step-by-step narration (the CLI prints it on stderr). */
  events?: KubeconfigEvents & { step?(n: number, of: number, message: string): void };
}

export interface DemoResult {
  dir: string;
  artifacts: ArtifactsResult;
  /** The public key put in user-data, and whether the demo made it (no ~/.ssh/*.pub and no SSH_PUBLIC_KEY). */
  sshKey: { source: 'generated' | 'environment' | 'detected'; line: string };
  kubeconfig: KubeconfigResult;
}

/** A documentation address (RFC 5737): the demo rewrites to it and never connects to it. */
export const DEMO_API_SERVER = '192.0.2.10';
const STEPS = 4;

/** An OpenSSH public key line for a fresh ed25519 key (the private half is thrown away). */
export function throwawaySshKey(comment = 'qemu-kubesolo-demo'): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32); // SPKI ends with the 32-byte key
  const str = (b: Buffer) => Buffer.concat([u32(b.length), b]); // SSH wire string: length, bytes
  const blob = Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** What Kubesolo writes at first start, with placeholders where real key material would be. */
export function demoKubeconfig(): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${b64('demo CA: not a real certificate')}`,
    '    server: https://127.0.0.1:6443',
    '  name: kubesolo',
    'contexts:',
    '- context:',
    '    cluster: kubesolo',
    '    user: kubernetes-admin',
    '  name: kubernetes-admin@kubesolo',
    'current-context: kubernetes-admin@kubesolo',
    'preferences: {}',
    'users:',
    '- name: kubernetes-admin',
    '  user:',
    `    client-certificate-data: ${b64('demo client certificate')}`,
    `    client-key-data: ${b64('demo client key')}`,
    '',
  ].join('\n');
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const env = options.env ?? process.env;
  const dir = resolve(options.dir ?? 'qemu-kubesolo-demo');
  const step = (n: number, message: string) => options.events?.step?.(n, STEPS, message);

  step(1, 'resolving the configuration (flags > environment > embedded defaults)');
  let sshKey: DemoResult['sshKey'];
  if (env.SSH_PUBLIC_KEY) sshKey = { source: 'environment', line: env.SSH_PUBLIC_KEY };
  else {
    const found = await detectSshKey(env.HOME ?? '');
    sshKey = found ? { source: 'detected', line: found.key } : { source: 'generated', line: throwawaySshKey() };
  }
  if (sshKey.source === 'generated') options.events?.info?.('no SSH key found (SSH_PUBLIC_KEY, ~/.ssh/*.pub): user-data gets a throwaway demo key');
  const config = await resolveArtifactsConfig({ sshKeys: sshKey.line, outputDir: join(dir, 'artifacts'), createIso: true }, { env });

  step(2, `writing user-data, meta-data and cidata.iso to ${config.outputDir}`);
  const artifacts = await generateArtifacts(config);
  for (const w of artifacts.warnings) options.events?.warn?.(w);

  // the socket lives in a short private directory: unix socket paths are limited to 107 bytes
  const sockDir = await mkdtemp(join(tmpdir(), 'qks-demo-'));
  const socketPath = join(sockDir, 'org.qemu.guest_agent.1');
  step(3, `starting a fake VM: guest agent on ${socketPath}; its kubeconfig appears in ${((options.kubeconfigDelayMs ?? 1500) / 1000).toFixed(1)} s`);
  let agent: Awaited<ReturnType<typeof startFakeAgent>> | undefined;
  try {
    agent = await startFakeAgent({ socketPath });
    agent.setFile(DEFAULT_REMOTE_PATH, demoKubeconfig(), { afterMs: options.kubeconfigDelayMs ?? 1500 });
    step(4, `fetching ${DEFAULT_REMOTE_PATH} through the agent (--wait), server rewritten to ${DEMO_API_SERVER}`);
    const kubeconfig = await fetchKubeconfig(
      { socket: socketPath, wait: true, timeoutSec: 30, apiServer: DEMO_API_SERVER, output: join(dir, 'kubeconfig'), verifyServer: false },
      { env, signal: options.signal, events: options.events },
    );
    return { dir, artifacts, sshKey, kubeconfig };
  } finally {
    await agent?.close();
    await rm(sockDir, { recursive: true, force: true });
  }
}
