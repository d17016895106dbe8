#!/bin/sh
# Checks an application image's layout at build time (RUN configure.sh), so
# that a mistake fails the build rather than the checkpoint run. For a plain
# JVM server (the default):
#  - exactly one executable jar in /config/apps (server-run starts it),
#  - /config/jvm.options, if present, holds only options or comments,
#  - the checkpoint directory is writable by the server's user,
#  - no checkpoint is already present (a restore would ignore the new app).
# With CHECKPOINT_RUNTIME=liberty: /config/server.xml and an application.
# VERBOSE=true prints what was checked.
set -eu

config=${CONFIG_DIR:-/config}
checkpoint_dir=${CHECKPOINT_DIR:-/output/checkpoint}
verbose=${VERBOSE:-false}

fail() {
  echo "configure.sh: $*" >&2
  exit 1
}
say() {
  [ "$verbose" != true ] || echo "configure.sh: $*"
}

if [ "${CHECKPOINT_RUNTIME:-jvm}" = liberty ]; then
  # Open Liberty reads /config/server.xml and deploys what it names or what
  # sits in /config/apps and /config/dropins.
  [ -f "$config/server.xml" ] || fail "$config/server.xml is missing; COPY your server.xml there"
  grep -q '<server' "$config/server.xml" || fail "$config/server.xml has no <server> element"
  apps=$(find "$config/apps" "$config/dropins" -maxdepth 1 \( -name '*.war' -o -name '*.ear' -o -name '*.xml' \) 2>/dev/null | wc -l)
  [ "$apps" -gt 0 ] || fail "no application (.war, .ear or loose .xml) in $config/apps or $config/dropins"
  say "Open Liberty server with $apps application(s)"
  exit 0
fi

count=0
jar=
for candidate in "$config"/apps/*.jar; do
  [ -f "$candidate" ] || continue
  count=$((count + 1))
  jar=$candidate
done
[ "$count" -eq 1 ] || fail "expected exactly one application jar in $config/apps, found $count"
# A jar is a zip file: its first two bytes are "PK".
[ "$(head -c 2 "$jar")" = PK ] || fail "$jar is not a jar (zip) file"
say "application $jar"

if [ -f "$config/jvm.options" ]; then
  line_number=0
  while IFS= read -r line || [ -n "$line" ]; do
    line_number=$((line_number + 1))
    trimmed=$(printf '%s' "$line" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
    case "$trimmed" in
      ''|'#'*|-*) ;;
      *) fail "$config/jvm.options line $line_number: expected a JVM option starting with '-', got: $trimmed" ;;
    esac
  done < "$config/jvm.options"
  say "JVM options from $config/jvm.options"
fi

mkdir -p "$checkpoint_dir" 2>/dev/null || true
[ -d "$checkpoint_dir" ] && [ -w "$checkpoint_dir" ] \
  || fail "$checkpoint_dir is missing or not writable by user $(id -u); build the image FROM the beta image and keep USER 1001"
[ ! -e "$checkpoint_dir/image/inventory.img" ] \
  || fail "$checkpoint_dir/image already holds a checkpoint; build the application FROM the beta image, not FROM a checkpoint image"
say "checkpoint directory $checkpoint_dir"
