#!/usr/bin/env bash
# Runs a command in a container made by hand from layer directories, the way
# crib's runner will: overlayfs over the layers, new mount/PID/UTS/IPC
# namespaces, an existing network namespace, pivot_root, a minimal /dev, a
# new session, and the image's user 1001:0 with no capabilities. criu gets
# its capabilities from its file capabilities, because the caller's bounding
# set stays and no_new_privs stays off. The script exists to prove the beta
# image's checkpoint and restore before crib can run images.
#
# Usage: container-without-crib.sh [options] -- CMD...
#   --lower DIRS     overlay lower directories, colon-separated, topmost first
#   --upper DIR      overlay upper directory (created; gets the container's changes)
#   --netns NAME     run in network namespace NAME (ip netns add NAME first)
#   --pid-floor N    write N to ns_last_pid before CMD, as crib's init does
#                    for a checkpoint run, so the application's PIDs start above N
#   --env K=V        set a variable (repeatable); PATH and HOME come from the image
#   --user UID:GID   default 1001:0
# Runs as root.
set -euo pipefail

lower= upper= netns= pid_floor= user=1001:0
envs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lower) lower=$2; shift 2 ;;
    --upper) upper=$2; shift 2 ;;
    --netns) netns=$2; shift 2 ;;
    --pid-floor) pid_floor=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --user) user=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "container-without-crib.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$lower" ] && [ -n "$upper" ] && [ $# -gt 0 ] || { echo "container-without-crib.sh: --lower, --upper and a command are required" >&2; exit 2; }

mkdir -p "$upper" "$upper.work" "$upper.mnt"
run=(unshare --mount --pid --fork --uts --ipc --propagation private)
[ -z "$netns" ] || run=(ip netns exec "$netns" "${run[@]}")

# The container's side, run as PID 1 of the new PID namespace. It is passed
# with -c so that the container's stdin stays the caller's.
inside=$(cat <<'INSIDE'
set -euo pipefail
lower=$1 upper=$2 pid_floor=$3 user=$4 env_count=$5
shift 5
envs=("${@:1:$env_count}")
shift "$env_count"
root=$upper.mnt

mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$upper.work" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t tmpfs -o nosuid,mode=755,size=64k tmpfs "$root/dev"
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r name major minor <<< "$node"
  mknod -m 666 "$root/dev/$name" c "$major" "$minor"
done
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mkdir "$root/dev/shm" "$root/dev/pts"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$root/dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$root/tmp"
hostname container

cd "$root"
mkdir -p .old-root
pivot_root . .old-root
umount -l /.old-root
rmdir /.old-root

# Only this PID namespace's counter moves. crib's init does the same before
# a checkpoint run, so the dumped PIDs sit above those a restore uses.
if [ -n "$pid_floor" ]; then
  echo "$pid_floor" > /proc/sys/kernel/ns_last_pid
fi

# As runtimes do without -i: stdin is the container's own /dev/null, which
# criu can find again at restore (the host's is on a mount it cannot see).
exec < /dev/null

# File descriptors inherited from the caller would end up in the dump and be
# missing at restore.
for fd in /proc/self/fd/*; do
  fd=${fd##*/}
  [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
done

# Like runc, make the container's first process a session leader: criu
# rejects a dump whose session lies outside the container's PID namespace
# ("A session leader of N(N) is outside of its pid namespace"), even with
# --shell-job.
image_path=/opt/beta/helpers/build:/opt/beta/helpers/runtime:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec /usr/bin/setsid /usr/bin/setpriv --reuid "${user%:*}" --regid "${user#*:}" --clear-groups \
  /usr/bin/env -i PATH="$image_path" HOME=/config CONFIG_DIR=/config CHECKPOINT_DIR=/output/checkpoint \
  JAVA_HOME=/usr/lib/jvm/java-21-openjdk-amd64 "${envs[@]}" sh -c 'cd /config && exec "$@"' sh "$@"
INSIDE
)
exec "${run[@]}" bash -c "$inside" container "$lower" "$upper" "$pid_floor" "$user" "${#envs[@]}" "${envs[@]}" "$@"
