#!/usr/bin/env bash
# Makes the root file system the checkpoint tests run in: Debian trixie (minbase) with criu
# 4.2.1 or later from sid, packed as a gzip tarball that `crib import` reads.
#
# trixie's own criu (4.1) and bookworm's (3.17) cannot parse the vDSO of recent kernels, so
# criu comes from sid, pinned low so that nothing else does.
#
#   scripts/criu-test-base.sh [OUTPUT]     default: $CRIB_TEST_CACHE/criu-base.tar.gz
#
# Runs once; later calls find OUTPUT and return at once. CRIB_TRIXIE_TARBALL names a trixie
# rootfs tarball to start from instead of running debootstrap.
set -euo pipefail

cache=${CRIB_TEST_CACHE:-/var/cache/crib-tests}
output=${1:-$cache/criu-base.tar.gz}
if [ -s "$output" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "criu-test-base.sh: run as root (debootstrap and chroot need it)" >&2
  exit 1
fi
mkdir -p "$(dirname "$output")"
work=$(mktemp -d "$(dirname "$output")/criu-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
mkdir -p "$rootfs"

if [ -n "${CRIB_TRIXIE_TARBALL:-}" ]; then
  echo "criu-test-base.sh: starting from $CRIB_TRIXIE_TARBALL" >&2
  tar -xzf "$CRIB_TRIXIE_TARBALL" -C "$rootfs"
else
  echo "criu-test-base.sh: debootstrap trixie into $rootfs" >&2
  debootstrap --variant=minbase trixie "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
fi

mkdir -p "$rootfs/etc/apt/sources.list.d" "$rootfs/etc/apt/preferences.d"
cat >"$rootfs/etc/apt/sources.list.d/sid.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
Check-Valid-Until: no
SOURCES
cat >"$rootfs/etc/apt/preferences.d/sid" <<'PIN'
Package: *
Pin: release n=sid
Pin-Priority: 100
PIN

# A private mount namespace keeps /proc and /dev mounts from outliving the chroot.
unshare -m --propagation private bash -ec '
root=$1
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf"
chroot "$root" apt-get -o Acquire::Check-Valid-Until=false update -qq
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends -t sid criu >/dev/null
chroot "$root" apt-get clean
' _ "$rootfs" >"$work/install.log" 2>&1 || { tail -20 "$work/install.log" >&2; exit 1; }
rm -rf "$rootfs/var/lib/apt/lists/"*
: >"$rootfs/etc/resolv.conf"

version=$("$rootfs/lib64/ld-linux-x86-64.so.2" --library-path "$rootfs/usr/lib/x86_64-linux-gnu" "$rootfs/usr/sbin/criu" --version | head -1)
echo "criu-test-base.sh: $version" >&2
tar --numeric-owner --xattrs -czf "$work/base.tar.gz" -C "$rootfs" .
mv "$work/base.tar.gz" "$output"
echo "criu-test-base.sh: wrote $output" >&2
