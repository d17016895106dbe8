#!/usr/bin/env bash
# Sets up a Debian 12 machine (as root) and runs crib's whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# The checkpoint tests restore programs with criu 4.2 from sid in a trixie root file system;
# made once and cached (CRIB_TEST_CACHE, default /var/cache/crib-tests).
bash scripts/criu-test-base.sh
swift build
# Integration tests run the built binary; they find it through CRIB_BINARY.
export CRIB_BINARY="$PWD/.build/debug/crib"
swift test "$@"
