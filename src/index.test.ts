/**
 * The public surface: a few front doors in src/index.ts, the pieces under src/low-level.ts
 * (`qemu-kubesolo/low-level`), no name in both, and nothing the first version exported lost.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as front from './index.js';
import * as low from './low-level.js';

// every value src/index.ts exported before the split (0.1.0): each stays importable from one entry point
const FIRST_VERSION = `AGENT_CHANNELS AgentClient ArtifactsConfigSchema CHECKS DEDICATED_CHANNEL DEFAULTS DEFAULT_ISO_EPOCH
DEFAULT_LIBVIRT_URI DEFAULT_MAX_FILE_BYTES DEFAULT_REMOTE_PATH DEFAULT_SSH_TIMEOUTS DEFAULT_TIMEOUTS DEFAULT_VOLUME_ID
DirectTransport DoctorState DomainSpecSchema ERROR_CODES EXEC_POLL EXIT FAKE_AGENT_VERSION FAKE_COMMANDS FIELDS FakeGuest
FrameDecoder KubeconfigSchema LibvirtConnection LibvirtTransport MAX_MESSAGE_BYTES QksError SELINUX_ISO_TYPE SSH_KEY_TYPES
STANDARD_CHANNEL SshHost SshPool TEMPLATE_VARIABLES VERSION VIRT_INSTALL_DEFAULTS VmNameSchema agentCandidates buildIso
builtinTemplates checkPasswordHash checkSshHop checkVolumeId connectDirect connectLibvirtOverSsh connectLibvirtOverTls
decodeAll detectSshKey discoverChannelSockets discoverRemoteChannels domainXml encodeCommand fetchKubeconfig
formatVirtInstall generateArtifacts getKubeconfig getKubeconfigs isQksError kubeconfigOptionsSchema kubesoloUrl
libvirtAgentCandidates libvirtdSocketCandidates loadTemplateDir openAgent openLibvirtOverSsh openLibvirtOverTls
openLibvirtTransport openRemoteAgentSocket parseApiAddress parseDomainSpec parseKubeconfig parseLibvirtUri parseNetwork
parseSshPublicKey parseStatusXml pkiPaths probeLibvirt remoteAgentCandidates renderArtifacts renderDocuments renderTemplate
resolveArtifactsConfig resolveInventory resolveKubeconfigOptions rewriteKubeconfigServer runDemo runDoctor
selinuxLabelCommands sha512Crypt shellQuote sshDestination sshHostFor startFakeAgent toQksError verifyCluster
virtInstallArgs withAgent writeArtifacts xmlEscape`.split(/\s+/);

describe('public surface', () => {
  it('the front door is small: one call per job, the errors, the version', () => {
    expect(Object.keys(front).length).toBeLessThanOrEqual(25);
  });

  it('no name is in both entry points', () => {
    expect(Object.keys(front).filter((n) => n in low)).toEqual([]);
  });

  it('nothing the first version exported is lost', () => {
    expect(FIRST_VERSION.filter((n) => !(n in front) && !(n in low))).toEqual([]);
  });

  it("the README's library section imports only from the entry points that have those names", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Integration from a wrapper'), readme.indexOf('\n## ', readme.indexOf('## Integration from a wrapper') + 1));
    const imports = [...section.matchAll(/import \{([^}]+)\} from '(qemu-kubesolo(?:\/low-level)?)'/g)];
    expect(imports.length).toBeGreaterThanOrEqual(2);
    for (const [, names, from] of imports) {
      const mod: Record<string, unknown> = from === 'qemu-kubesolo' ? front : low;
      const values = names!.split(',').map((s) => s.trim()).filter((s) => s && !s.startsWith('type '));
      for (const n of values) expect(n in mod, `${n} from ${from}`).toBe(true);
    }
  });
});
