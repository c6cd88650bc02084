/**
 * A real libvirtd for tests (root, no systemd), shared by every suite and left running: always started
 * as `libvirtd -d --listen -f <our conf>` — the host's own libvirtd.conf (so the local socket behaves
 * exactly as packaged) plus a TLS listener on 127.0.0.1 with a test PKI made by openssl under
 * /var/tmp/qks-libvirtd (for qemu+tls tests). A running daemon without that listener is restarted with
 * it (running domains survive a libvirtd restart). Transient test domains boot from the test initramfs
 * (test/vm/harness). This helper may use virsh to set things up; the code under test never does.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { buildTestInitramfs, testKernel } from '../vm/harness/initramfs.js';
import { IS_ROOT, which } from './peers.js';

export const LIBVIRT_SOCKET = '/var/run/libvirt/libvirt-sock';
export const IMAGES_DIR = '/var/lib/libvirt/images';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function virsh(args: string[], timeoutMs = 20_000): { ok: boolean; out: string; err: string } {
  const r = spawnSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { ok: r.status === 0, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** Why libvirtd tests cannot run here, or undefined. */
export function missingLibvirtd(): string | undefined {
  if (!IS_ROOT) return 'needs root (starts libvirtd, creates users and domains)';
  for (const c of ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64']) if (!which(c)) return `missing ${c} (npm run test:deps)`;
  return undefined;
}

const pgrep = (name: string) => spawnSync('pgrep', ['-x', name]).status === 0;
const pidsOf = (name: string) =>
  (spawnSync('pgrep', ['-x', name], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean).map(Number);

/** Where the shared daemon's test config and PKI live (persist across runs; built atomically). */
export const LIBVIRTD_STATE = '/var/tmp/qks-libvirtd';

export interface TestPki {
  /** pkipath= dirs (cacert.pem, clientcert.pem, clientkey.pem). */
  client: string;
  /** The client files of a second CA libvirtd does not trust (and which does not trust libvirtd). */
  otherCa: string;
  /** A client certificate that expired in 2020. */
  expired: string;
  /** cacert.pem of a second CA beside the good client certificate. */
  wrongCa: string;
  /** No clientcert.pem. */
  noCert: string;
  /** The server's files (libvirtd.conf key_file / cert_file / ca_file). */
  server: { cert: string; key: string; ca: string };
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

/** One CA (EC P-256, 10 years) in `dir`: ca.key, cacert.pem, and an `openssl ca` database. */
function makeCa(dir: string, cn: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'cacert.pem', '-days', '3650', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    ['[ca]', 'default_ca=qks', '[qks]', `dir=${dir}`, 'database=$dir/index.txt', 'serial=$dir/serial', 'new_certs_dir=$dir', 'certificate=$dir/cacert.pem', 'private_key=$dir/ca.key', 'default_md=sha256', 'policy=any', 'unique_subject=no', 'copy_extensions=none', '[any]', 'commonName=supplied', ''].join('\n'),
  );
}

/** A leaf key + certificate signed by the CA in `caDir`; `dates` = [start, end] as YYYYMMDDHHMMSSZ. */
function issue(caDir: string, out: string, name: string, cn: string, ext: string, dates?: [string, string]): void {
  mkdirSync(out, { recursive: true });
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(out, `${name}key.pem`), '-out', join(out, `${name}.csr`), '-subj', `/CN=${cn}`], out);
  writeFileSync(join(out, `${name}.ext`), ext);
  const when = dates ? ['-startdate', dates[0], '-enddate', dates[1]] : ['-days', '3650'];
  openssl(['ca', '-batch', '-notext', '-config', join(caDir, 'ca.cnf'), '-extfile', join(out, `${name}.ext`), '-in', join(out, `${name}.csr`), '-out', join(out, `${name}cert.pem`), ...when], caDir);
  rmSync(join(out, `${name}.csr`));
}

const SERVER_EXT = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n';
const CLIENT_EXT = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';

/** The test PKI (made once, in a temp dir renamed into place, so two runs never see half of it). */
export function testPki(): TestPki {
  const dir = join(LIBVIRTD_STATE, 'pki');
  const at = (p: string) => join(dir, p);
  if (!existsSync(at('done'))) {
    mkdirSync(LIBVIRTD_STATE, { recursive: true, mode: 0o755 });
    const tmp = mkdtempSync(join(LIBVIRTD_STATE, 'pki-'));
    const ca = join(tmp, 'ca');
    const other = join(tmp, 'other-ca');
    makeCa(ca, 'qks test CA');
    makeCa(other, 'qks other CA');
    issue(ca, join(tmp, 'server'), 'server', '127.0.0.1', SERVER_EXT);
    issue(ca, join(tmp, 'client'), 'client', 'qks-test-client', CLIENT_EXT);
    copyFileSync(join(ca, 'cacert.pem'), join(tmp, 'client/cacert.pem'));
    issue(other, join(tmp, 'other'), 'client', 'qks-other-client', CLIENT_EXT);
    copyFileSync(join(other, 'cacert.pem'), join(tmp, 'other/cacert.pem'));
    issue(ca, join(tmp, 'expired'), 'client', 'qks-expired-client', CLIENT_EXT, ['20200101000000Z', '20200102000000Z']);
    copyFileSync(join(ca, 'cacert.pem'), join(tmp, 'expired/cacert.pem'));
    mkdirSync(join(tmp, 'wrong-ca'));
    for (const f of ['clientcert.pem', 'clientkey.pem']) copyFileSync(join(tmp, 'client', f), join(tmp, 'wrong-ca', f));
    copyFileSync(join(other, 'cacert.pem'), join(tmp, 'wrong-ca/cacert.pem'));
    mkdirSync(join(tmp, 'no-cert'));
    for (const f of ['cacert.pem', 'clientkey.pem']) copyFileSync(join(tmp, 'client', f), join(tmp, 'no-cert', f));
    writeFileSync(join(tmp, 'done'), '');
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    // the libvirt-group test users read the client files (pkipath=) too
    execFileSync('chmod', ['-R', 'a+rX', dir]);
  }
  return {
    client: at('client'),
    otherCa: at('other'),
    expired: at('expired'),
    wrongCa: at('wrong-ca'),
    noCert: at('no-cert'),
    server: { cert: at('server/servercert.pem'), key: at('server/serverkey.pem'), ca: at('ca/cacert.pem') },
  };
}

/**
 * The TLS port of the shared daemon on 127.0.0.1: chosen once at random (not libvirt's 16514, which
 * a real listener of the host may hold) and kept in the state dir.
 */
export function libvirtdTlsPort(): number {
  const f = join(LIBVIRTD_STATE, 'tls-port');
  if (existsSync(f)) return Number(readFileSync(f, 'utf8').trim());
  mkdirSync(LIBVIRTD_STATE, { recursive: true });
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  writeFileSync(f, `${port}\n`);
  return port;
}

/** Our libvirtd.conf: the packaged one (the local socket as the host has it) plus the TLS listener. */
export function libvirtdConf(): string {
  const pki = testPki();
  const conf = join(LIBVIRTD_STATE, 'libvirtd.conf');
  const packaged = existsSync('/etc/libvirt/libvirtd.conf') ? readFileSync('/etc/libvirt/libvirtd.conf', 'utf8') : '';
  const text = [
    packaged,
    '# qemu-kubesolo tests: a TLS listener on loopback only (test/helpers/libvirtd.ts)',
    'listen_tls = 1',
    'listen_tcp = 0',
    'listen_addr = "127.0.0.1"',
    `tls_port = "${libvirtdTlsPort()}"`,
    `key_file = "${pki.server.key}"`,
    `cert_file = "${pki.server.cert}"`,
    `ca_file = "${pki.server.ca}"`,
    '',
  ].join('\n');
  if (!existsSync(conf) || readFileSync(conf, 'utf8') !== text) {
    writeFileSync(`${conf}.tmp`, text);
    renameSync(`${conf}.tmp`, conf);
  }
  return conf;
}

function tcpListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

async function waitGone(pid: number, boundMs: number): Promise<void> {
  const until = Date.now() + boundMs;
  while (Date.now() < until) {
    try {
      process.kill(pid, 0);
      if (/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return;
    } catch {
      return;
    }
    await sleep(100);
  }
  throw new Error(`libvirtd ${pid} did not exit within ${boundMs} ms`);
}

async function startDaemon(): Promise<void> {
  if (!pgrep('virtlogd')) execFileSync('virtlogd', ['-d'], { timeout: 10_000 });
  execFileSync('libvirtd', ['-d', '--listen', '-f', libvirtdConf()], { timeout: 30_000 });
  for (let i = 0; i < 60 && !(virsh(['version'], 5_000).ok && (await tcpListening(libvirtdTlsPort()))); i++) await sleep(500);
}

/**
 * Restarts the shared libvirtd, always with our config (ensureLibvirtd's: the packaged one plus the TLS
 * listener), and waits until it answers. Running domains survive (libvirtd reconnects to their QEMU
 * monitors and agents on start). Ends only the daemon it finds by pid; a zombie counts as gone.
 * For the agent suite's restart test; shared daemon: call it last.
 */
export async function restartLibvirtd(timeoutMs = 60_000): Promise<void> {
  for (const pid of pidsOf('libvirtd')) {
    process.kill(pid, 'SIGTERM');
    await waitGone(pid, timeoutMs);
  }
  await startDaemon();
  const end = Date.now() + timeoutMs;
  while (!virsh(['version'], 5_000).ok) {
    if (Date.now() > end) throw new Error('libvirtd did not come back');
    await sleep(200);
  }
}

/**
 * Starts dbus + polkitd (for libvirt-group users), virtlogd and libvirtd when libvirtd does not answer.
 * Returns what it started; it leaves them running (other suites share the daemon).
 */
export async function ensureLibvirtd(): Promise<{ started: string[]; version: string; tlsPort: number; pki: TestPki }> {
  const started: string[] = [];
  if (existsSync('/usr/lib/polkit-1/polkitd') && !pgrep('polkitd')) {
    mkdirSync('/run/dbus', { recursive: true });
    if (spawnSync('pgrep', ['-f', 'dbus-daemon.*--system']).status !== 0) {
      // leftovers of a daemon that is gone (a restarted container) make dbus-daemon refuse to start
      for (const f of ['/run/dbus/pid', '/run/dbus/system_bus_socket']) rmSync(f, { force: true });
      execFileSync('dbus-daemon', ['--system', '--fork'], { timeout: 10_000 });
      started.push('dbus-daemon');
    }
    spawn('/usr/lib/polkit-1/polkitd', ['--no-debug'], { detached: true, stdio: 'ignore' }).unref();
    started.push('polkitd');
    for (let i = 0; i < 50 && !pgrep('polkitd'); i++) await sleep(100);
  }
  if (!virsh(['version'], 5_000).ok && !pgrep('libvirtd')) {
    await startDaemon();
    started.push('libvirtd');
  } else if (!(await tcpListening(libvirtdTlsPort()))) {
    // a daemon from before (or from another way of starting it) without the TLS listener: restart it with ours
    await restartLibvirtd();
    started.push('libvirtd (restarted with the TLS listener)');
  }
  for (let i = 0; i < 60 && !virsh(['version'], 5_000).ok; i++) await sleep(500);
  const v = virsh(['version']);
  if (!v.ok) throw new Error(`libvirtd does not answer: ${v.err}`);
  return { started, version: /libvirt ([\d.]+)/i.exec(v.out)?.[1] ?? 'unknown', tlsPort: libvirtdTlsPort(), pki: testPki() };
}

/** The newest test initramfs the VM tier built (.cache/vm/), for callers that cannot build one (bundled benches). */
export function newestTestInitramfs(cwd = process.cwd()): string | undefined {
  const dir = join(cwd, '.cache/vm');
  if (!existsSync(dir)) return undefined;
  return readdirSync(dir)
    .filter((x) => /^initramfs-.*\.cpio\.gz$/.test(x))
    .map((x) => join(dir, x))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

export interface TestDomain {
  name: string;
  dir: string;
  consoleLog: string;
  /** Waits until libvirt's agent connection answers guest-ping (bounded). */
  waitForAgent(timeoutMs?: number): Promise<number>;
  /** Waits for a line on the serial console. */
  waitForConsole(pattern: RegExp, timeoutMs?: number): Promise<void>;
  destroy(): void;
}

export interface TestDomainOptions {
  name: string;
  /** Kernel arguments after console=ttyS0 (e.g. qks_noagent=1, kc_delay=0). */
  kernelArgs?: string;
  /** virtio-serial channel target names, each a unix socket libvirt places. */
  channels?: string[];
  memoryMiB?: number;
  /** A prebuilt initramfs (default: build or reuse the test harness's). */
  initrd?: string;
}

export function domainXml(o: Required<Omit<TestDomainOptions, 'initrd'>> & { kernel: string; initrd: string; consoleLog: string }): string {
  const channels = o.channels
    .map((c) => `    <channel type='unix'><source mode='bind'/><target type='virtio' name='${c}'/></channel>`)
    .join('\n');
  return `<domain type='qemu'>
  <name>${o.name}</name>
  <memory unit='MiB'>${o.memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${o.kernel}</kernel>
    <initrd>${o.initrd}</initrd>
    <cmdline>console=ttyS0 quiet qks_ports=${o.channels.length} ${o.kernelArgs}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <serial type='file'><source path='${o.consoleLog}'/><target port='0'/></serial>
${channels}
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

/** Creates a transient domain (gone when destroyed) from the test initramfs and the host's kernel. */
export async function startTestDomain(opts: TestDomainOptions): Promise<TestDomain> {
  const { initrd: prebuilt, ...rest } = opts;
  const o: Required<Omit<TestDomainOptions, 'initrd'>> = {
    kernelArgs: 'kc_delay=0',
    channels: ['org.qemu.guest_agent.0', 'org.qemu.guest_agent.1'],
    memoryMiB: 256,
    ...rest,
  };
  virsh(['destroy', o.name]); // a leftover of an interrupted run
  const dir = join(IMAGES_DIR, `qks-test-${o.name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.gz');
  const consoleLog = join(dir, 'console.log');
  copyFileSync(testKernel().vmlinuz, kernel);
  copyFileSync(prebuilt ?? (await buildTestInitramfs()), initrd);
  writeFileSync(consoleLog, '');
  const qemuUser = spawnSync('id', ['-u', 'libvirt-qemu']);
  if (qemuUser.status === 0) {
    const uid = Number(qemuUser.stdout.toString());
    for (const f of [dir, kernel, initrd, consoleLog]) chownSync(f, uid, -1);
  }
  const xmlPath = join(dir, 'domain.xml');
  writeFileSync(xmlPath, domainXml({ ...o, kernel, initrd, consoleLog }));
  const r = virsh(['create', xmlPath], 60_000);
  if (!r.ok) throw new Error(`virsh create ${o.name}: ${r.err}`);

  const readConsole = () => (existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '');
  return {
    name: o.name,
    dir,
    consoleLog,
    async waitForConsole(pattern, timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      while (!pattern.test(readConsole())) {
        if (Date.now() > end) throw new Error(`${o.name}: no ${pattern} on the console within ${timeoutMs} ms:\n${readConsole().slice(-2000)}`);
        await sleep(200);
      }
    },
    async waitForAgent(timeoutMs = 90_000) {
      const started = Date.now();
      const end = started + timeoutMs;
      for (;;) {
        const p = virsh(['qemu-agent-command', '--timeout', '2', o.name, '{"execute":"guest-ping"}'], 10_000);
        if (p.ok) return Date.now() - started;
        if (Date.now() > end) throw new Error(`${o.name}: agent not answering within ${timeoutMs} ms: ${p.err}\n${readConsole().slice(-2000)}`);
        await sleep(500);
      }
    },
    destroy() {
      virsh(['destroy', o.name]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates (if absent) a system user for the tests, in the given supplementary groups. */
export function ensureUser(name: string, groups: string[] = []): { uid: number; gid: number } {
  if (spawnSync('id', ['-u', name]).status !== 0) {
    execFileSync('useradd', ['-M', '-s', '/bin/sh', ...(groups.length ? ['-G', groups.join(',')] : []), name]);
  } else {
    execFileSync('usermod', ['-G', groups.join(','), name]);
  }
  // a locked password ('!') makes sshd (UsePAM no) refuse even key logins: '*' is no password, unlocked
  execFileSync('usermod', ['-p', '*', name]);
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Running domains that are not this suite's (their names do not start with `prefix`). */
export function foreignDomains(prefix: string): string[] {
  return virsh(['list', '--name']).out.split('\n').map((s) => s.trim()).filter((n) => n && !n.startsWith(prefix));
}
