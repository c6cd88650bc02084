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
  unresolved(where: string, host: string): QksError {
    return new QksError('CONFIG_INVALID', `TLS ${where}: cannot resolve ${host}`, { hint: 'Check the host name in LIBVIRT_URI.', details: { host } });
  },
  /** Any other failure of the TLS connection: worth another try. */
  failed(where: string, e: NodeJS.ErrnoException): QksError {
    return new QksError('LIBVIRT_ERROR', `TLS ${where}: ${e.message}`, { details: { errno: e.code ?? '' }, retryable: true });
  },
  timeout(where: string, ms: number): QksError {
    return new QksError('LIBVIRT_TIMEOUT', `TLS ${where}: no TLS handshake within ${ms} ms`, { hint: 'Check the address and port, and that nothing drops the connection on the way.', details: { timeoutMs: ms } });
  },
};

/**
 * libvirt domain names are free text; a name we refuse is one that can never be one or would make a
 * remote path ambiguous (src/remote/destination.ts validateVmName).
 */
export function vmNameInvalid(name: string): QksError {
  return new QksError('USAGE', `invalid VM name ${JSON.stringify(name)}`, {
    hint: 'A libvirt domain name: no "/", ":" or control characters, not starting with "-", at most 200 characters.',
  });
}

export function remoteSessionUnsupported(): QksError {
  return new QksError('USAGE', 'qemu+ssh://HOST/session is not supported yet: the remote session tree depends on the remote user\'s environment', {
    hint: 'Use qemu+ssh://HOST/system, or run qemu-kubesolo on the hypervisor with qemu:///session.',
  });
}

/** ssh's -L syntax has no escape for ':', and a relative path means nothing on the far side. */
export function forwardPathInvalid(remotePath: string): QksError {
  return new QksError('USAGE', `cannot forward ${JSON.stringify(remotePath)}: it must be an absolute path without ":"`);
}

/** What remoteDiscoveryError reads of a RemoteDiscovery (./discover.ts), typed here so this file imports nothing back. */
export interface DiscoveryOutcome {
  via: string;
  forbidden: ReadonlyArray<{ path: string }>;
  searched: string[];
  denied: string[];
}

/** The error for a remote discovery that found nothing usable, naming the host. */
export function remoteDiscoveryError(d: DiscoveryOutcome, vmName: string): QksError {
  if (d.forbidden.length || d.denied.length) {
    const what = d.forbidden.length ? d.forbidden.map((s) => s.path) : d.denied;
    return new QksError('SOCKET_PERMISSION', `on ${d.via}: the SSH user may not open the agent socket of ${vmName} (${what.join(', ')})`, {
      hint: 'Log in as root (qemu+ssh://root@host/system) or as a member of the qemu group (libvirt-qemu on Debian): the socket is opened by sshd as the SSH user.',
      details: { host: d.via, vmName, forbidden: d.forbidden.map((s) => s.path), denied: d.denied },
    });
  }
  return new QksError('SOCKET_NOT_FOUND', `on ${d.via}: no guest-agent channel socket found for VM ${vmName}`, {
    hint: 'The VM is not running there, has another name, or has no guest-agent channel (add org.qemu.guest_agent.1).',
    details: { host: d.via, vmName, searched: d.searched },
  });
}
