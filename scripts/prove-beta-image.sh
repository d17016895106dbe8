#!/usr/bin/env bash
# Builds the Debian beta image and the pingperf application as layer
# directories without crib, following Dockerfile.debian.openjdk21 and
# examples/pingperf/Dockerfile step by step, then checkpoints pingperf at a
# phase and restores it in fresh namespaces, timing both against a cold start.
#
# Usage: prove-beta-image.sh [PHASE...]   (default: applications)
# Environment:
#   RUNS         cold starts and restores to time, each (default 3); prints every time and the median
#   BASE_ROOTFS  debootstrapped trixie (debian-base.sh --rootfs-only); default /work/scratch/trixie-rootfs
#   WORK         scratch directory; default /work/scratch/prove
# Runs as root. Needs debootstrap's output, overlayfs, iproute2 and curl.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
base=${BASE_ROOTFS:-/work/scratch/trixie-rootfs}
work=${WORK:-/work/scratch/prove}
phases=("${@:-applications}")
runs=${RUNS:-3}
container=$repo/scripts/container-without-crib.sh

mkdir -p "$work"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Runs CMD in a chroot of the overlay LOWER+UPPER, as a RUN step would.
run_step() {
  local lower=$1 upper=$2
  shift 2
  mkdir -p "$upper" "$upper.work" "$upper.mnt"
  unshare --mount --propagation private bash -c '
    set -e
    lower=$1 upper=$2; shift 2
    mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$upper.work" "$upper.mnt"
    mount -t proc proc "$upper.mnt/proc"
    mount --rbind /dev "$upper.mnt/dev"
    mount --bind /etc/resolv.conf "$upper.mnt/etc/resolv.conf"
    exec chroot "$upper.mnt" "$@"' step "$lower" "$upper" "$@"
}

# Layer 1: the runtime install step (apt, criu from sid, setcap).
runtime=$work/layer-runtime
if [ ! -e "$runtime.done" ]; then
  rm -rf "$runtime" "$runtime.work"
  mkdir -p "$runtime/opt/beta/helpers/build"
  cp "$repo/beta-image/helpers/build/install-runtime-debian.sh" "$runtime/opt/beta/helpers/build/"
  t0=$(now)
  run_step "$base" "$runtime" /opt/beta/helpers/build/install-runtime-debian.sh > "$work/runtime.log" 2>&1
  echo "runtime layer: $(elapsed "$t0" "$(now)") s, $(du -sh "$runtime" | cut -f1)"
  touch "$runtime.done"
fi

# Layer 2: user 1001:0, directories, helpers (always rebuilt: helpers change).
beta=$work/layer-beta
rm -rf "$beta" "$beta.work"
run_step "$runtime:$base" "$beta" sh -c '
  useradd --uid 1001 --gid 0 --no-create-home --home-dir /config --shell /usr/sbin/nologin server
  mkdir -p /config/apps /output/checkpoint /logs
  chown -R 1001:0 /config /output /logs
  chmod -R g+rwX /config /output /logs'
mkdir -p "$beta/opt/beta"
cp -r "$repo/beta-image/helpers" "$beta/opt/beta/"
chmod -R a+rX "$beta/opt/beta/helpers"

# The JDK stage: openjdk-21-jdk-headless on trixie, then javac and jar as the Dockerfile runs them.
jdk=$work/layer-jdk
if [ ! -e "$jdk.done" ]; then
  rm -rf "$jdk" "$jdk.work"
  run_step "$base" "$jdk" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-21-jdk-headless >/dev/null && rm -rf /var/lib/apt/lists/*'
  touch "$jdk.done"
fi
rm -rf "$jdk/build"
mkdir -p "$jdk/build"
cp -r "$repo/examples/pingperf/src" "$jdk/build/src"
run_step "$base" "$jdk" sh -c 'mkdir -p /build/classes \
  && javac --release 21 -nowarn -d /build/classes $(find /build/src -name "*.java") 2>/dev/null \
  && printf "Main-Class: pingperf.Startup\n" > /build/manifest \
  && jar --create --file /build/pingperf.jar --manifest /build/manifest -C /build/classes .'

# Layer 3: pingperf (COPY --chown=1001:0 --from=build, COPY the settings, RUN configure.sh).
app=$work/layer-pingperf
rm -rf "$app" "$app.work"
mkdir -p "$app/config/apps"
cp "$jdk/build/pingperf.jar" "$app/config/apps/pingperf.jar"
cp "$repo/examples/pingperf/jvm.options" "$repo/examples/pingperf/pingperf.properties" "$app/config/"
chown -R 1001:0 "$app/config"
run_step "$beta:$runtime:$base" "$app" setpriv --reuid 1001 --regid 0 --clear-groups \
  env PATH=/opt/beta/helpers/build:/usr/bin:/bin VERBOSE=true configure.sh

image="$app:$beta:$runtime:$base"
entrypoint=(/usr/bin/tini -g -s -- /opt/beta/helpers/runtime/docker-server.sh /opt/beta/helpers/runtime/server-run)

# Polls /pingperf/ping inside NETNS every 5 ms; prints seconds since T0 at the first 200.
first_response() {
  local netns=$1 t0=$2 deadline=$((SECONDS + 60))
  until ip netns exec "$netns" curl -sf -o /dev/null --max-time 1 http://127.0.0.1:9080/pingperf/ping; do
    [ $SECONDS -lt $deadline ] || { echo "no response within 60 s" >&2; return 1; }
    sleep 0.005
  done
  elapsed "$t0" "$(now)"
}

fresh_netns() {
  ip netns del "$1" 2>/dev/null || true
  ip netns add "$1"
  ip -n "$1" link set lo up
}

# unshare ignores SIGTERM while it waits, so signal the container's PID 1
# (tini, which passes it on) and wait for unshare to return.
stop_container() {
  local pid=$1 init
  init=$(ps -o pid= --ppid "$pid" | tr -d ' ')
  [ -z "$init" ] || kill -TERM "$init" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Cold start: no WLP_CHECKPOINT, the entrypoint execs the server.
colds=()
for run in $(seq "$runs"); do
  fresh_netns prove-cold
  rm -rf "$work/cold" "$work/cold.work"
  t0=$(now)
  "$container" --lower "$image" --upper "$work/cold" --netns prove-cold -- "${entrypoint[@]}" > "$work/cold.log" 2>&1 &
  cold_pid=$!
  colds+=("$(first_response prove-cold "$t0")")
  stop_container "$cold_pid"
  ip netns del prove-cold
done
cold=$(median "${colds[@]}")
echo "cold start to first response: median $cold s (runs: ${colds[*]})"

for phase in "${phases[@]}"; do
  echo "== phase $phase"
  fresh_netns prove-dump
  rm -rf "$work/ckpt-$phase" "$work/ckpt-$phase.work"
  t0=$(now)
  status=0
  "$container" --lower "$image" --upper "$work/ckpt-$phase" --netns prove-dump --pid-floor 1000 \
    --env WLP_CHECKPOINT="$phase" -- "${entrypoint[@]}" > "$work/ckpt-$phase.log" 2>&1 || status=$?
  t1=$(now)
  ip netns del prove-dump
  cat "$work/ckpt-$phase.log"
  [ "$status" -eq 0 ] || { echo "checkpoint run exited with status $status" >&2; exit 1; }
  echo "checkpoint run (start, reach $phase, dump, exit): $(elapsed "$t0" "$t1") s"
  echo "checkpoint layer: $(du -sh "$work/ckpt-$phase" | cut -f1), CRIU images: $(du -sh "$work/ckpt-$phase/output/checkpoint/image" | cut -f1)"

  restores=()
  for run in $(seq "$runs"); do
    fresh_netns prove-restore
    rm -rf "$work/restore-$phase" "$work/restore-$phase.work"
    t0=$(now)
    "$container" --lower "$work/ckpt-$phase:$image" --upper "$work/restore-$phase" --netns prove-restore \
      -- "${entrypoint[@]}" > "$work/restore-$phase.log" 2>&1 &
    restore_pid=$!
    restores+=("$(first_response prove-restore "$t0")") || { cat "$work/restore-$phase.log"; exit 1; }
    if [ "$run" -eq 1 ]; then
      ip netns exec prove-restore curl -s http://127.0.0.1:9080/pingperf/stats
      echo
    fi
    # SIGTERM must reach the restored server through tini and the entrypoint.
    t0=$(now)
    stop_container "$restore_pid"
    stopped=$(elapsed "$t0" "$(now)")
    ip netns del prove-restore
  done
  echo "restore to first response: median $(median "${restores[@]}") s (runs: ${restores[*]}); cold start median $cold s"
  echo "restored server stopped $stopped s after SIGTERM"
  cat "$work/restore-$phase.log"
done
