/**
 * qemu-kubesolo as a library: everything the CLI does, as typed functions. The CLI (src/cli/) is a
 * thin layer over these; wrappers can call them directly.
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

// the guest agent: client, connection, wire format
export {
  AgentClient,
  DEFAULT_MAX_FILE_BYTES,
  type AgentClientOptions,
  type AgentCommandInfo,
  type AgentInfo,
  type CallOptions,
  type ExecOptions,
  type ExecResult,
  type ReadFileOptions,
} from './agent/client.js';
export { agentCandidates, openAgent, withAgent, type AgentCandidate, type AgentTarget, type AttemptFailure, type OpenAgentOptions } from './agent/connect.js';
export type { AgentTransport, ExecuteOptions, TransportInfo, TransportKind } from './agent/transport.js';
export {
  LibvirtTransport,
  libvirtAgentCandidates,
  openLibvirtTransport,
  probeLibvirt,
  type LibvirtProbe,
  type LibvirtTransportOptions,
} from './agent/libvirt-rpc/transport.js';
export { DEFAULT_TIMEOUTS, EXEC_POLL } from './agent/timeouts.js';
export { DirectTransport, connectDirect, type DirectOptions } from './agent/direct.js';
export { FrameDecoder, decodeAll, encodeCommand, MAX_MESSAGE_BYTES, type Frame } from './agent/framing.js';

// the fake agent: a qemu-ga look-alike over memfs, with faults, for test harnesses
export { FakeGuest, FAKE_AGENT_VERSION, FAKE_COMMANDS, startFakeAgent, type FakeAgent, type FakeAgentFaults, type FakeAgentOptions } from './fake-agent/index.js';

// libvirt without virsh: URIs, channel sockets, domain XML, virt-install arguments
export { DEFAULT_LIBVIRT_URI, libvirtdSocketCandidates, parseLibvirtUri, type LibvirtUri } from './libvirt/uri.js';
export {
  AGENT_CHANNELS,
  DEDICATED_CHANNEL,
  STANDARD_CHANNEL,
  discoverChannelSockets,
  parseStatusXml,
  type ChannelSocket,
  type DiscoverOptions,
  type Discovery,
} from './libvirt/channels.js';
export { DomainSpecSchema, VmNameSchema, domainXml, parseDomainSpec, parseNetwork, xmlEscape, type DomainSpec, type DomainSpecInput } from './libvirt/domain-xml.js';
export { VIRT_INSTALL_DEFAULTS, formatVirtInstall, virtInstallArgs, type VirtInstallOptions } from './libvirt/virt-install.js';

// remote hypervisors: qemu+ssh:// over the system OpenSSH client
export { openRemoteAgentSocket, remoteAgentCandidates, type RemoteAgentOptions } from './remote/agent.js';
export { DEFAULT_SSH_TIMEOUTS, SshHost, closeSshConnections, sshDestination } from './remote/ssh.js';
export { discoverRemoteChannels, type RemoteDiscovery } from './remote/discover.js';
export { checkSshHop, type SshHopResult } from './remote/doctor.js';
export { shellQuote } from './shell.js';

// the ISO writer
export { DEFAULT_ISO_EPOCH, DEFAULT_VOLUME_ID, buildIso, checkVolumeId, type BuildIsoOptions, type IsoFile } from './iso/build.js';
export { SELINUX_ISO_TYPE, selinuxLabelCommands } from './iso/selinux.js';

// cloud-init artifacts
export { ArtifactsConfigSchema, DEFAULTS, FIELDS, detectSshKey, resolveArtifactsConfig, type ArtifactsConfig, type ArtifactsFlags, type ArtifactsInput } from './cloudinit/config.js';
export {
  generateArtifacts,
  kubesoloUrl,
  renderArtifacts,
  renderDocuments,
  writeArtifacts,
  type ArtifactsResult,
  type RenderedArtifacts,
  type WrittenFile,
} from './cloudinit/artifacts.js';
export { renderTemplate, type TemplateVars } from './cloudinit/render.js';
export { TEMPLATE_VARIABLES, builtinTemplates, loadTemplateDir, type TemplateSet } from './cloudinit/templates.js';
export { resolveInventory } from './cloudinit/inventory.js';
export { checkPasswordHash, sha512Crypt } from './cloudinit/password.js';
export { SSH_KEY_TYPES, parseSshPublicKey, type ParsedSshKey } from './cloudinit/ssh-key.js';

// kubeconfig: fetch, rewrite, verify, write
export { fetchKubeconfig, getKubeconfig, type FetchKubeconfigInput, type KubeconfigEvents, type KubeconfigResult } from './kubeconfig/get.js';
export { getKubeconfigs, type BatchItem } from './kubeconfig/batch.js';
export { DEFAULT_REMOTE_PATH, kubeconfigOptionsSchema, resolveKubeconfigOptions, type KubeconfigInput, type KubeconfigOptions } from './kubeconfig/options.js';
export { KubeconfigSchema, parseKubeconfig, type Kubeconfig, type ParsedKubeconfig } from './kubeconfig/schema.js';
export { parseApiAddress, rewriteKubeconfigServer, type ApiAddress } from './kubeconfig/rewrite.js';
export { verifyCluster, type TlsResult } from './kubeconfig/tls.js';

// doctor and demo
export { CHECKS, DoctorState, runDoctor, type Check, type CheckResult, type CheckStatus, type DoctorOptions, type DoctorReport } from './doctor/index.js';
export { runDemo, type DemoOptions, type DemoResult } from './demo/demo.js';
