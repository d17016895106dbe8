#!/usr/bin/env bash
# Makes the Debian trixie base image that the Debian beta image starts FROM:
# debootstrap a minbase system from Debian's mirror, strip what only the
# bootstrap needed, then import the directory into crib as debian:trixie.
#
# Usage: debian-base.sh [--rootfs-only DIR] [--suite SUITE] [--mirror URL] [--tag NAME]
#   --rootfs-only DIR  build the root file system in DIR and stop (no crib needed);
#                      DIR must not exist yet or be empty
#   --suite SUITE      Debian suite (default trixie)
#   --mirror URL       Debian mirror (default http://deb.debian.org/debian)
#   --tag NAME         image name for crib import (default debian:SUITE)
# Runs as root: debootstrap creates device nodes and files owned by other users.
set -euo pipefail

suite=trixie
mirror=http://deb.debian.org/debian
rootfs=
rootfs_only=false
tag=

usage() { sed -n '6,11s/^# \{0,1\}//p' "$0" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --rootfs-only) [ $# -ge 2 ] || usage; rootfs=$2; rootfs_only=true; shift 2 ;;
    --suite) [ $# -ge 2 ] || usage; suite=$2; shift 2 ;;
    --mirror) [ $# -ge 2 ] || usage; mirror=$2; shift 2 ;;
    --tag) [ $# -ge 2 ] || usage; tag=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "debian-base.sh: unknown option $1" >&2; usage ;;
  esac
done
tag=${tag:-debian:$suite}

if [ "$(id -u)" -ne 0 ]; then
  echo "debian-base.sh: run as root (debootstrap creates device nodes and chowns files)" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "debian-base.sh: debootstrap not found; apt-get install debootstrap" >&2; exit 1; }

if [ -z "$rootfs" ]; then
  rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/debian-base.XXXXXX")
  # The directory only feeds crib import, so remove it whatever happens.
  trap 'rm -rf "$rootfs"' EXIT
elif [ -e "$rootfs" ] && [ -n "$(ls -A "$rootfs")" ]; then
  echo "debian-base.sh: $rootfs is not empty; give a new or empty directory" >&2
  exit 1
fi
mkdir -p "$rootfs"

# Bookworm's debootstrap knows trixie; its keyring package carries trixie's keys.
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
debootstrap --variant=minbase --keyring="$keyring" "$suite" "$rootfs" "$mirror" >&2

# Containers get /dev, /proc and resolv.conf from the runtime; an image only
# needs what apt and the packages on top of it read.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
  "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/archives/partial/* \
  "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/var/cache/ldconfig/aux-cache \
  "$rootfs"/tmp/* "$rootfs"/root/.bash_history
find "$rootfs/dev" -mindepth 1 -delete
: > "$rootfs/etc/resolv.conf"
# debootstrap writes the build host's name; an image should not carry it.
echo localhost > "$rootfs/etc/hostname"
# Keep package downloads out of image layers: apt in a RUN step discards
# its .deb files afterwards, as Debian's official images configure it.
cat > "$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
APT
cat > "$rootfs/etc/apt/apt.conf.d/docker-no-recommends" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT

if $rootfs_only; then
  echo "debian-base.sh: root file system ready in $rootfs ($(du -sh "$rootfs" | cut -f1))" >&2
  exit 0
fi

crib=${CRIB:-crib}
command -v "$crib" >/dev/null || { echo "debian-base.sh: $crib not found; build crib or set CRIB" >&2; exit 1; }
"$crib" import "$rootfs" -t "$tag"
