/** doctor: the TLS hop of a qemu+tls URI — client PKI found and valid, handshake, server certificate. */
import { toQksError } from '../../errors.js';
import { probeTls } from '../../remote/tls.js';
import { skipped, type Check } from '../types.js';

export const tlsHopCheck: Check = {
  id: 'tls-hop',
  title: 'TLS hop to libvirtd',
  async run(s) {
    if (s.uri.transport !== 'tls') return skipped(`${s.uri.raw} is not qemu+tls: no TLS hop`);
    try {
      const r = await probeTls(s.uri, { env: s.env, ...(s.options.uid !== undefined ? { uid: s.options.uid } : {}), ...(s.options.signal ? { signal: s.options.signal } : {}) });
      const check = r.verified ? `server certificate ${r.server} verified for ${s.uri.host}` : `server certificate ${r.server} NOT checked (no_verify=1)`;
      return { status: r.verified ? 'ok' : 'warn', detail: `${r.where}: ${r.protocol}, ${check}; client PKI from ${r.pkiDir} (${r.ms} ms)`, ...(r.verified ? {} : { fix: 'Drop no_verify=1 once the server certificate names the host.' }), data: r };
    } catch (e) {
      const err = toQksError(e);
      return { status: 'fail', detail: `${err.message} [${err.code}]`, ...(err.hint ? { fix: err.hint } : {}), data: { code: err.code } };
    }
  },
};
