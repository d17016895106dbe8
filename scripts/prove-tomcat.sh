#!/usr/bin/env bash
# Checkpoints Debian's Tomcat 10 from outside the container, as
# `crib checkpoint --trigger http:…` will: start it, wait for its example
# page, run the image's criu inside the container's namespaces as user 1001,
# then restore in a fresh container and time both to the first response.
# Run scripts/prove-beta-image.sh first: it builds the layers this reuses.
#
# Usage: prove-tomcat.sh   (WORK as for prove-beta-image.sh)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
base=${BASE_ROOTFS:-/work/scratch/trixie-rootfs}
work=${WORK:-/work/scratch/prove}
container=$repo/scripts/container-without-crib.sh
cd "$work"
[ -d layer-beta ] || { echo "prove-tomcat.sh: $work/layer-beta missing; run prove-beta-image.sh first" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
fresh_netns() {
  ip netns del "$1" 2>/dev/null || true
  ip netns add "$1"
  ip -n "$1" link set lo up
}
# Polls URL inside NETNS every 5 ms; prints seconds since T0 at the first 2xx.
first_response() {
  local netns=$1 url=$2 t0=$3 deadline=$((SECONDS + 120))
  until ip netns exec "$netns" curl -sf -o /dev/null --max-time 2 "$url"; do
    [ $SECONDS -lt $deadline ] || { echo "no response from $url within 120 s" >&2; return 1; }
    sleep 0.005
  done
  elapsed "$t0" "$(now)"
}

# The Dockerfile's RUN step (apt-get install tomcat10 tomcat10-examples, chown to 1001:0).
if [ ! -e layer-tomcat.done ]; then
  rm -rf layer-tomcat layer-tomcat.work
  mkdir -p layer-tomcat layer-tomcat.work layer-tomcat.mnt
  unshare --mount --propagation private bash -c '
    set -e
    mount -t overlay overlay -o "lowerdir=$1,upperdir=layer-tomcat,workdir=layer-tomcat.work" layer-tomcat.mnt
    mount -t proc proc layer-tomcat.mnt/proc
    mount --rbind /dev layer-tomcat.mnt/dev
    mount --bind /etc/resolv.conf layer-tomcat.mnt/etc/resolv.conf
    chroot layer-tomcat.mnt sh -c "
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq --no-install-recommends tomcat10 tomcat10-examples
      apt-get clean && rm -rf /var/lib/apt/lists/*
      chown -R 1001:0 /etc/tomcat10 /var/lib/tomcat10 /var/log/tomcat10 /var/cache/tomcat10
      chmod -R g+rwX /etc/tomcat10 /var/lib/tomcat10 /var/log/tomcat10 /var/cache/tomcat10"' \
    tomcat "layer-beta:layer-runtime:$base" > tomcat-install.log 2>&1
  touch layer-tomcat.done
fi
image="layer-tomcat:layer-beta:layer-runtime:$base"
envs=(--env CATALINA_HOME=/usr/share/tomcat10 --env CATALINA_BASE=/var/lib/tomcat10 --env CATALINA_TMPDIR=/tmp
  --env "JAVA_OPTS=-XX:-UsePerfData -Djava.awt.headless=true -Xms32m -Xmx256m -XX:+UseSerialGC")
url=http://127.0.0.1:8080/examples/

# Checkpoint run: the image's own entrypoint and command, PIDs above 1000 as crib's init starts them.
fresh_netns tomcat-dump
rm -rf tomcat-ckpt tomcat-ckpt.work
t0=$(now)
( "$container" --lower "$image" --upper tomcat-ckpt --netns tomcat-dump --pid-floor 1000 "${envs[@]}" -- \
    /usr/bin/tini -g -s -- /opt/beta/helpers/runtime/docker-server.sh /usr/share/tomcat10/bin/catalina.sh run 2>&1 \
    | cat > tomcat-ckpt.log ) &
cold=$(first_response tomcat-dump "$url" "$t0")
echo "tomcat cold start to first response: $cold s"
# A few more requests, as crib's --warmup would send.
for _ in $(seq 20); do ip netns exec tomcat-dump curl -sf -o /dev/null "$url"; done

tini=$(ps -eo pid=,args= | awk '$2 == "/usr/bin/tini" && /catalina/ {print $1}' | head -n 1)
java=$(ps -o pid= --ppid "$tini" | tr -d ' ')
java_in_container=$(awk '/^NSpid/ {print $3}' "/proc/$java/status")
t0=$(now)
# --tcp-established: a kept-alive request connection may still be open.
# --network-lock nftables: locking those needs a firewall; the image has
# no iptables binary, criu 4.2 links libnftables. --leave-stopped: tini,
# the container's PID 1, would end the PID namespace, criu included, the
# moment criu killed Tomcat; crib's init stays, so crib needs no such flag.
nsenter -t "$tini" -m -u -i -n -p -r -w setpriv --reuid 1001 --regid 0 --clear-groups \
  env -i PATH=/usr/sbin:/usr/bin:/bin sh -c "
    set -e
    mkdir -p /output/checkpoint/trigger
    for fd in 0 1 2; do echo \"\$fd \$(readlink /proc/$java_in_container/fd/\$fd)\"; done > /output/checkpoint/trigger.stdio
    criu dump --tree $java_in_container --images-dir /output/checkpoint/trigger --log-file /output/checkpoint/trigger-dump.log \
      --unprivileged --shell-job --tcp-established --network-lock nftables --leave-stopped"
dump=$(elapsed "$t0" "$(now)")
kill -KILL "$java"
wait
ip netns del tomcat-dump
echo "criu dump: $dump s; CRIU images $(du -sh tomcat-ckpt/output/checkpoint/trigger | cut -f1), checkpoint layer $(du -sh tomcat-ckpt | cut -f1)"

# Restore: criu first, as crib run will for a trigger checkpoint.
fresh_netns tomcat-restore
rm -rf tomcat-restore tomcat-restore.work
t0=$(now)
( "$container" --lower "tomcat-ckpt:$image" --upper tomcat-restore --netns tomcat-restore -- /usr/bin/tini -g -s -- bash -c '
    flags=()
    while read -r fd target; do
      case "$target" in pipe:*) flags+=(--inherit-fd "fd[$fd]:$target") ;; esac
    done < /output/checkpoint/trigger.stdio
    # Pipes owned by user 1001, read by this shell'"'"'s children (criu waits for all of its own).
    exec {out}> >(exec cat) {err}> >(exec cat >&2)
    criu restore --images-dir /output/checkpoint/trigger --work-dir /tmp --log-file restore.log \
      --unprivileged --shell-job --tcp-close "${flags[@]}" >&"$out" 2>&"$err" {out}>&- {err}>&-' 2>&1 \
    | cat > tomcat-restore.log ) &
restored=$(first_response tomcat-restore "$url" "$t0")
echo "tomcat restore to first response: $restored s (cold start $cold s, $(awk -v r="$restored" -v c="$cold" 'BEGIN { printf "%.1f", 100 * r / c }') %)"
ip netns exec tomcat-restore curl -s http://127.0.0.1:8080/examples/servlets/servlet/HelloWorldExample | grep -o '<h1>.*</h1>'

# The restored Tomcat is in a process group of its own: signal it directly.
tini=$(ps -eo pid=,args= | awk '$2 == "/usr/bin/tini" && /criu restore/ {print $1}' | head -n 1)
for candidate in $(pgrep -x java); do
  [ "$(readlink "/proc/$candidate/ns/pid")" = "$(readlink "/proc/$tini/ns/pid")" ] && java=$candidate
done
kill -TERM "$java"
wait
ip netns del tomcat-restore
tail -n 3 tomcat-restore.log
