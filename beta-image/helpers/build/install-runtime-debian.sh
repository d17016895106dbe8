#!/bin/sh
# Installs the checkpoint runtime into a Debian trixie root file system:
# OpenJDK 21 (headless JRE), criu from sid, tini, and the file capabilities
# criu needs to dump and restore as a non-root user.
# Runs as root inside the image being built (a Dockerfile RUN step or a chroot).
set -eu

export DEBIAN_FRONTEND=noninteractive

apt-get update
apt-get install -y --no-install-recommends openjdk-21-jre-headless tini libcap2-bin ca-certificates

# criu comes from sid because trixie's criu 4.1.1 cannot dump a listening TCP
# socket (needed when a server is checkpointed after it opened its port) and
# bookworm's 3.17 stops on "vdso: Unexpected rt vDSO area bounds" on 6.x kernels.
# The pin keeps every other package on trixie. Check-Valid-Until=false is
# needed because sid's Release file expires within days and a build host whose
# clock is ahead of the mirror would otherwise reject it.
cat > /etc/apt/sources.list.d/sid.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
Check-Valid-Until: no
SOURCES
cat > /etc/apt/preferences.d/sid-criu <<'PIN'
Package: *
Pin: release n=sid
Pin-Priority: 100
PIN
apt-get -o Acquire::Check-Valid-Until=false update
apt-get install -y --no-install-recommends -t sid criu
# Before setcap: once criu has file capabilities, a build step whose bounding
# set lacks them (buildah's default, for one) may no longer exec it.
criu --version

# A non-root user can run criu only when the binary carries the capabilities
# itself: CAP_CHECKPOINT_RESTORE for ns_last_pid/clone3 set_tid and
# /proc/PID/map_files, CAP_SYS_PTRACE to seize the tasks, CAP_NET_ADMIN to
# restore socket options. The container must not set no_new_privs and its
# bounding set must hold these three, or the kernel ignores the file caps.
setcap cap_checkpoint_restore,cap_net_admin,cap_sys_ptrace=eip /usr/sbin/criu
getcap /usr/sbin/criu

# Lists and caches only served this install; the sources stay so that images
# built on top can apt-get update again.
apt-get clean
rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log
