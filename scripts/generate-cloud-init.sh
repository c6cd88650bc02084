#!/usr/bin/env bash
# Generates cloud-init artifacts (user-data, meta-data, optionally cidata.iso) for an Alpine + Kubesolo
# VM, with the integration guide's flags. A thin wrapper over `qemu-kubesolo artifacts`, which also
# reads the guide's environment variables (SSH_PUBLIC_KEY, VM_USER, VM_PASSWORD, VM_HOSTNAME,
# AUTO_INSTALL_KUBESOLO, KUBESOLO_RELEASE, ARTIFACTS_DIR, ...); flags win over them.
#
# usage: generate-cloud-init.sh [--ssh-key KEY] [--hostname NAME] [--username USER] [--password PW]
#          [--auto-install-kubesolo] [--kubesolo-version vX.Y.Z] [--output-dir DIR] [--create-iso]
set -euo pipefail

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
}

args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ssh-key|--hostname|--username|--password|--kubesolo-version|--output-dir)
      if [ $# -lt 2 ]; then echo "error: $1 needs a value" >&2; exit 2; fi
      args+=("$1" "$2"); shift 2 ;;
    --ssh-key=*|--hostname=*|--username=*|--password=*|--kubesolo-version=*|--output-dir=*)
      args+=("$1"); shift ;;
    --auto-install-kubesolo|--create-iso)
      args+=("$1"); shift ;;
    -h|--help)
      usage; exit 0 ;;
    *)
      echo "error: unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

bundle="$(dirname "$0")/../dist/qemu-kubesolo.mjs"
if [ -f "$bundle" ]; then
  exec node "$bundle" artifacts ${args[@]+"${args[@]}"}
elif command -v qemu-kubesolo >/dev/null 2>&1; then
  exec qemu-kubesolo artifacts ${args[@]+"${args[@]}"}
else
  echo "error: neither $bundle nor qemu-kubesolo on PATH: run 'npm run bundle' (or 'make bundle') first" >&2
  exit 2
fi
