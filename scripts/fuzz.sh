#!/usr/bin/env bash
# libFuzzer targets for every loader and for `recur serve`'s requests (fuzz/, docs/fuzzing.md).
# Builds build-fuzz/ (clang-14, -DRECUR_FUZZ=ON) and runs the targets.
set -euo pipefail

usage() {
  cat <<'TEXT'
Usage: scripts/fuzz.sh [--smoke] [--runs N] [TARGET...] [-- LIBFUZZER_ARGS...]

Builds the fuzz targets in build-fuzz/ (configured on first use with clang-14 and
-DRECUR_FUZZ=ON: the library with ASan, UBSan and coverage instrumentation) and runs them,
one at a time, each over its seed corpus fuzz/corpus/TARGET/.

  (no options)   every target for 1,000,000 executions (--runs), new inputs kept in
                 build-fuzz/corpus/TARGET/ (the committed seeds are only read)
  --smoke        every target over its seed corpus plus 20,000 executions or 15 s, whichever
                 comes first: a few minutes in all (CI)
  --runs N       executions per target (default 1000000; --smoke: 20000)
  TARGET...      only these: safetensors npy onnx text tsv conll csv idx checkpoint request
  -- ARGS        passed to libFuzzer as they are (e.g. -- -max_total_time=600 -jobs=2)

Every run uses -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10, so a huge allocation, a
leak, a hang, a crash or a sanitizer report is a finding: libFuzzer writes the input to
build-fuzz/artifacts/TARGET/ and this script exits non-zero (after running the other targets).
Reproduce one with: build-fuzz/fuzz/TARGET_fuzz build-fuzz/artifacts/TARGET/crash-...
Minimise a corpus: build-fuzz/fuzz/TARGET_fuzz -merge=1 NEW_DIR OLD_DIR...
TEXT
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build-fuzz"
all_targets=(safetensors npy onnx text tsv conll csv idx checkpoint request)
# -max_len per target: the size of a realistic input of the format (its seeds fit).
declare -A max_len=([safetensors]=65536 [npy]=16384 [onnx]=65536 [text]=16384 [tsv]=16384
                    [conll]=16384 [csv]=16384 [idx]=8192 [checkpoint]=65536 [request]=4096)

smoke=0
runs=""
targets=()
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --smoke) smoke=1 ;;
    --runs) runs="$2"; shift ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "fuzz.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *)
      [[ -n "${max_len[$1]:-}" ]] || { echo "fuzz.sh: unknown target '$1'; targets: ${all_targets[*]}" >&2; exit 2; }
      targets+=("$1") ;;
  esac
  shift
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
[[ -n "$runs" ]] || runs=$([[ $smoke == 1 ]] && echo 20000 || echo 1000000)

if [[ ! -f "$build/build.ninja" ]]; then
  command -v clang++-14 >/dev/null || { echo "fuzz.sh: clang++-14 is missing (scripts/setup.sh installs it)" >&2; exit 1; }
  CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja -DRECUR_FUZZ=ON \
    -DRECUR_BUILD_TESTS=OFF -DRECUR_PYTHON=OFF -DRECUR_MPI=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C "$build" -j"${FUZZ_BUILD_JOBS:-2}" "${targets[@]/%/_fuzz}"

export OMP_NUM_THREADS=1  # the request target runs small models; no thread pool per input
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
start=$SECONDS
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  [[ $smoke == 1 ]] && work=$(mktemp -d)
  mkdir -p "$work" "$build/artifacts/$t"
  args=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -max_len="${max_len[$t]}"
        -runs="$runs" -print_final_stats=1 -artifact_prefix="$build/artifacts/$t/")
  [[ $smoke == 1 ]] && args+=(-max_total_time=15)
  [[ -f "$root/fuzz/$t.dict" ]] && args+=(-dict="$root/fuzz/$t.dict")
  echo "== $t: ${args[*]} ${extra[*]:-}"
  t0=$SECONDS
  if "$build/fuzz/${t}_fuzz" "${args[@]}" "${extra[@]}" "$work" "$root/fuzz/corpus/$t" \
       > "$build/artifacts/$t/log.txt" 2>&1; then
    grep -E "^(#[0-9]+\s+DONE|stat::number_of_executed_units|stat::average_exec_per_sec)" \
      "$build/artifacts/$t/log.txt" || true
    echo "== $t: ok ($((SECONDS - t0)) s)"
  else
    tail -n 40 "$build/artifacts/$t/log.txt"
    echo "== $t: FAILED ($((SECONDS - t0)) s); log: $build/artifacts/$t/log.txt"
    failed+=("$t")
  fi
  [[ $smoke == 1 ]] && rm -rf "$work"
done
echo "fuzz.sh: ${#targets[@]} targets in $((SECONDS - start)) s"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: findings in: ${failed[*]}" >&2
  exit 1
fi
