/**
 * qemu-kubesolo as a library: a few front doors, each one call a wrapper makes. The CLI (src/cli/) is
 * a thin layer over these. The pieces they are built from (wire framing, XDR, the handshake, ISO
 * records, channel ranking, the SSH pool, libvirt transports...) are under `qemu-kubesolo/low-level`
 * (src/low-level.ts).
 *
 * @example
 * import { generateArtifacts, resolveArtifactsConfig, fetchKubeconfig } from 'qemu-kubesolo';
 * const config = await resolveArtifactsConfig({ hostname: 'prod-node', createIso: true });
 * await generateArtifacts(config);
 * const kc = await fetchKubeconfig({ vmName: 'prod-node', apiServer: '10.0.0.50', wait: true, output: false });
 */

// errors: one hierarchy, stable codes, exit statuses
export { ERROR_CODES, EXIT, QksError, isQksError, toQksError, type ErrorCode, type ExitCode, type QksErrorOptions } from './errors.js';
export { VERSION } from './version.js';

// artifacts: cloud-init documents and cidata.iso
export { resolveArtifactsConfig, type ArtifactsConfig, type ArtifactsInput } from './cloudinit/config.js';
export { generateArtifacts, type ArtifactsResult, type WrittenFile } from './cloudinit/artifacts.js';
export { resolveInventory } from './cloudinit/inventory.js';

// the ISO writer
export { buildIso, type BuildIsoOptions, type IsoFile } from './iso/build.js';

// kubeconfig: fetch, rewrite, verify, write (one VM or many)
export { fetchKubeconfig, type FetchKubeconfigInput, type KubeconfigEvents, type KubeconfigResult } from './kubeconfig/get.js';
export { getKubeconfigs, type BatchItem } from './kubeconfig/batch.js';
export { resolveKubeconfigOptions, type KubeconfigInput, type KubeconfigOptions } from './kubeconfig/options.js';

// the guest agent: open a way to it (socket, libvirtd, SSH hop), then call it
export { AgentClient, type AgentClientOptions, type AgentInfo, type CallOptions, type ExecOptions, type ExecResult, type ReadFileOptions } from './agent/client.js';
export { openAgent, withAgent, type AgentTarget, type OpenAgentOptions } from './agent/connect.js';
export type { AgentTransport } from './agent/transport.js';

// the fake agent: a qemu-ga look-alike over memfs, with faults, for test harnesses
export { FakeGuest, startFakeAgent, type FakeAgent, type FakeAgentFaults, type FakeAgentOptions } from './fake-agent/index.js';

// doctor: what is wrong, and the fix
export { runDoctor, type CheckResult, type CheckStatus, type DoctorOptions, type DoctorReport } from './doctor/index.js';
