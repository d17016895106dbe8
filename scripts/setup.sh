#!/usr/bin/env bash
# Installs the Debian packages that building and testing crib need.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi

packages=(
  # C libraries crib links against
  libarchive-dev libssl-dev zlib1g-dev libzstd-dev libseccomp-dev libdeflate-dev libcap-dev
  # a release build links Foundation statically, and FoundationNetworking then needs libcurl.so
  libcurl4-openssl-dev
  # tools the tests read crib's output back with, and run against
  skopeo umoci podman busybox-static docker-registry apache2-utils libcap2-bin uidmap
  debootstrap pigz zstd curl jq iproute2 attr python3 e2fsprogs time
  # the checkpoint tests compile their static test programs
  gcc libc6-dev
  # the JDK whose jlink makes the JDK and JRE images of the Java build test
  openjdk-17-jdk-headless
  # the peers bench/build.sh compares crib build with
  podman buildah runc
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
