#!/bin/sh
# PID 1 of the test guest (packed by initramfs.ts). It stands in for an Alpine+Kubesolo VM:
#  - finds the CD-ROM whose ISO 9660 volume id is cidata, mounts it and reports what the kernel sees
#    ("QKS: file: NAME SIZE SHA256" per file),
#  - runs a qemu-ga on every virtio-serial agent port (kernel arg qks_noagent=1: none;
#    qks_agents=a,b: only those ports),
#  - kc_delay=N: N seconds after "QKS: ready", writes a kubeconfig at the Kubesolo path, atomically.
# Kernel args from the host (qemu.ts): qks_ports=N and qks_cdrom=1 say what to wait for, so init waits
# for devices with a bound instead of sleeping a fixed time.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /run/qga /tmp /var/log /mnt/cidata
echo "QKS: init $(cut -d' ' -f1 /proc/uptime)"

KC_DELAY=; NOAGENT=; AGENTS=; PORTS=0; CDROM=0
for w in $(cat /proc/cmdline); do
  case "$w" in
    kc_delay=*) KC_DELAY=${w#*=} ;;
    qks_noagent=*) NOAGENT=${w#*=} ;;
    qks_agents=*) AGENTS=$(echo "${w#*=}" | tr ',' ' ') ;;
    qks_ports=*) PORTS=${w#*=} ;;
    qks_cdrom=*) CDROM=${w#*=} ;;
  esac
done

# modules in dependency order (computed on the host from modules.dep)
while read -r m; do insmod "$m" 2>/dev/null || echo "QKS: insmod failed: $m"; done </etc/qks/modules

# "cidata" (or "CIDATA") at offset 40 of the primary volume descriptor (sector 16); busybox blkid
# does not report ISO labels.
label_of() { dd if="$1" bs=2048 skip=16 count=1 2>/dev/null | dd bs=1 skip=40 count=32 2>/dev/null | tr -d ' \000'; }
find_cidata() {
  for d in /dev/sr* /dev/sd* /dev/vd*; do
    [ -b "$d" ] || continue
    case "$(label_of "$d")" in cidata|CIDATA) echo "$d"; return 0 ;; esac
  done
  return 1
}

i=0; DEV=
while [ $i -lt 300 ]; do
  n=$(ls /sys/class/virtio-ports 2>/dev/null | wc -l)
  [ "$CDROM" = 1 ] && [ -z "$DEV" ] && DEV=$(find_cidata)
  if [ "$n" -ge "$PORTS" ] && { [ "$CDROM" != 1 ] || [ -n "$DEV" ]; }; then break; fi
  i=$((i + 1)); usleep 100000
done

mkdir -p /dev/virtio-ports
for v in /sys/class/virtio-ports/*; do
  [ -e "$v/name" ] && ln -sf "/dev/$(basename "$v")" "/dev/virtio-ports/$(cat "$v/name")"
done
echo "QKS: ports: $(ls /dev/virtio-ports 2>/dev/null | tr '\n' ' ')"

if [ -n "$DEV" ]; then
  echo "QKS: cidata: $DEV label $(label_of "$DEV")"
  if mount -t iso9660 -o ro "$DEV" /mnt/cidata; then
    (cd /mnt/cidata && find . -type f | sort | while read -r f; do
      echo "QKS: file: ${f#./} $(wc -c <"$f") $(sha256sum "$f" | cut -d' ' -f1)"
      echo "QKS: mode: ${f#./} $(stat -c %a "$f")"
    done)
    umount /mnt/cidata
  else
    echo "QKS: mount failed: $DEV"
  fi
elif [ "$CDROM" = 1 ]; then
  echo "QKS: no cidata device"
fi

if [ "$NOAGENT" != 1 ]; then
  for p in /dev/virtio-ports/*; do
    [ -e "$p" ] || continue
    n=$(basename "$p")
    case "$n" in org.qemu.guest_agent.*) ;; *) continue ;; esac
    if [ -n "$AGENTS" ]; then case " $AGENTS " in *" $n "*) ;; *) continue ;; esac; fi
    mkdir -p "/run/qga/$n"
    /usr/sbin/qemu-ga -m virtio-serial -p "$p" -t "/run/qga/$n" -f "/run/qga/$n.pid" -l "/var/log/qga-$n.log" -d \
      && echo "QKS: qemu-ga on $n"
  done
fi

if [ -n "$KC_DELAY" ]; then
  (
    sleep "$KC_DELAY"
    mkdir -p /var/lib/kubesolo/pki/admin
    cp /etc/qks/admin.kubeconfig /var/lib/kubesolo/pki/admin/.admin.kubeconfig.tmp
    mv /var/lib/kubesolo/pki/admin/.admin.kubeconfig.tmp /var/lib/kubesolo/pki/admin/admin.kubeconfig
    echo "QKS: kubeconfig written $(cut -d' ' -f1 /proc/uptime)"
  ) &
fi

echo "QKS: uptime $(cut -d' ' -f1 /proc/uptime)"
echo "QKS: ready"
while true; do sleep 3600; done
