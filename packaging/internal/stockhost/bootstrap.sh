#!/bin/bash
# Builds a stock Debian bookworm root at $1 for the package end-to-end tests:
# debootstrap (minbase + systemd as init), then the web stack installed with
# apt inside the root, recommends and all, so that every default file, user,
# mode and log location is Debian's own. Services are kept from starting
# while installing (policy-rc.d, removed afterwards: the booted root starts
# whatever Debian enables). Run it inside `unshare --mount`: the mounts it
# makes vanish with it.
set -euo pipefail
ROOT=$1
MIRROR=${STOCKHOST_MIRROR:-http://deb.debian.org/debian}
# The package list is part of the cache key (the whole script is hashed).
BASE=systemd,systemd-sysv,dbus,ca-certificates
PKGS="nginx php8.2-fpm apache2 logrotate curl procps"

debootstrap --variant=minbase --include="$BASE" bookworm "$ROOT" "$MIRROR"

cat > "$ROOT/etc/apt/sources.list" <<SRC
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SRC
printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
chmod +x "$ROOT/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
mount -t tmpfs tmpfs "$ROOT/run"
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get update -q
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $PKGS
chroot "$ROOT" apt-get clean
rm -rf "$ROOT"/var/lib/apt/lists/*
rm -f "$ROOT/usr/sbin/policy-rc.d"
# One web server per host, as people have it: the tests enable the one they
# drive. Both units are Debian's; only whether they start at boot differs.
chroot "$ROOT" systemctl disable apache2.service
umount -l "$ROOT/run" "$ROOT/proc"
umount -l "$ROOT/dev"
echo stockhost >"$ROOT/etc/hostname"
: >"$ROOT/etc/machine-id"
