/**
 * `qemu-kubesolo/low-level`: the pieces the front doors (src/index.ts) are built from, for callers who
 * need one of them on its own. Less stable than the front doors: names here follow the code's layout
 * (see README.md, "How the code is laid out").
 */

// the guest agent: wire format, handshake, connection candidates, transports, bounds
export { DEFAULT_MAX_FILE_BYTES, type AgentCommandInfo } from './agent/client.js';
export { agentCandidates, type AgentCandidate, type AttemptFailure } from './agent/connect.js';
export type { CandidatePlan, ExecuteOptions, TransportInfo, TransportKind } from './agent/transport.js';
export { Handshake, type HandshakeContext, type HandshakeStep } from './agent/handshake.js';
export { DEFAULT_TIMEOUTS, EXEC_POLL } from './agent/timeouts.js';
export { DirectTransport, connectDirect, type DirectOptions } from './agent/direct.js';
export { FrameDecoder, decodeAll, encodeCommand, MAX_MESSAGE_BYTES, type Frame } from './agent/framing.js';
export { LibvirtConnection, LibvirtTransport, libvirtAgentCandidates, openLibvirtTransport, type LibvirtTransportOptions } from './agent/libvirt-rpc/transport.js';
export { XDR_STRING_MAX, XdrReader, XdrWriter } from './agent/libvirt-rpc/xdr.js';
export { MessageDecoder, decodeMessage, encodeMessage, type MessageHeader, type RpcMessage } from './agent/libvirt-rpc/framing.js';

// the fake agent's command list
export { FAKE_AGENT_VERSION, FAKE_COMMANDS } from './fake-agent/index.js';

// libvirt without virsh: URIs, channel sockets and their ranking, domain XML, virt-install arguments
export { DEFAULT_LIBVIRT_URI, libvirtdSocketCandidates, parseLibvirtUri, type LibvirtUri } from './libvirt/uri.js';
export { AGENT_CHANNELS, DEDICATED_CHANNEL, STANDARD_CHANNEL } from './libvirt/channel-names.js';
export {
  channelLayout,
  discoverChannelSockets,
  parseStatusXml,
  rankChannelSockets,
  type ChannelLayout,
  type ChannelListing,
  type ChannelSocket,
  type DiscoverOptions,
  type Discovery,
} from './libvirt/channels.js';
export { DomainSpecSchema, VmNameSchema, domainXml, parseDomainSpec, parseNetwork, xmlEscape, type DomainSpec, type DomainSpecInput } from './libvirt/domain-xml.js';
export { VIRT_INSTALL_DEFAULTS, formatVirtInstall, virtInstallArgs, type VirtInstallOptions } from './libvirt/virt-install.js';

// remote hypervisors: qemu+ssh:// over the system OpenSSH client (an SshPool the caller owns), qemu+tls://
export { openRemoteAgentSocket, remoteAgentCandidates, sshHostFor, type RemoteAgentOptions } from './remote/agent.js';
export { DEFAULT_SSH_TIMEOUTS, SshHost, SshPool, pooledHost, type SshOptions } from './ssh/index.js';
export { sshDestination } from './remote/destination.js';
export { discoverRemoteChannels, type RemoteDiscovery } from './remote/discover.js';
export { connectLibvirtOverSsh, openLibvirtOverSsh } from './remote/libvirtd.js';
export { connectLibvirtOverTls, openLibvirtOverTls, pkiPaths } from './remote/tls.js';
export { shellQuote } from './shell.js';

// the host: SELinux labels for an ISO outside libvirt's image directories
export { SELINUX_ISO_TYPE, selinuxLabelCommands } from './host/selinux.js';

// the ISO writer's defaults and byte layouts
export { DEFAULT_ISO_EPOCH, DEFAULT_VOLUME_ID, checkVolumeId } from './iso/build.js';
export { SECTOR, writeDirRecord, writePathRecord, writeVolumeDescriptor, type DirRecord, type VolumeDescriptorFields } from './iso/records.js';

// cloud-init artifacts: config schema, rendering, templates, inputs
export { DEFAULTS, FIELDS, detectSshKey, type ArtifactsFlags } from './cloudinit/config.js';
export { ArtifactsConfigSchema } from './cloudinit/config-zod.js';
export { kubesoloUrl, renderArtifacts, renderDocuments, writeArtifacts, type RenderedArtifacts } from './cloudinit/artifacts.js';
export { renderTemplate, type TemplateVars } from './cloudinit/render.js';
export { TEMPLATE_VARIABLES, builtinTemplates, loadTemplateDir, type TemplateSet } from './cloudinit/templates.js';
export { checkPasswordHash, sha512Crypt } from './cloudinit/password.js';
export { SSH_KEY_TYPES, parseSshPublicKey, type ParsedSshKey } from './cloudinit/ssh-key.js';

// kubeconfig: the steps fetchKubeconfig runs
export { getKubeconfig } from './kubeconfig/get.js';
export { DEFAULT_REMOTE_PATH } from './kubeconfig/options.js';
export { kubeconfigOptionsSchema } from './kubeconfig/options-schema.js';
export type { Kubeconfig, ParsedKubeconfig } from './kubeconfig/schema.js';
export { parseKubeconfig, rewriteKubeconfigServer } from './kubeconfig/yaml-library.js';
export { KubeconfigSchema } from './kubeconfig/schema-zod.js';
export { parseApiAddress, type ApiAddress } from './kubeconfig/rewrite.js';
export { verifyCluster, type TlsResult } from './kubeconfig/tls.js';

// doctor's checks, one by one; the demo
export { CHECKS, DoctorState, type Check } from './doctor/index.js';
export { checkSshHop, type SshHopResult } from './doctor/checks/ssh-hop.js';
export { probeLibvirt, type LibvirtProbe } from './doctor/checks/libvirtd.js';
export { runDemo, type DemoOptions, type DemoResult } from './demo/demo.js';
