/**
 * The remote transports' errors (qemu+ssh through libvirtd, qemu+tls), built in one place so the
 * chooser, doctor and the CLI say the same thing about the same failure.
 */
import { QksError } from '../errors.js';
import { LIBVIRT_AUTH_HINT } from '../agent/libvirt-rpc/errors.js';

const NETCAT_HINT = 'Install virt-ssh-helper there (Debian/Ubuntu: libvirt-daemon; RHEL: libvirt-daemon) or netcat with -U (netcat-openbsd, nmap-ncat); or point netcat= at it.';

/**
 * What the remote helper's exit says (src/remote/libvirtd.ts's script exits 97-99 for its own cases;
 * virt-ssh-helper and nc print why they could not reach the daemon).
 */
export function remoteHelperError(via: string, code: number | null, stderr: string, proxy: string): QksError {
  const said = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' / ') || `exit ${code}`;
  const details = { host: via, exitCode: code, stderr: said.slice(0, 500), proxy };
  if (code === 98) {
    return new QksError('LIBVIRT_NOT_RUNNING', `on ${via}: proxy=native but virt-ssh-helper is not installed`, { hint: `Use proxy=auto or proxy=netcat, or ${NETCAT_HINT}`, details });
  }
  if (code === 97) return new QksError('LIBVIRT_ERROR', `on ${via}: neither virt-ssh-helper nor netcat is there to reach libvirtd`, { hint: NETCAT_HINT, details });
  if (code === 99 || /No such file|Connection refused|Failed to connect socket|connect failed|not running/i.test(stderr)) {
    return new QksError('LIBVIRT_NOT_RUNNING', `on ${via}: libvirtd is not running (${said})`, {
      hint: 'Start libvirtd there (systemctl start libvirtd, or virtqemud on modular hosts), or give its socket with socket= in the URI.',
      details,
    });
  }
  if (/Permission denied|EACCES|not authorized|authentication/i.test(stderr)) {
    return new QksError('LIBVIRT_AUTH', `on ${via}: the SSH user may not open libvirtd's socket (${said})`, { hint: `${LIBVIRT_AUTH_HINT} (on the far side, for the SSH user)`, details });
  }
  return new QksError('LIBVIRT_ERROR', `on ${via}: the remote libvirt helper ended (${said})`, { hint: 'Run the same by hand: ssh HOST virt-ssh-helper qemu:///system (or nc -U /var/run/libvirt/libvirt-sock).', details, retryable: true });
}

export function tcpNotSupported(raw: string): QksError {
  return new QksError('CONFIG_INVALID', `LIBVIRT_URI ${JSON.stringify(raw)}: qemu+tcp (plain TCP, SASL) is not supported`, {
    hint: 'Use qemu+tls://HOST/system (libvirt\'s TLS listener, port 16514) or qemu+ssh://USER@HOST/system instead.',
  });
}

export function saslNotSupported(where: string, types: number[]): QksError {
  return new QksError('LIBVIRT_AUTH', `${where}: libvirtd asks for SASL, which this tool does not speak (auth types ${types.join(', ')})`, {
    hint: 'Use qemu+ssh:// (libvirtd authenticates the SSH user as a local one), or auth_tls = "none" with client certificates for qemu+tls.',
    details: { authTypes: types },
  });
}

/** The TLS failures: each says which file or setting fixes it. */
export const tlsError = {
  missingFile(which: string, path: string, pkiDir: string): QksError {
    return new QksError('TLS_VERIFY_FAILED', `TLS: the ${which} ${path} is missing`, {
      hint: `Put libvirt's client PKI in ${pkiDir} (cacert.pem, clientcert.pem, clientkey.pem; libvirt kbase "tlscerts"), or point ?pkipath=DIR at it.`,
      details: { path, pkiDir },
    });
  },
  badFile(which: string, path: string, why: string): QksError {
    return new QksError('TLS_VERIFY_FAILED', `TLS: the ${which} ${path} is not usable: ${why}`, { hint: 'Re-issue it from the CA libvirtd trusts (PEM format).', details: { path } });
  },
  clientExpired(path: string, validTo: string): QksError {
    return new QksError('TLS_VERIFY_FAILED', `TLS: the client certificate ${path} expired on ${validTo}`, { hint: 'Issue a new client certificate from the CA libvirtd trusts and replace clientcert.pem (and clientkey.pem).', details: { path, validTo } });
  },
  clientNotYetValid(path: string, validFrom: string): QksError {
    return new QksError('TLS_VERIFY_FAILED', `TLS: the client certificate ${path} is not valid before ${validFrom}`, { hint: 'Check this machine\'s clock, or re-issue the certificate.', details: { path, validFrom } });
  },
  clientNotFromCa(cert: string, ca: string): QksError {
    return new QksError('TLS_VERIFY_FAILED', `TLS: the client certificate ${cert} was not issued by the CA in ${ca}`, { hint: 'Use the client certificate and the cacert.pem of the same CA (the one libvirtd\'s ca_file names).', details: { cert, ca } });
  },
  serverUntrusted(where: string, why: string, ca: string): QksError {
    return new QksError('TLS_VERIFY_FAILED', `TLS ${where}: the server certificate is not trusted (${why})`, {
      hint: `${ca} must be the CA that signed libvirtd's servercert.pem; copy the right cacert.pem (or ?no_verify=1 to skip the check, as libvirt does).`,
      details: { ca, why },
    });
  },
  serverName(where: string, host: string, why: string): QksError {
    return new QksError('TLS_VERIFY_FAILED', `TLS ${where}: the server certificate does not name ${host} (${why})`, {
      hint: `Connect with a name the certificate carries (its subjectAltName), or re-issue libvirtd's servercert.pem with ${host} in it; ?no_verify=1 skips the check.`,
      details: { host, why },
    });
  },
  clientRefused(where: string, why: string): QksError {
    return new QksError('TLS_VERIFY_FAILED', `TLS ${where}: libvirtd refused our client certificate (${why})`, {
      hint: 'libvirtd must trust the CA that issued clientcert.pem (its ca_file), and tls_allowed_dn_list, if set, must list the certificate\'s subject.',
      details: { why },
    });
  },
  notListening(where: string, why: string): QksError {
    return new QksError('LIBVIRT_NOT_RUNNING', `TLS ${where}: nothing accepts connections (${why})`, {
      hint: 'Turn on libvirtd\'s TLS listener: listen_tls = 1 in libvirtd.conf with libvirtd --listen (or the libvirtd-tls.socket unit), and open port 16514.',
      details: { why },
    });
  },
  timeout(where: string, ms: number): QksError {
    return new QksError('LIBVIRT_TIMEOUT', `TLS ${where}: no TLS handshake within ${ms} ms`, { hint: 'Check the address and port, and that nothing drops the connection on the way.', details: { timeoutMs: ms } });
  },
};
