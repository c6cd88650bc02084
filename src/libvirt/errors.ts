/**
 * libvirt's own inputs (connection URIs) as QksErrors: every check of LIBVIRT_URI, local or remote
 * (src/libvirt/uri.ts, src/remote/destination.ts, src/remote/tls.ts), says it the same way.
 */
import { QksError } from '../errors.js';

/** The URI forms this tool speaks, for a URI that is none of them. */
export const URI_FORMS_HINT = 'Use qemu:///system, qemu:///session, qemu+ssh://[user@]host[:port]/system or qemu+tls://host[:port]/system.';

/** A LIBVIRT_URI (or --libvirt-uri) we cannot use: `why` names the part, `hint` the form that works there. */
export function uriInvalid(raw: string, why: string, hint: string = URI_FORMS_HINT): QksError {
  return new QksError('CONFIG_INVALID', `LIBVIRT_URI ${JSON.stringify(raw)}: ${why}`, { hint });
}

/** A URI parameter the transport does not honour (`over`: "ssh", "TLS"). */
export function uriParamsUnsupported(raw: string, unsupported: string[], over: string, supported: readonly string[], hint: string): QksError {
  return uriInvalid(raw, `parameter ${unsupported.join(', ')} is not supported over ${over} (supported: ${supported.join(', ')})`, hint);
}

/** --network in none of its three forms. */
export function networkInvalid(raw: string): QksError {
  return new QksError('USAGE', `--network ${JSON.stringify(raw)}: expected network=NAME, bridge=IFACE or none`, {
    hint: 'e.g. --network network=default or --network bridge=br0',
  });
}

/** The domain's fields failed their schema: `message` names each field as the caller's options do. */
export function domainSpecInvalid(message: string): QksError {
  return new QksError('CONFIG_INVALID', message, { hint: 'Fix the value named above; see --help for the accepted forms.' });
}
