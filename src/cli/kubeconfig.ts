/**
 * `qemu-kubesolo kubeconfig`: the VM's admin kubeconfig through the guest agent (or SSH), its server
 * rewritten for clients, checked over TLS, written atomically with mode 0600. Several VMs in one call
 * with --output-dir and --jobs.
 */
import type { Command } from 'commander';
import { KUBECONFIG_OPTIONS } from '../options/kubeconfig.js';
import { addOptions } from './options.js';
import { action } from './kubeconfig-verb.js';
import type { RunAction } from './main.js';

const HELP = `
Where the file goes:
  --output FILE, or --output-dir DIR/<vm-name>; default ~/.kube/<vm-name> (the guide's ~/.kube/kubesolo).
  Written atomically (temp file + rename), mode 0600, new directories 0700. --output - prints it instead.

How it is read (guest-agent method):
  the dedicated channel org.qemu.guest_agent.1 first, then org.qemu.guest_agent.0 (or --socket); the
  file by guest-file-open/read when the agent allows it, else guest-exec of cat (see --verbose / --json).

The API server address:
  without --api-server (or KUBECONFIG_API_ADDRESS) the server stays as Kubesolo wrote it, e.g.
  https://127.0.0.1:6443, which works only inside the VM. With it, every cluster's server gets that
  host (scheme, port and path kept; ADDR may be HOST, HOST:PORT, [IPv6]:PORT or https://HOST:PORT).
  Then a TLS handshake with the kubeconfig's CA checks the address:
    certificate covers the address      -> written, verified
    certificate does not cover it       -> tls-server-name set to a name it covers (e.g. kubernetes)
    nothing answers                     -> written unverified, with a warning (with --wait: after
                                           waiting up to 30 s for the API server to come up)
    certificate from another CA         -> nothing written, exit 7 (another server answers there)
  --no-verify-server skips the check. insecure-skip-tls-verify is never set.

--wait retries while the VM is not ready (agent not up, socket missing, file not yet written) until
--timeout, noticing the file within about a second; errors waiting cannot fix fail at once (exit 5 at
the timeout). With several VMs the exit code is 8 when any failed; the others' files are kept.

--ready (implies --wait) goes on past the file until the API server answers with the kubeconfig's own
CA and client certificate; stages on stderr, times in --json (stages: agent, file, tls, readyz, node):
  TLS handshake verified -> GET /readyz 200 -> GET /api/v1/nodes shows the node Ready.
  Nothing is written or merged before. At --timeout: exit 5 naming the stage. At once, exit 7: no route
  to the address or no TCP answer at all (firewall, NAT: give the address at artifact time with
  --api-address and here with --api-server, open or forward the port), credentials refused (401/403).

--merge [FILE] merges the VM's cluster, user and context into FILE, else $KUBECONFIG's first file, else
~/.kube/config, all under --context NAME (default the VM name); other entries and comments stay, same
names are replaced, --use-context makes it current. kubectl's <file>.lock is taken (waited for up to
10 s, exit 5 if it stays), the old content kept in <file>.qemu-kubesolo.bak, the file written
atomically with mode 0600. A file that is not a kubeconfig: exit 2, nothing changed. No ~/.kube/<vm>
file is written unless --output / --output-dir asks for it too.

Refused in the fetched kubeconfig (exit 6, KUBECONFIG_UNSAFE, naming the key, e.g. users[0].user.exec;
nothing written or merged; also for --method ssh): exec, auth-provider, the file references
certificate-authority / client-certificate / client-key / tokenFile, proxy-url,
insecure-skip-tls-verify, extensions and YAML merge keys anywhere, and servers that are not
https://HOST[:PORT] (http, file, unix, a user part, a query). --allow-unsafe-kubeconfig writes it anyway
with a warning per key. --api-server refuses IPv6 zone ids (fe80::1%eth0): meaningless to other hosts.

Exit codes: 0 written; 2 bad option (nothing written); 3 not found / not ready (socket, VM, file);
4 permission (socket, SSH key, file in the guest); 5 timeout (--wait ran out, agent or SSH silent);
6 agent error, an invalid or unsafe kubeconfig (nothing written); 7 TLS check failed (certificate from
another CA), credentials refused, API address unreachable, or SSH error; 8 several VMs and some failed (the others were written); 130 interrupted.

Examples:
  $ qemu-kubesolo kubeconfig --vm-name kubesolo --api-server 10.0.0.50 --output ~/.kube/kubesolo --wait
  $ qemu-kubesolo kubeconfig --vm-name kubesolo --api-server 10.0.0.50 --ready --merge --use-context
  $ qemu-kubesolo kubeconfig --vm-name kubesolo --output - | kubectl --kubeconfig /dev/stdin get nodes
  $ qemu-kubesolo --json kubeconfig --vm-name kubesolo --api-server 203.0.113.10:6443
  $ qemu-kubesolo kubeconfig --vm-names-file vms.txt --output-dir ./kubeconfigs --jobs 4 --wait
  $ qemu-kubesolo kubeconfig --socket /run/vms/kubesolo/qga.sock --api-server k8s.example.com
  $ qemu-kubesolo kubeconfig --method ssh --vm-ip 192.168.122.50 --ssh-user alpine --ssh-key ~/.ssh/id_ed25519`;

export function register(program: Command, run: RunAction): void {
  const cmd = program
    .command('kubeconfig')
    .description("fetch a VM's Kubesolo kubeconfig through the guest agent (or SSH), rewrite its API server address and write it (0600)");
  addOptions(cmd, KUBECONFIG_OPTIONS)
    .addHelpText('after', HELP)
    .action(
      run((ctx, opts: Record<string, unknown>) => action(ctx, opts)),
    );
}
