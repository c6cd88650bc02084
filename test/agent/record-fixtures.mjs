// Records a real qemu-ga session's raw bytes (what a client receives) into fixtures/agent/, for the
// decoder's split-point tests. Run by hand when the agent changes: node test/agent/record-fixtures.mjs
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = fileURLToPath(new URL('../../fixtures/agent/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qks-record-'));
const sock = join(dir, 'qga.sock');
const kubeconfig = join(dir, 'kubeconfig');
// kubeconfig-like content with braces, quotes and escapes inside strings
writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n# {"not": "json"} \\" }}} {{\n' + 'x'.repeat(200) + '\n');
const ga = spawn('qemu-ga', ['-m', 'unix-listen', '-p', sock, '-t', dir], { stdio: 'ignore' });
try {
  for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 10));
  const s = createConnection({ path: sock });
  await new Promise((r) => s.once('connect', r));
  const received = [];
  let pending = Buffer.alloc(0);
  s.on('data', (d) => {
    received.push(d);
    pending = Buffer.concat([pending, d]);
  });
  const requests = [];
  // sends and waits for `n` newline-terminated replies (qemu-ga ends each reply with \n)
  const send = async (raw, n = 1) => {
    requests.push(raw.toString('latin1'));
    const before = Buffer.concat(received).toString('latin1').split('\n').length;
    s.write(raw);
    for (let i = 0; i < 500; i++) {
      if (Buffer.concat(received).toString('latin1').split('\n').length - before >= n) return JSON.parse(Buffer.concat(received).toString('utf8').replace(/\xff|\ufffd/g, '').trim().split('\n').at(-1));
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error('no reply to ' + raw);
  };
  await send(Buffer.concat([Buffer.of(0xff), Buffer.from('{"execute":"guest-sync-delimited","arguments":{"id":424242}}')]), 2);
  await send(Buffer.from('{"execute":"guest-ping"}'));
  await send(Buffer.from('{"execute":"guest-info"}'));
  const { return: { pid } } = await send(Buffer.from(JSON.stringify({ execute: 'guest-exec', arguments: { path: '/bin/cat', arg: [kubeconfig], 'capture-output': true } })));
  for (let i = 0; i < 50; i++) {
    const r = await send(Buffer.from(JSON.stringify({ execute: 'guest-exec-status', arguments: { pid } })));
    if (r.return.exited) break;
  }
  const { return: handle } = await send(Buffer.from(JSON.stringify({ execute: 'guest-file-open', arguments: { path: kubeconfig, mode: 'r' } })));
  await send(Buffer.from(JSON.stringify({ execute: 'guest-file-read', arguments: { handle, count: 65536 } })));
  await send(Buffer.from(JSON.stringify({ execute: 'guest-file-close', arguments: { handle } })));
  await send(Buffer.from('{"execute":"guest-file-open","arguments":{"path":"/nonexistent/file"}}'));
  await send(Buffer.from('{"execute":"no-such-command"}'));
  s.destroy();
  const bytes = Buffer.concat(received);
  writeFileSync(join(out, 'qemu-ga-7.2-session.bin'), bytes);
  const text = bytes.toString('utf8');
  writeFileSync(
    join(out, 'qemu-ga-7.2-session.json'),
    JSON.stringify({ agent: 'qemu-ga 7.2 (Debian 12), -m unix-listen', recordedBy: 'test/agent/record-fixtures.mjs', kubeconfig: kubeconfig, requests, replies: text.split('\n').filter(Boolean).length }, null, 2) + '\n',
  );
  console.log(`recorded ${bytes.length} bytes, ${requests.length} requests`);
} finally {
  ga.kill();
  rmSync(dir, { recursive: true, force: true });
}
