// The per-domain error factories: each builds its case with the code (and so the exit status) the
// README's exit-code table promises, and keeps the message callers and tests match on.
import { describe, expect, it } from 'vitest';
import { EXIT, QksError, abortError, interruptedError } from '../src/errors.js';
import * as agent from '../src/agent/errors.js';
import * as rpc from '../src/agent/libvirt-rpc/errors.js';
import * as cli from '../src/cli/errors.js';
import * as seed from '../src/cloudinit/errors.js';
import * as iso from '../src/iso/errors.js';
import * as kube from '../src/kubeconfig/errors.js';
import * as libvirt from '../src/libvirt/errors.js';
import * as remote from '../src/remote/errors.js';

const errno = (code: string, message = code) => Object.assign(new Error(message), { code }) as NodeJS.ErrnoException;
const ep = { host: '10.0.0.5', port: 6443, user: 'admin' };

const cases: Array<[string, () => QksError, string, number, RegExp]> = [
  ['rpc.malformedMessage', () => rpc.malformedMessage('bad length'), 'PROTOCOL_ERROR', EXIT.AGENT, /malformed message: bad length/],
  ['rpc.socketConnectError ENOENT', () => rpc.socketConnectError('/s', errno('ENOENT')), 'LIBVIRT_NOT_RUNNING', EXIT.NOT_FOUND, /not running: \/s: no such socket/],
  ['rpc.socketConnectError EACCES', () => rpc.socketConnectError('/s', errno('EACCES')), 'LIBVIRT_AUTH', EXIT.PERMISSION, /permission denied/],
  ['rpc.libvirtdNotRunning', () => rpc.libvirtdNotRunning(['/a (absent)'], ['/a'], undefined), 'LIBVIRT_NOT_RUNNING', EXIT.NOT_FOUND, /tried \/a \(absent\)/],
  ['rpc.connectTimeout', () => rpc.connectTimeout('/s', 5), 'LIBVIRT_TIMEOUT', EXIT.TIMEOUT, /within 5 ms/],
  ['rpc.sessionError', () => rpc.sessionError('/s', errno('ECONNRESET', 'reset')), 'LIBVIRT_ERROR', EXIT.AGENT, /libvirtd socket \/s: reset/],
  ['rpc.sessionClosedByPeer', () => rpc.sessionClosedByPeer('/s'), 'LIBVIRT_ERROR', EXIT.AGENT, /closed the connection on \/s/],
  ['rpc.sessionClosed', () => rpc.sessionClosed(), 'LIBVIRT_ERROR', EXIT.AGENT, /session was closed/],
  ['rpc.callTimeout agent', () => rpc.callTimeout({ operation: 'guest-ping', command: 'guest-ping', domain: 'vm' }, 7), 'AGENT_TIMEOUT', EXIT.TIMEOUT, /of "vm" through libvirtd within 7 ms/],
  ['rpc.callTimeout libvirtd', () => rpc.callTimeout({ operation: 'AUTH_LIST' }, 7), 'LIBVIRT_TIMEOUT', EXIT.TIMEOUT, /did not answer AUTH_LIST/],
  ['rpc.polkitIncomplete', () => rpc.polkitIncomplete(), 'LIBVIRT_AUTH', EXIT.PERMISSION, /polkit/],
  ['rpc.saslNotSupported', () => rpc.saslNotSupported([1]), 'LIBVIRT_AUTH', EXIT.PERMISSION, /types 1: SASL/],
  ['rpc.domainNotRunning', () => rpc.domainNotRunning('vm', 'qemu:///system'), 'VM_NOT_FOUND', EXIT.NOT_FOUND, /defined in qemu:\/\/\/system but not running/],
  ['rpc.transportClosed', () => rpc.transportClosed(), 'AGENT_DISCONNECTED', EXIT.AGENT, /transport is closed/],
  ['rpc.unexpectedReply', () => rpc.unexpectedReply('guest-ping', 'no result', null), 'PROTOCOL_ERROR', EXIT.AGENT, /guest-ping through libvirtd: no result/],
  ['rpc.remoteUriNeedsCarrier', () => rpc.remoteUriNeedsCarrier('qemu+ssh://h/system'), 'USAGE', EXIT.USAGE, /is a remote URI/],
  ['libvirt.uriInvalid', () => libvirt.uriInvalid('x', 'not a libvirt URI'), 'CONFIG_INVALID', EXIT.USAGE, /^LIBVIRT_URI "x": not a libvirt URI$/],
  ['libvirt.uriParamsUnsupported', () => libvirt.uriParamsUnsupported('x', ['foo'], 'TLS', ['pkipath'], 'h'), 'CONFIG_INVALID', EXIT.USAGE, /parameter foo is not supported over TLS \(supported: pkipath\)/],
  ['remote.vmNameInvalid', () => remote.vmNameInvalid('a/b'), 'USAGE', EXIT.USAGE, /invalid VM name "a\/b"/],
  ['remote.remoteSessionUnsupported', () => remote.remoteSessionUnsupported(), 'USAGE', EXIT.USAGE, /session is not supported/],
  ['remote.forwardPathInvalid', () => remote.forwardPathInvalid('a:b'), 'USAGE', EXIT.USAGE, /cannot forward "a:b"/],
  ['remote.tlsError.unresolved', () => remote.tlsError.unresolved('h:16514', 'h'), 'CONFIG_INVALID', EXIT.USAGE, /cannot resolve h/],
  ['remote.tlsError.failed', () => remote.tlsError.failed('h:16514', errno('EIO', 'boom')), 'LIBVIRT_ERROR', EXIT.AGENT, /TLS h:16514: boom/],
  ['agent.channelSocketsDenied', () => agent.channelSocketsDenied('vm', ['/d']), 'SOCKET_PERMISSION', EXIT.PERMISSION, /permission denied on \/d/],
  ['agent.noChannelSocket', () => agent.noChannelSocket('vm', 'qemu:///system', []), 'SOCKET_NOT_FOUND', EXIT.NOT_FOUND, /no guest-agent channel socket found for VM vm/],
  ['agent.noAgentTarget', () => agent.noAgentTarget(), 'USAGE', EXIT.USAGE, /pass --socket PATH or --vm-name NAME/],
  ['agent.directCannotReachTls', () => agent.directCannotReachTls('qemu+tls://h/system'), 'USAGE', EXIT.USAGE, /--transport direct cannot reach/],
  ['agent.noWayToAgent', () => agent.noWayToAgent('vm', 'libvirt', 'qemu:///system'), 'USAGE', EXIT.USAGE, /no way to reach the agent of vm/],
  ['agent.candidatesNeedSshPool', () => agent.candidatesNeedSshPool(), 'USAGE', EXIT.USAGE, /needs options.sshPool/],
  ['kube.kubeconfigContextDangling', () => kube.kubeconfigContextDangling('c'), 'KUBECONFIG_INVALID', EXIT.AGENT, /context "c" names a cluster or user/],
  ['kube.readyEndpointInvalid', () => kube.readyEndpointInvalid('x'), 'KUBECONFIG_INVALID', EXIT.AGENT, /^--ready: the kubeconfig x$/],
  ['kube.apiUnreachable', () => kube.apiUnreachable(ep, 'EHOSTUNREACH'), 'API_UNREACHABLE', EXIT.REMOTE, /10.0.0.5:6443 is not reachable/],
  ['kube.apiAuthFailed', () => kube.apiAuthFailed(ep, '/readyz', '401'), 'API_AUTH_FAILED', EXIT.REMOTE, /credentials of user "admin"/],
  ['kube.apiCertRejected', () => kube.apiCertRejected(ep, 'CERT_HAS_EXPIRED', 'expired'), 'TLS_VERIFY_FAILED', EXIT.REMOTE, /does not accept \(CERT_HAS_EXPIRED/],
  ['kube.apiCertNotFromCa', () => kube.apiCertNotFromCa('h', 6443, undefined), 'TLS_VERIFY_FAILED', EXIT.REMOTE, /CA did not issue \(unverified\)/],
  ['kube.apiCertNamesNeither', () => kube.apiCertNamesNeither('h', 6443, undefined), 'TLS_VERIFY_FAILED', EXIT.REMOTE, /covers neither h/],
  ['kube.apiWaitTimeout', () => kube.apiWaitTimeout('h:6443', 'readyz', '503', 2000), 'WAIT_TIMEOUT', EXIT.TIMEOUT, /^gave up after 2 s waiting for the API server at h:6443: stage \/readyz; last: 503$/],
  ['kube.apiNoAnswer', () => kube.apiNoAnswer('https://h:6443', 30_000), 'WAIT_TIMEOUT', EXIT.TIMEOUT, /within 30 s/],
  ['kube.mergeTargetInvalid', () => kube.mergeTargetInvalid('/f', 'not a YAML mapping'), 'MERGE_TARGET_INVALID', EXIT.USAGE, /\/f is not a kubeconfig: not a YAML mapping/],
  ['kube.kubeconfigLocked', () => kube.kubeconfigLocked('/f', '/f.lock', 10_000, 'kubectl'), 'KUBECONFIG_LOCKED', EXIT.TIMEOUT, /\/f.lock still exists after 10 s/],
  ['kube.mergeLockDenied', () => kube.mergeLockDenied('/f', '/f.lock', new Error('EACCES')), 'OUTPUT_PERMISSION', EXIT.PERMISSION, /cannot create \/f.lock/],
  ['kube.mergeTargetUnreadable', () => kube.mergeTargetUnreadable('/f', new Error('EACCES')), 'OUTPUT_PERMISSION', EXIT.PERMISSION, /cannot read \/f/],
  ['kube.mergeNotProven', () => kube.mergeNotProven(), 'INTERNAL', EXIT.INTERNAL, /without changing other entries/],
  ['kube.rewriteNotProven', () => kube.rewriteNotProven(), 'INTERNAL', EXIT.INTERNAL, /without changing other fields/],
  ['kube.outputIsMainKubeconfig', () => kube.outputIsMainKubeconfig('/h/.kube/config'), 'CONFIG_INVALID', EXIT.USAGE, /the main kubeconfig/],
  ['kube.contextNameInvalid', () => kube.contextNameInvalid('', 'is empty'), 'CONFIG_INVALID', EXIT.USAGE, /^--context: "" is empty$/],
  ['kube.noStdout', () => kube.noStdout(), 'USAGE', EXIT.USAGE, /needs a stdout/],
  ['iso.volumeIdInvalid', () => iso.volumeIdInvalid('', 'is empty'), 'USAGE', EXIT.USAGE, /invalid ISO volume label "": it is empty/],
  ['iso.epochInvalid', () => iso.epochInvalid(-1, 9), 'USAGE', EXIT.USAGE, /invalid ISO timestamp -1/],
  ['iso.isoTooLarge', () => iso.isoTooLarge(2 ** 33), 'USAGE', EXIT.USAGE, /stops at 4 GiB/],
  ['iso.fileWithoutPath', () => iso.fileWithoutPath(), 'USAGE', EXIT.USAGE, /has no path/],
  ['iso.fileNameInvalid', () => iso.fileNameInvalid('a//b', 'is empty'), 'USAGE', EXIT.USAGE, /a path component is empty/],
  ['iso.fileNameTooLong', () => iso.fileNameTooLong('x', 255), 'USAGE', EXIT.USAGE, /longer than 255 bytes/],
  ['iso.fileTooDeep', () => iso.fileTooDeep('a/b', 8, 7), 'USAGE', EXIT.USAGE, /nested 8 directories deep; ISO 9660 allows 7/],
  ['iso.fileTooLarge', () => iso.fileTooLarge('x', 2 ** 32), 'USAGE', EXIT.USAGE, /at most 4 GiB - 1/],
  ['iso.fileModeInvalid', () => iso.fileModeInvalid('x', -1), 'USAGE', EXIT.USAGE, /file mode -1/],
  ['iso.fileAndDirectory', () => iso.fileAndDirectory('a'), 'USAGE', EXIT.USAGE, /"a" is both a file and a directory/],
  ['iso.fileTwice', () => iso.fileTwice('a'), 'USAGE', EXIT.USAGE, /"a" appears twice/],
  ['cli.commanderUsage', () => cli.commanderUsage("error: unknown option '--x'"), 'USAGE', EXIT.USAGE, /^unknown option '--x'$/],
  ['cli.noCommand', () => cli.noCommand(), 'USAGE', EXIT.USAGE, /no command given/],
  ['cli.argumentsNotJson', () => cli.argumentsNotJson(new Error('Unexpected token')), 'USAGE', EXIT.USAGE, /arguments: not JSON/],
  ['cli.argumentsNotObject', () => cli.argumentsNotObject(), 'USAGE', EXIT.USAGE, /must be a JSON object/],
  ['cli.fileSpecInvalid', () => cli.fileSpecInvalid('--file', 'x', 'GUEST_PATH=LOCAL_FILE'), 'USAGE', EXIT.USAGE, /^--file x: expected GUEST_PATH=LOCAL_FILE$/],
  ['cli.cannotListen', () => cli.cannotListen('/s', errno('EADDRINUSE')), 'USAGE', EXIT.USAGE, /cannot listen on \/s: EADDRINUSE/],
  ['cli.stdoutTwice', () => cli.stdoutTwice('--output - and --json', 'h'), 'USAGE', EXIT.USAGE, /^--output - and --json both write to stdout$/],
  ['cli.vmNamesFileMissing', () => cli.vmNamesFileMissing('/n'), 'INPUT_NOT_FOUND', EXIT.USAGE, /--vm-names-file \/n: ENOENT/],
  ['cli.isoInputMissing', () => cli.isoInputMissing('/i'), 'INPUT_NOT_FOUND', EXIT.USAGE, /input file \/i does not exist/],
  ['cli.isoInputIsDirectory', () => cli.isoInputIsDirectory('/d'), 'USAGE', EXIT.USAGE, /\/d is a directory; the iso verb takes files/],
  ['cli.stdoutClosed', () => cli.stdoutClosed('EPIPE'), 'STDOUT_CLOSED', EXIT.PIPE, /stdout was closed before all output was written \(EPIPE\)/],
  ['cli.stdoutFailed', () => cli.stdoutFailed(errno('ENOSPC', 'no space left on device')), 'STDOUT_FAILED', EXIT.INTERNAL, /cannot write to stdout: no space left on device/],
  ['seed.templateInvalid', () => seed.templateInvalid('t', 3, 'unknown name x'), 'TEMPLATE_INVALID', EXIT.USAGE, /^t:3: unknown name x$/],
  ['seed.templateNotYaml', () => seed.templateNotYaml('t', 2, 'bad\nmore'), 'TEMPLATE_INVALID', EXIT.USAGE, /^t:2: not valid YAML: bad$/],
  ['seed.templateWithoutHeader', () => seed.templateWithoutHeader('t'), 'TEMPLATE_INVALID', EXIT.USAGE, /must start with the line "#cloud-config"/],
  ['seed.templateTooLarge', () => seed.templateTooLarge('t', 9), 'TEMPLATE_INVALID', EXIT.USAGE, /larger than 9 bytes/],
  ['seed.templateNotMapping', () => seed.templateNotMapping('t', 'meta-data'), 'TEMPLATE_INVALID', EXIT.USAGE, /the meta-data document must be a mapping/],
  ['seed.renderedDiffers', () => seed.renderedDiffers('t', 'user-data'), 'INTERNAL', EXIT.INTERNAL, /does not read back/],
  ['seed.templateMissing', () => seed.templateMissing('/t/user-data.template', 'h'), 'TEMPLATE_INVALID', EXIT.USAGE, /cannot read template \/t\/user-data.template \(ENOENT\)/],
  ['seed.inventoryNotYaml', () => seed.inventoryNotYaml('i.yaml', 4, 'bad'), 'CONFIG_INVALID', EXIT.USAGE, /^i.yaml:4: not valid YAML: bad$/],
  ['seed.inventoryUnreadable', () => seed.inventoryUnreadable('i.yaml', 'too many aliases'), 'CONFIG_INVALID', EXIT.USAGE, /^i.yaml: too many aliases$/],
  ['seed.inventoryTagProblems', () => seed.inventoryTagProblems(['a', 'b']), 'CONFIG_INVALID', EXIT.USAGE, /^a; b$/],
  ['seed.inventoryWithoutVms', () => seed.inventoryWithoutVms('i.yaml'), 'CONFIG_INVALID', EXIT.USAGE, /expected a non-empty list "vms:"/],
  ['seed.inventoryMissing', () => seed.inventoryMissing('i.yaml'), 'INPUT_NOT_FOUND', EXIT.USAGE, /cannot read the inventory i.yaml \(ENOENT\)/],
  ['seed.inventoryProblems', () => seed.inventoryProblems('i.yaml', ['a']), 'CONFIG_INVALID', EXIT.USAGE, /^i.yaml: 1 problem\(s\): a$/],
  ['seed.configProblems', () => seed.configProblems(['--ip (VM_IP): bad']), 'CONFIG_INVALID', EXIT.USAGE, /^--ip \(VM_IP\): bad$/],
  ['seed.sshKeyFileMissing', () => seed.sshKeyFileMissing('--ssh-key (SSH_KEY)', '/k.pub'), 'CONFIG_INVALID', EXIT.USAGE, /cannot read the key file \/k.pub \(ENOENT\)/],
  ['seed.outputDirNotDirectory', () => seed.outputDirNotDirectory('/f'), 'CONFIG_INVALID', EXIT.USAGE, /\/f exists and is not a directory/],
  ['interruptedError', () => interruptedError('SIGTERM'), 'INTERRUPTED', EXIT.INTERRUPTED, /^interrupted by SIGTERM$/],
];

describe('error factories', () => {
  it.each(cases)('%s', (_name, make, code, exit, message) => {
    const e = make();
    expect(e).toBeInstanceOf(QksError);
    expect(e.code).toBe(code);
    expect(e.exitCode).toBe(exit);
    expect(e.message).toMatch(message);
  });

  it('an abort without a reason of ours is the plain INTERRUPTED', () => {
    const c = new AbortController();
    c.abort();
    expect(abortError(c.signal).message).toBe('interrupted');
  });
});
