#!/usr/bin/env bash
# get-kubeconfig.sh: the integration guide's kubeconfig script, on top of `qemu-kubesolo kubeconfig`.
# Accepts exactly the guide's flags; everything else (--json, --timeout, --socket, LIBVIRT_URI ...) is
# the CLI's: run `qemu-kubesolo kubeconfig --help`. Exit codes are the CLI's.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: get-kubeconfig.sh [--vm-name NAME] [--method guest-agent|ssh] [--api-server ADDR]
                         [--output FILE] [--wait] [--vm-ip IP] [--ssh-user USER] [--ssh-key FILE]

  --vm-name NAME      libvirt domain (default: $VM_NAME, $VM_HOSTNAME, or kubesolo)
  --method METHOD     guest-agent (default) or ssh
  --api-server ADDR   address clients use for the API server (default: $KUBECONFIG_API_ADDRESS)
  --output FILE       where to write it, mode 0600 (default: ~/.kube/NAME; - for stdout)
  --wait              wait until Kubesolo has written the kubeconfig (up to 300 s)
  --vm-ip IP          VM address, for --method ssh
  --ssh-user USER     SSH user, for --method ssh (default: $VM_USER or alpine)
  --ssh-key FILE      SSH private key, for --method ssh

Example:
  ./scripts/get-kubeconfig.sh --vm-name kubesolo --method guest-agent --api-server 10.0.0.50 \
    --output ~/.kube/kubesolo --wait
USAGE
}

args=(kubeconfig)
while [ $# -gt 0 ]; do
  case "$1" in
    --vm-name | --method | --api-server | --output | --vm-ip | --ssh-user | --ssh-key)
      [ $# -ge 2 ] || { echo "get-kubeconfig.sh: $1 needs a value" >&2; usage >&2; exit 2; }
      args+=("$1" "$2")
      shift 2
      ;;
    --vm-name=* | --method=* | --api-server=* | --output=* | --vm-ip=* | --ssh-user=* | --ssh-key=*)
      args+=("$1")
      shift
      ;;
    --wait) args+=(--wait); shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "get-kubeconfig.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

here="$(cd "$(dirname "$0")" && pwd)"
if [ -f "$here/../dist/qemu-kubesolo.mjs" ]; then
  exec node "$here/../dist/qemu-kubesolo.mjs" "${args[@]}"
elif command -v qemu-kubesolo >/dev/null 2>&1; then
  exec qemu-kubesolo "${args[@]}"
else
  echo "get-kubeconfig.sh: qemu-kubesolo not found: run 'make bundle' (or npm run build) in the repository, or install it" >&2
  exit 1
fi
