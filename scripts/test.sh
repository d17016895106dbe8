#!/usr/bin/env bash
# Sets up a Debian 12 machine (as root) and runs crib's whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# The checkpoint tests restore programs with criu 4.2 from sid in a trixie root file system;
# made once and cached (CRIB_TEST_CACHE, default /var/cache/crib-tests).
bash scripts/criu-test-base.sh
swift build

# Integration tests run the built binary through CRIB_BINARY. The rootless tests run it as
# other users, who may not be able to reach a checkout under /root, so it is copied to a
# directory everyone can read.
binary_directory=$(mktemp -d /tmp/crib-test-binary.XXXXXX)
trap 'rm -rf "$binary_directory"' EXIT
chmod 755 "$binary_directory"
install -m 755 .build/debug/crib "$binary_directory/crib"
# crib spawns containers through crib-shim when it sits beside crib.
install -m 755 .build/debug/crib-shim "$binary_directory/crib-shim"
export CRIB_BINARY="$binary_directory/crib"

swift test "$@"
