#!/usr/bin/python3
# Test harness (Alpine-shaped guest): a stand-in for the kubesolo binary, packed by the harness as the
# "kubesolo" of a release tarball. It does what the tool relies on and nothing more: it takes
# --path and --apiserver-extra-sans as Kubesolo does, makes a CA, an API certificate (Kubesolo's own
# SANs, the node's IPv4 addresses and the extra ones) and a client certificate once, writes
# <path>/pki/admin/admin.kubeconfig, and serves /version and /readyz over TLS on 6443, asking for a
# client certificate of that CA.
import base64, http.server, ipaddress, json, os, ssl, subprocess, sys

args = dict(a[2:].split('=', 1) for a in sys.argv[1:] if a.startswith('--') and '=' in a)
path = args.get('path', '/var/lib/kubesolo')
extra = [s for s in args.get('apiserver-extra-sans', '').split(',') if s]
pki = os.path.join(path, 'pki')
admin = os.path.join(pki, 'admin')
os.makedirs(admin, exist_ok=True)


def openssl(*a):
    subprocess.run(['openssl', *a], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def node_ips():
    out = subprocess.run(['ip', '-4', '-o', 'addr', 'show'], capture_output=True, text=True).stdout
    return [l.split()[3].split('/')[0] for l in out.splitlines() if len(l.split()) > 3]


def san_entry(s):
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        return 'DNS:' + s
    # as Kubesolo's addExtraSANs: IPv4 addresses and DNS names, anything else skipped
    return 'IP:' + s if ip.version == 4 else None


ca, ca_key = os.path.join(pki, 'ca.crt'), os.path.join(pki, 'ca.key')
crt, key = os.path.join(pki, 'apiserver.crt'), os.path.join(pki, 'apiserver.key')
ccrt, ckey = os.path.join(admin, 'client.crt'), os.path.join(admin, 'client.key')
kubeconfig = os.path.join(admin, 'admin.kubeconfig')
if not os.path.exists(kubeconfig):
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
            '-subj', '/CN=kubesolo-ca', '-keyout', ca_key, '-out', ca)
    sans = ['DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc',
            'DNS:kubernetes.default.svc.cluster.local', 'DNS:localhost', 'IP:127.0.0.1', 'IP:10.43.0.1']
    sans += ['IP:' + i for i in node_ips() if 'IP:' + i not in sans]
    sans += [e for e in map(san_entry, extra) if e and e not in sans]
    ext = os.path.join(pki, 'san.ext')
    with open(ext, 'w') as f:
        f.write('subjectAltName=' + ','.join(sans) + '\nextendedKeyUsage=serverAuth\n')
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=kube-apiserver',
            '-keyout', key, '-out', crt + '.csr')
    openssl('x509', '-req', '-in', crt + '.csr', '-CA', ca, '-CAkey', ca_key, '-CAcreateserial', '-days', '30',
            '-extfile', ext, '-out', crt)
    cext = os.path.join(pki, 'client.ext')
    with open(cext, 'w') as f:
        f.write('extendedKeyUsage=clientAuth\n')
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
            '-subj', '/O=system:masters/CN=kubernetes-admin', '-keyout', ckey, '-out', ccrt + '.csr')
    openssl('x509', '-req', '-in', ccrt + '.csr', '-CA', ca, '-CAkey', ca_key, '-CAcreateserial', '-days', '30',
            '-extfile', cext, '-out', ccrt)
    b64 = lambda p: base64.b64encode(open(p, 'rb').read()).decode()
    doc = f"""apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: {b64(ca)}
    server: https://127.0.0.1:6443
  name: kubesolo
contexts:
- context:
    cluster: kubesolo
    user: kubernetes-admin
  name: kubernetes-admin@kubesolo
current-context: kubernetes-admin@kubesolo
preferences: {{}}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: {b64(ccrt)}
    client-key-data: {b64(ckey)}
"""
    tmp = kubeconfig + '.tmp'
    with open(tmp, 'w') as f:
        f.write(doc)
    os.chmod(tmp, 0o600)
    os.rename(tmp, kubeconfig)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith('/readyz') or self.path.startswith('/livez'):
            body, ctype = b'ok', 'text/plain'
        elif self.path.startswith('/version'):
            body = json.dumps({'major': '1', 'minor': '34', 'gitVersion': 'v1.34.8-qks-standin', 'platform': 'linux/amd64'}).encode()
            ctype = 'application/json'
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *a):
        sys.stderr.write('kubesolo stand-in: ' + (fmt % a) + '\n')


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(crt, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED
server = http.server.ThreadingHTTPServer(('0.0.0.0', 6443), Handler)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print('kubesolo stand-in: serving on :6443', flush=True)
server.serve_forever()
