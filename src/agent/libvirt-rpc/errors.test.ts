import { describe, expect, it } from 'vitest';
import { libvirtErrorToQks, VirErr } from './errors.js';
import { decodeRemoteError, encodeRemoteError } from './protocol.js';

const err = (code: number, message: string) => decodeRemoteError(encodeRemoteError({ code, domain: 10, message }).toBuffer());
const map = (code: number, message: string) => libvirtErrorToQks(err(code, message), { operation: 'guest-exec', command: 'guest-exec', domain: 'vm1' });

describe('libvirt errors to QksErrors', () => {
  it('round-trips a remote_error through its XDR encoding', () => {
    expect(err(42, 'Domain not found')).toMatchObject({ code: 42, domain: 10, message: 'Domain not found', str1: null, int1: 0 });
  });

  it.each([
    [VirErr.NO_DOMAIN, "Domain not found: no domain with matching name 'vm1'", 'VM_NOT_FOUND'],
    [VirErr.OPERATION_INVALID, 'Requested operation is not valid: domain is not running', 'VM_NOT_FOUND'],
    [VirErr.AGENT_UNRESPONSIVE, 'Guest agent is not responding: QEMU guest agent is not connected', 'AGENT_NOT_CONNECTED'],
    [VirErr.AGENT_UNRESPONSIVE, 'Guest agent is not responding: Guest agent not available for now', 'AGENT_TIMEOUT'],
    [VirErr.AGENT_UNRESPONSIVE, 'Guest agent is not responding: Guest agent disappeared while executing command', 'AGENT_DISCONNECTED'],
    [VirErr.ARGUMENT_UNSUPPORTED, 'argument unsupported: QEMU guest agent is not configured', 'AGENT_NOT_CONNECTED'],
    [VirErr.AUTH_UNAVAILABLE, "authentication unavailable: no polkit agent available to authenticate action 'org.libvirt.unix.manage'", 'LIBVIRT_AUTH'],
    [VirErr.AUTH_FAILED, 'authentication failed: access denied', 'LIBVIRT_AUTH'],
    [VirErr.ACCESS_DENIED, "access denied: 'domain:write' denied", 'LIBVIRT_AUTH'],
    [VirErr.OPERATION_TIMEOUT, 'Timed out during operation: cannot acquire state change lock', 'AGENT_TIMEOUT'],
    [VirErr.INTERNAL_ERROR, "internal error: unable to execute QEMU agent command 'guest-exec': Command guest-exec has been disabled", 'COMMAND_DISABLED'],
    [VirErr.INTERNAL_ERROR, "internal error: unable to execute QEMU agent command 'guest-exec': The command guest-exec has not been found", 'COMMAND_FAILED'],
    [VirErr.INTERNAL_ERROR, "internal error: unable to execute QEMU agent command 'guest-file-open': failed to open file '/x' (mode: 'r'): No such file or directory", 'COMMAND_FAILED'],
    [VirErr.INTERNAL_ERROR, 'internal error: something else', 'LIBVIRT_ERROR'],
    [VirErr.OPERATION_INVALID, 'Requested operation is not valid: something else', 'LIBVIRT_ERROR'],
  ])('%i %s → %s', (code, message, want) => {
    const e = map(code, message);
    expect(e.code).toBe(want);
    expect(e.details).toMatchObject({ libvirtCode: code, libvirtMessage: message });
    if (want === 'LIBVIRT_AUTH') expect(e.hint).toMatch(/usermod -aG libvirt/);
  });

  it("keeps the agent's description where the client looks for it (details.desc)", () => {
    const e = map(VirErr.INTERNAL_ERROR, "internal error: unable to execute QEMU agent command 'guest-file-open': failed to open file '/x' (mode: 'r'): No such file or directory");
    expect(e.details).toMatchObject({ command: 'guest-file-open', class: 'GenericError', desc: "failed to open file '/x' (mode: 'r'): No such file or directory" });
  });
});
