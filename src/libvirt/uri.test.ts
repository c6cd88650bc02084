import { describe, expect, it } from 'vitest';
import { libvirtdSocketCandidates, parseLibvirtUri } from './uri.js';

describe('parseLibvirtUri', () => {
  it('parses local URIs', () => {
    expect(parseLibvirtUri('qemu:///system')).toMatchObject({ transport: 'unix', mode: 'system', params: {} });
    expect(parseLibvirtUri('qemu:///session')).toMatchObject({ transport: 'unix', mode: 'session' });
    expect(parseLibvirtUri('qemu+unix:///system?socket=/tmp/s')).toMatchObject({ params: { socket: '/tmp/s' } });
  });

  it('parses qemu+ssh with user, host, port and params', () => {
    expect(parseLibvirtUri('qemu+ssh://root@hv1.example.com:2222/system?keyfile=/k&no_verify=1')).toEqual({
      raw: 'qemu+ssh://root@hv1.example.com:2222/system?keyfile=/k&no_verify=1',
      driver: 'qemu',
      transport: 'ssh',
      user: 'root',
      host: 'hv1.example.com',
      port: 2222,
      mode: 'system',
      params: { keyfile: '/k', no_verify: '1' },
    });
    expect(parseLibvirtUri('qemu+ssh://[::1]/system')).toMatchObject({ host: '::1' });
  });

  it('parses qemu+tls, and a host without a transport as TLS (as libvirt does)', () => {
    expect(parseLibvirtUri('qemu+tls://hv1:16600/system?pkipath=/p')).toMatchObject({ transport: 'tls', host: 'hv1', port: 16600, params: { pkipath: '/p' } });
    expect(parseLibvirtUri('qemu://hv1/system')).toMatchObject({ transport: 'tls', host: 'hv1' });
  });

  it.each([
    ['qemu+tcp://h/system', /qemu\+tcp .*is not supported/],
    ['qemu+libssh2://h/system', /transport "libssh2"/],
    ['xen:///system', /driver "xen"/],
    ['qemu+tls:///system', /needs a host/],
    ['qemu+unix://h/system', /unix URI has no host/],
    ['qemu:///other', /must be \/system or \/session/],
    ['qemu+ssh:///system', /needs a host/],
    ['qemu+ssh://h:99999/system', /out of range/],
    ['not a uri', /not a libvirt URI/],
  ])('refuses %s with a clear error', (raw, re) => {
    expect(() => parseLibvirtUri(raw)).toThrow(re);
  });

  it('names the alternative to qemu+tcp (no hang: refused before any connection)', () => {
    expect(() => parseLibvirtUri('qemu+tcp://h/system')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', hint: expect.stringMatching(/qemu\+tls.*qemu\+ssh/) }));
  });

  it('finds libvirtd sockets', () => {
    expect(libvirtdSocketCandidates(parseLibvirtUri('qemu:///system'))).toEqual(['/var/run/libvirt/libvirt-sock', '/var/run/libvirt/virtqemud-sock']);
    expect(libvirtdSocketCandidates(parseLibvirtUri('qemu:///system?socket=/x'))).toEqual(['/x']);
    expect(libvirtdSocketCandidates(parseLibvirtUri('qemu:///session'), { XDG_RUNTIME_DIR: '/run/user/7' })[0]).toBe('/run/user/7/libvirt/virtqemud-sock');
  });
});
