#!/bin/sh
# Builds the root filesystem of the Alpine-shaped guest (see README.md here) into DIR.
# usage: build-root.sh SUITE DIR      (root; debootstrap's default mirror)
# Stage 1: debootstrap minbase with the parts Alpine's cloud image has (cloud-init, busybox, openssh,
# opendoas, qemu-guest-agent, iptables/nftables, curl). Stage 2 in the chroot: OpenRC and ifupdown-ng
# (debootstrap alone resolves initscripts' "sysv-rc | file-rc | openrc" to sysv-rc, which conflicts
# with openrc). A policy-rc.d keeps package scripts from starting services in the chroot.
set -eu
suite=$1
root=$2
debootstrap --variant=minbase \
  --include=busybox-static,udev,kmod,procps,cloud-init,python3-cffi-backend,openssh-server,opendoas,qemu-guest-agent,iproute2,curl,ca-certificates,iptables,nftables,e2fsprogs,util-linux,netbase,openssl,python3 \
  "$suite" "$root"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y --no-install-recommends openrc initscripts ifupdown-ng
chroot "$root" apt-get clean
rm -rf "$root/var/lib/apt/lists"/*
umount "$root/proc"
trap - EXIT
rm -f "$root/usr/sbin/policy-rc.d"
