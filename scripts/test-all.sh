#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the peers, type-checks, runs the main tier (unit,
# property, real-peer integration) and the VM tier, then prints one closing line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
# the peers live in sbin too (qemu-ga, libvirtd, sshd, blkid); a non-login root shell may lack it
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
bash scripts/install-test-deps.sh || exit 1
out=.cache/test-results; mkdir -p "$out"; rm -f "$out"/*.json
rc=0
npm run --silent typecheck || rc=1
npx vitest run --reporter=default --reporter=json --outputFile.json="$out/main.json" || rc=1
npx vitest run --config vitest.vm.config.ts --reporter=default --reporter=json --outputFile.json="$out/vm.json" || rc=1
node -e '
  let p = 0, f = 0, s = 0;
  for (const n of ["main", "vm"]) {
    try { const r = require(process.argv[1] + "/" + n + ".json"); p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + r.numTodoTests; }
    catch { f += 1; console.log("tier " + n + ": no results"); }
  }
  console.log(`${p} passed, ${f} failed, ${s} skipped`);
' "$PWD/$out" || rc=1
exit $rc
