#!/usr/bin/env bash
# Builds recur and runs the whole test suite with CTest: gradient checks, PyTorch parity, the
# command-line tests. With --sanitize, the same suite under ASan + UBSan (build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
dir=build
[[ "${1:-}" == "--sanitize" ]] && dir=build-asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$dir" --output-on-failure -j "${RECUR_JOBS:-2}"
