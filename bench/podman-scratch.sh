# Sourced by the benchmarks that run podman or buildah beside crib.
#
# use_scratch_podman DIR: points podman and buildah at a configuration and overlay storage in
# DIR, so that a benchmark leaves the host's own containers and settings alone.
#
# podman's rootful defaults ask for rlimits this machine refuses, and crun cannot run on its
# cgroup layout, so runc and lower limits are set. cgroupfs and a file event log replace
# systemd, which this machine does not run. Without tmp_dir podman writes to /run/libpod.
use_scratch_podman() {
  local dir=$1
  cat >"$dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$dir/libpod"
CONF
  cat >"$dir/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$dir/storage"
runroot = "$dir/storage-run"
CONF
  export CONTAINERS_CONF=$dir/containers.conf
  export CONTAINERS_STORAGE_CONF=$dir/storage.conf
}
