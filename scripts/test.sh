#!/usr/bin/env bash
# Builds recur and runs the whole test suite with CTest: gradient checks, PyTorch parity, the
# command-line tests. With --sanitize, the same suite under ASan + UBSan (build-asan/). With
# --tsan, the tests of the threaded paths under ThreadSanitizer (build-tsan/, clang).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
dir=build
[[ "${1:-}" == "--sanitize" ]] && dir=build-asan
if [[ "${1:-}" == "--tsan" ]]; then
  # The threaded paths: the recurrent layers' batch-row blocks (OpenMP) forward and backward and
  # the inference unit split (a spin barrier per step), the streaming and seq2seq decoders, the C
  # API and the server's Service from many threads, the data-parallel reductions, and recur serve
  # under concurrent clients. Archer makes libomp's
  # barriers and locks visible to TSan; oneDNN's own threads (libgomp) run uninstrumented code.
  export OMP_TOOL_LIBRARIES=/usr/lib/llvm-14/lib/libarcher.so
  export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp}"
  exec ctest --test-dir build-tsan --output-on-failure -j "${RECUR_JOBS:-2}" \
    -R '^(Cells/)?(RowBlocks|ConcurrentDirections|PackedGemv|RnnInference|RnnStream|StreamCases|SequenceModelStream|Seq2Seq|CApi|ServiceTest|ClassifyTest|TagTest|TranslateTest|ForecastTest|DataParallel)\.|^cli\.serve_smoke$'
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$dir" --output-on-failure -j "${RECUR_JOBS:-2}"
