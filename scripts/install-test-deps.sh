#!/usr/bin/env bash
# Installs the real peers the test suite runs against (Debian packages) and the npm dependencies.
# Idempotent: installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
  qemu-system-x86 qemu-utils linux-image-amd64 busybox-static qemu-guest-agent cpio kmod  # test VM (qemu-img) + real qemu-ga
  genisoimage xorriso libarchive-tools p7zip-full util-linux cloud-image-utils  # ISO readers and baselines
  cloud-init                                                                   # cloud-init schema / net-convert
  openssh-server openssh-client                                                # SSH fallback and qemu+ssh
  netcat-openbsd                                                               # qemu+ssh to libvirtd without virt-ssh-helper (nc -U)
  libvirt-daemon-system libvirt-clients libxml2-utils dbus polkitd             # real libvirtd, virt-xml-validate
  virtinst                                                                     # virt-install --print-xml, a peer for domain-xml
  debootstrap e2fsprogs                                                        # the cloud-init VM's root fs
  iproute2 procps psmisc openssl ca-certificates python3
  make                                                                         # the guide's make targets (test/cloudinit/cli.test.ts)
)
# kubectl: Debian's kubernetes-client, unless the machine already has a kubectl (they conflict)
command -v kubectl >/dev/null || pkgs+=(kubernetes-client)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "test deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
