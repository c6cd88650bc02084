// `qemu-kubesolo artifacts` run as a process (the bundle), the guide's script and `make artifacts`.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { verify } from 'unixcrypt';
import { CLI_BUNDLE, runCli } from '../helpers/cli.js';
import { describeWithPeers } from '../helpers/peers.js';
import { ED25519_KEY, SK_ED25519_KEY, sshKeygen } from './keys.js';
import { ROOT } from './embed.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'qks-art-'));
/** A clean environment: no VM_* variables from the caller, a HOME without keys. */
const envWith = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ HOME: tmp(), NO_COLOR: '1', ...extra });
const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { cleanEnv: true, env: envWith(extra) });
const yamlOf = (path: string) => parse(readFileSync(path, 'utf8')) as Record<string, any>;
const mode = (p: string) => statSync(p).mode & 0o777;

const GUIDE_FLAGS = (out: string) => [
  '--ssh-key', ED25519_KEY, '--hostname', 'prod-kubesolo-01', '--username', 'alpine', '--password', 'your-secure-password',
  '--auto-install-kubesolo', '--kubesolo-version', 'v1.1.0', '--output-dir', out, '--create-iso',
];

describe('qemu-kubesolo artifacts', () => {
  it("writes the guide's artifacts: dir 0700, files 0600, ISO, JSON result with sha256 and the virt-install line", async () => {
    const out = join(tmp(), 'my-artifacts');
    const r = await run(['--json', 'artifacts', ...GUIDE_FLAGS(out)]);
    expect(r.code, r.stderr).toBe(0);
    expect(mode(out)).toBe(0o700);
    expect(readdirSync(out).sort()).toEqual(['cidata.iso', 'meta-data', 'user-data']);
    for (const f of readdirSync(out)) expect(mode(join(out, f)), f).toBe(0o600);
    const res = r.json[0] as any;
    expect(res).toMatchObject({ ok: true, hostname: 'prod-kubesolo-01', outputDir: out, iso: join(out, 'cidata.iso'), removed: [] });
    for (const f of res.files) {
      const data = readFileSync(f.path);
      expect(f.bytes).toBe(data.length);
      expect(f.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    }
    const ud = yamlOf(join(out, 'user-data'));
    expect(readFileSync(join(out, 'user-data'), 'utf8').startsWith('#cloud-config\n')).toBe(true);
    expect(readFileSync(join(out, 'user-data'), 'utf8')).not.toContain('your-secure-password');
    expect(verify('your-secure-password', ud.users[0].hashed_passwd)).toBe(true);
    expect(ud.users[0].ssh_authorized_keys).toEqual([ED25519_KEY]);
    expect(ud.runcmd).toContain('/usr/local/sbin/qemu-kubesolo-install');
    expect(yamlOf(join(out, 'meta-data'))).toEqual({ 'instance-id': res.instanceId, 'local-hostname': 'prod-kubesolo-01' });
    expect(res.virtInstall.argv).toEqual(expect.arrayContaining([
      '--name', 'prod-kubesolo-01', '--disk', `path=${join(out, 'cidata.iso')},device=cdrom`,
      '--channel', 'unix,target_type=virtio,name=org.qemu.guest_agent.0', '--channel', 'unix,target_type=virtio,name=org.qemu.guest_agent.1',
    ]));
    expect(r.stderr).toContain('virt-install \\\n  --name prod-kubesolo-01');
  });

  it('takes flags over environment variables over defaults (the guide\'s table)', async () => {
    const out = tmp();
    const env = { VM_HOSTNAME: 'env-host', VM_USER: 'envuser', AUTO_INSTALL_KUBESOLO: 'true', KUBESOLO_RELEASE: 'v1.0.9', SSH_PUBLIC_KEY: ED25519_KEY, ARTIFACTS_DIR: out };
    const r1 = await run(['artifacts', '--json'], env);
    expect(r1.code, r1.stderr).toBe(0);
    let ud = yamlOf(join(out, 'user-data'));
    expect(ud.hostname).toBe('env-host');
    expect(ud.users[0].name).toBe('envuser');
    expect(JSON.stringify(ud.write_files)).toContain('kubesolo-v1.0.9-linux-');
    expect(r1.stderr).toContain('default "alpine"'); // VM_PASSWORD unset: the default, with a warning
    const r2 = await run(['artifacts', '--hostname', 'flag-host', '--no-auto-install-kubesolo', '--arch', 'arm64'], env);
    expect(r2.code, r2.stderr).toBe(0);
    ud = yamlOf(join(out, 'user-data'));
    expect(ud.hostname).toBe('flag-host');
    expect(ud.users[0].name).toBe('envuser');
    expect(ud.runcmd).not.toContain('/usr/local/sbin/qemu-kubesolo-install');
    expect(JSON.stringify(ud.write_files)).not.toContain('/etc/init.d/kubesolo"');
  });

  it('auto-detects the key from ~/.ssh and puts --api-address values into --apiserver-extra-sans', async () => {
    const home = tmp();
    mkdirSync(join(home, '.ssh'));
    const { publicKey } = sshKeygen('ed25519');
    writeFileSync(join(home, '.ssh', 'id_ed25519.pub'), publicKey + '\n');
    const out = tmp();
    const r = await runCli(['artifacts', '--output-dir', out, '--auto-install-kubesolo', '--api-address', '203.0.113.10', '--api-address', 'k8s.example.com'], { cleanEnv: true, env: { HOME: home } });
    expect(r.code, r.stderr).toBe(0);
    const ud = yamlOf(join(out, 'user-data'));
    expect(ud.users[0].ssh_authorized_keys).toEqual([publicKey]);
    const svc = ud.write_files.find((f: any) => f.path === '/etc/init.d/kubesolo').content as string;
    expect(svc).toContain('command_args="--path=/var/lib/kubesolo --apiserver-extra-sans=203.0.113.10,k8s.example.com"');
    for (const bad of ['203.0.113.10"; reboot; "', 'https://k8s.example.com', 'a b\nc']) {
      const rb = await run(['artifacts', '--output-dir', tmp(), '--api-address', bad]);
      expect(rb.code).toBe(2);
      expect(rb.stderr).toContain('--api-address (KUBECONFIG_API_ADDRESS)');
    }
  });

  it('bad input: exit 2, the flag and variable named, an existing output directory left as it was', async () => {
    const out = tmp();
    const first = await run(['artifacts', '--output-dir', out, '--ssh-key', ED25519_KEY, '--create-iso']);
    expect(first.code).toBe(0);
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, { data: readFileSync(join(out, f)), mtime: statSync(join(out, f)).mtimeMs }]));
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--hostname', 'Not_A_Label'], {}, /--hostname \(VM_HOSTNAME\): must be an RFC 1123 label/],
      [[], { VM_HOSTNAME: 'bad\nhost' }, /--hostname \(VM_HOSTNAME\): must not contain newlines/],
      [['--username', 'root'], {}, /--username \(VM_USER\): is a reserved/],
      [['--kubesolo-version', 'latest'], {}, /--kubesolo-version \(KUBESOLO_RELEASE\)/],
      [['--ssh-key', sshKeygen('ed25519').privateKey], {}, /this is a PRIVATE key/],
      [['--ip', '10.0.0.5'], {}, /--ip \(VM_IP\)/],
      [[], { AUTO_INSTALL_KUBESOLO: 'sometimes' }, /AUTO_INSTALL_KUBESOLO\): must be true or false/],
      [[], { SOURCE_DATE_EPOCH: 'yesterday' }, /SOURCE_DATE_EPOCH/],
    ];
    for (const [args, env, why] of cases) {
      const r = await run(['artifacts', '--output-dir', out, '--create-iso', ...args], env);
      expect(r.code, `${args.join(' ')} ${JSON.stringify(env)}`).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user mistake
    }
    const rj = await run(['--json', 'artifacts', '--output-dir', out, '--hostname', '-x-']);
    expect(rj.json[0]).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
    for (const [f, b] of Object.entries(before)) {
      expect(readFileSync(join(out, f)).equals(b.data), f).toBe(true);
      expect(statSync(join(out, f)).mtimeMs, f).toBe(b.mtime);
    }
    expect(readdirSync(out).sort()).toEqual(Object.keys(before).sort()); // no temp files left either
  });

  it('--template DIR: a user template is used; a hostile one fails naming the file and line', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'user-data.template'), '#cloud-config\nhostname: "{{ hostname }}"\nusers:\n  - name: "{{ username }}"\n    passwd: "{{ password_hash }}"\n    lock_passwd: false\n');
    const out = tmp();
    const ok = await run(['artifacts', '--template', dir, '--output-dir', out, '--hostname', 'custom']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(yamlOf(join(out, 'user-data'))).toMatchObject({ hostname: 'custom', users: [{ name: 'alpine' }] });
    expect(yamlOf(join(out, 'meta-data'))['local-hostname']).toBe('custom'); // built-in meta-data template
    writeFileSync(join(dir, 'user-data.template'), '#cloud-config\nhostname: "{{ hostname }}"\nruncmd:\n  - "{{ evil_command }}"\n');
    const bad = await run(['artifacts', '--template', dir, '--output-dir', tmp()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${join(dir, 'user-data.template')}:4: unknown placeholder "evil_command"`);
    expect(bad.stderr).toContain('[TEMPLATE_INVALID]');
    const missing = await run(['artifacts', '--template', tmp(), '--output-dir', tmp()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read template .*user-data\.template/);
  });

  it('switching from static network to DHCP removes the stale network-config', async () => {
    const out = tmp();
    expect((await run(['artifacts', '--output-dir', out, '--ip', '192.168.122.50/24', '--gateway', '192.168.122.1'])).code).toBe(0);
    expect(existsSync(join(out, 'network-config'))).toBe(true);
    const r = await run(['--json', 'artifacts', '--output-dir', out]);
    expect(r.code).toBe(0);
    expect((r.json[0] as any).removed).toEqual([join(out, 'network-config')]);
    expect(existsSync(join(out, 'network-config'))).toBe(false);
  });

  it('--inventory: one directory per VM; one bad entry and nothing is written', async () => {
    const base = tmp();
    const inv = join(base, 'vms.yaml');
    writeFileSync(inv, `vms:\n  - hostname: node-01\n    ip: 192.168.122.51/24\n    gateway: 192.168.122.1\n  - hostname: node-02\n    api-address: [203.0.113.12, node-02.example.com]\n  - hostname: node-03\n    ssh_key: "${ED25519_KEY}"\n    auto-install-kubesolo: true\n`);
    const out = join(base, 'seeds');
    const r = await run(['--json', 'artifacts', '--inventory', inv, '--output-dir', out, '--create-iso', '--auto-install-kubesolo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.map((j: any) => j.hostname)).toEqual(['node-01', 'node-02', 'node-03']);
    expect(readdirSync(out).sort()).toEqual(['node-01', 'node-02', 'node-03']);
    expect(readdirSync(join(out, 'node-01')).sort()).toEqual(['cidata.iso', 'meta-data', 'network-config', 'user-data']);
    expect(JSON.stringify(yamlOf(join(out, 'node-02', 'user-data')))).toContain('--apiserver-extra-sans=203.0.113.12,node-02.example.com');
    expect(new Set(r.json.map((j: any) => j.instanceId)).size).toBe(3);

    writeFileSync(inv, `vms:\n  - hostname: good-01\n  - hostname: Bad_02\n  - hostname: good-03\n    ip: nope\n  - hostname: good-01\n  - colour: blue\n`);
    const out2 = join(base, 'seeds2');
    const bad = await run(['artifacts', '--inventory', inv, '--output-dir', out2]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('vms[1] (Bad_02).hostname: must be an RFC 1123 label');
    expect(bad.stderr).toMatch(/vms\[4\]\.colour: unknown key/);
    expect(existsSync(out2)).toBe(false);
    writeFileSync(inv, `vms:\n  - hostname: good-01\n  - hostname: good-03\n    ip: nope\n  - hostname: good-01\n`);
    const bad2 = await run(['artifacts', '--inventory', inv, '--output-dir', out2]);
    expect(bad2.code).toBe(2);
    expect(bad2.stderr).toContain('vms[1] (good-03).ip: must be an address with a prefix length');
    expect(bad2.stderr).toMatch(/good-01: writes to .*like good-01/);
    expect(existsSync(out2)).toBe(false);
  });

  it('SOURCE_DATE_EPOCH makes every byte reproducible, the ISO included', async () => {
    const a = tmp();
    const b = tmp();
    const env = { SOURCE_DATE_EPOCH: '1700000000', VM_PASSWORD: 'pw' };
    for (const out of [a, b]) expect((await run(['artifacts', '--output-dir', out, '--ssh-key', ED25519_KEY, '--create-iso'], env)).code).toBe(0);
    for (const f of ['user-data', 'meta-data', 'cidata.iso']) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    const c = tmp();
    expect((await run(['artifacts', '--output-dir', c, '--ssh-key', ED25519_KEY], { VM_PASSWORD: 'pw' })).code).toBe(0);
    expect(readFileSync(join(c, 'user-data')).equals(readFileSync(join(a, 'user-data')))).toBe(false); // random salt otherwise
    expect(readFileSync(join(c, 'meta-data')).equals(readFileSync(join(a, 'meta-data')))).toBe(true); // same config, same instance-id
  });

  it('an output directory the user cannot create: exit 4 (OUTPUT_PERMISSION), not an internal error', async () => {
    // /sys refuses new entries even to root (EACCES or EROFS)
    const r = await run(['artifacts', '--output-dir', '/sys/qks-artifacts-test']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain('[OUTPUT_PERMISSION]');
  });

  it('--help shows the variables and examples', async () => {
    const r = await run(['artifacts', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['SSH_PUBLIC_KEY', 'AUTO_INSTALL_KUBESOLO', 'KUBECONFIG_API_ADDRESS', 'ARTIFACTS_DIR', 'Examples:', '--inventory']) expect(r.stdout).toContain(s);
  });
});

/** A copy of the repo's script and Makefile next to the test bundle, as a user's checkout has them. */
function checkout(): string {
  const dir = tmp();
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, 'dist'));
  copyFileSync(join(ROOT, 'scripts', 'generate-cloud-init.sh'), join(dir, 'scripts', 'generate-cloud-init.sh'));
  chmodSync(join(dir, 'scripts', 'generate-cloud-init.sh'), 0o755);
  copyFileSync(join(ROOT, 'Makefile'), join(dir, 'Makefile'));
  copyFileSync(CLI_BUNDLE, join(dir, 'dist', 'qemu-kubesolo.mjs'));
  return dir;
}

describeWithPeers("scripts/generate-cloud-init.sh with the guide's example", ['bash'], () => {
  it('writes the artifacts and refuses unknown flags', () => {
    const dir = checkout();
    const env = { PATH: process.env.PATH, HOME: tmp() };
    const r = spawnSync(join(dir, 'scripts', 'generate-cloud-init.sh'), GUIDE_FLAGS('./my-artifacts/'), { cwd: dir, env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'my-artifacts')).sort()).toEqual(['cidata.iso', 'meta-data', 'user-data']);
    expect(yamlOf(join(dir, 'my-artifacts', 'user-data')).hostname).toBe('prod-kubesolo-01');
    const bad = spawnSync(join(dir, 'scripts', 'generate-cloud-init.sh'), ['--hostnme', 'x'], { cwd: dir, env, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown option: --hostnme');
    const invalid = spawnSync(join(dir, 'scripts', 'generate-cloud-init.sh'), ['--hostname', 'UPPER'], { cwd: dir, env, encoding: 'utf8' });
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toContain('--hostname (VM_HOSTNAME)');
  });
});

describeWithPeers('make artifacts (AUTO_INSTALL_KUBESOLO=true)', ['make'], () => {
  it('honours the environment variables of the guide', () => {
    const dir = checkout();
    const out = join(tmp(), 'arts');
    // -o: use the bundle as it is (a checkout would build it with npm first)
    execFileSync('make', ['-s', '-o', 'dist/qemu-kubesolo.mjs', 'artifacts'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: tmp(), AUTO_INSTALL_KUBESOLO: 'true', SSH_PUBLIC_KEY: ED25519_KEY, VM_HOSTNAME: 'prod-node', ARTIFACTS_DIR: out },
      stdio: 'pipe',
    });
    expect(readdirSync(out).sort()).toEqual(['cidata.iso', 'meta-data', 'user-data']);
    const ud = yamlOf(join(out, 'user-data'));
    expect(ud.hostname).toBe('prod-node');
    expect(ud.users[0].ssh_authorized_keys).toEqual([ED25519_KEY]);
    expect(ud.write_files.map((f: any) => f.path)).toContain('/etc/init.d/kubesolo');
  });

  describe('hostile input and odd paths (issue 21)', () => {
    const spawnCli = (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const child = spawn(process.execPath, [CLI_BUNDLE, ...args], { env: { PATH: process.env.PATH, ...envWith(env) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const done = new Promise<{ code: number | null; stderr: string }>((r) => child.on('close', (code) => r({ code, stderr })));
      return { child, done };
    };

    it('inventory output-dir stays inside --output-dir: absolute paths and ".." are refused with file:line, nothing written', async () => {
      const base = tmp();
      const inv = join(base, 'vms.yaml');
      writeFileSync(inv, `vms:\n  - hostname: node-01\n    output-dir: /etc\n  - hostname: node-02\n    output-dir: ../escape\n  - hostname: node-03\n    output-dir: sub/ok\n`);
      const out = join(base, 'seeds');
      const r = await run(['artifacts', '--inventory', inv, '--output-dir', out]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${inv}:3: vms[0] (node-01).output-dir: must be relative to --output-dir (got the absolute path /etc)`);
      expect(r.stderr).toContain(`${inv}:5: vms[1] (node-02).output-dir: must stay inside --output-dir`);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(join(base, 'escape'))).toBe(false);
      writeFileSync(inv, `vms:\n  - hostname: node-03\n    output-dir: sub/ok\n`);
      const ok = await run(['artifacts', '--inventory', inv, '--output-dir', out]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(readdirSync(join(out, 'sub', 'ok')).sort()).toEqual(['meta-data', 'user-data']);
    });

    it('unknown YAML tags in an inventory are refused with file:line, not a library warning', async () => {
      const base = tmp();
      const inv = join(base, 'vms.yaml');
      writeFileSync(inv, `vms:\n  - hostname: node-01\n    username: !secret alpine\n`);
      const r = await run(['--json', 'artifacts', '--inventory', inv, '--output-dir', join(base, 'out')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${inv}:3: unknown tag !secret`);
      expect(r.stderr).not.toMatch(/Unresolved tag|YAMLWarning/);
      expect(r.json[0]).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
      expect(existsSync(join(base, 'out'))).toBe(false);
    });

    it('an existing directory named cidata.iso, a file as --output-dir parent: exit 2 naming the path (was exit 1)', async () => {
      const out = tmp();
      mkdirSync(join(out, 'cidata.iso'));
      const r = await run(['artifacts', '--output-dir', out, '--create-iso']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`cannot write ${join(out, 'cidata.iso')}: it is a directory`);
      expect(readdirSync(out)).toEqual(['cidata.iso']);
      const file = join(tmp(), 'file');
      writeFileSync(file, 'x');
      const r2 = await run(['artifacts', '--output-dir', join(file, 'sub')]);
      expect(r2.code, r2.stderr).toBe(2);
      expect(r2.stderr).toContain(join(file, 'sub'));
      expect(r2.stderr).not.toMatch(/internal error|\n\s+at /);
    });

    it('/dev/zero as --ssh-key is refused at once (it read 620 MB); a FIFO as --ssh-key stops on SIGTERM with exit 130', async () => {
      const r = await run(['artifacts', '--output-dir', tmp(), '--ssh-key', '/dev/zero']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--ssh-key (SSH_PUBLIC_KEY): /dev/zero is a character device, not a regular file');
      const fifo = join(tmp(), 'key.pub');
      execFileSync('mkfifo', [fifo]);
      const out = tmp();
      const { child, done } = spawnCli(['artifacts', '--output-dir', out, '--ssh-key', fifo]);
      await new Promise((res) => setTimeout(res, 1500));
      child.kill('SIGTERM');
      const end = await done;
      expect(end.code, end.stderr).toBe(130);
      expect(readdirSync(out)).toEqual([]);
    });

    it('a FIFO as the template stops on SIGINT with exit 130; a template above the cap is refused', async () => {
      const dir = tmp();
      execFileSync('mkfifo', [join(dir, 'user-data.template')]);
      const { child, done } = spawnCli(['artifacts', '--template', dir, '--output-dir', tmp()]);
      await new Promise((res) => setTimeout(res, 1500));
      child.kill('SIGINT');
      expect((await done).code).toBe(130);
      const big = tmp();
      writeFileSync(join(big, 'user-data.template'), `#cloud-config\nx: "${'a'.repeat(1024 * 1024)}"\n`);
      const r = await run(['artifacts', '--template', big, '--output-dir', tmp()]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/larger than 1048576 bytes/);
    });

    it('a repeated --ssh-key keeps every key (it kept only the last); an inventory ssh-key may be a list', async () => {
      const out = tmp();
      const r = await run(['artifacts', '--output-dir', out, '--ssh-key', ED25519_KEY, '--ssh-key', SK_ED25519_KEY]);
      expect(r.code, r.stderr).toBe(0);
      expect(yamlOf(join(out, 'user-data')).users[0].ssh_authorized_keys).toEqual([ED25519_KEY, SK_ED25519_KEY]);
      const base = tmp();
      const inv = join(base, 'vms.yaml');
      writeFileSync(inv, `vms:\n  - hostname: node-01\n    ssh-key:\n      - "${ED25519_KEY}"\n      - "${SK_ED25519_KEY}"\n`);
      const r2 = await run(['artifacts', '--inventory', inv, '--output-dir', join(base, 'seeds')]);
      expect(r2.code, r2.stderr).toBe(0);
      expect(yamlOf(join(base, 'seeds', 'node-01', 'user-data')).users[0].ssh_authorized_keys).toEqual([ED25519_KEY, SK_ED25519_KEY]);
    });

    it('a network that cannot work is refused naming the flag; a loopback DNS is a warning', async () => {
      const out = tmp();
      const r = await run(['artifacts', '--output-dir', out, '--ip', '192.168.122.50/24', '--gateway', '192.168.1.1', '--dns', '0.0.0.0']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--gateway (VM_GATEWAY): 192.168.1.1 is outside the subnet');
      expect(r.stderr).toContain('--dns (VM_DNS)[0]: 0.0.0.0 is an unspecified');
      expect(readdirSync(out)).toEqual([]);
      const w = await run(['artifacts', '--output-dir', out, '--ip', '192.168.122.50/24', '--dns', '127.0.0.53']);
      expect(w.code, w.stderr).toBe(0);
      expect(w.stderr).toContain('warning: --dns 127.0.0.53 is a loopback address');
    });
  });
});
