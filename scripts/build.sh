#!/usr/bin/env bash
# Configures and builds recur (library, `recur` tool, tests) into build/ (or build-asan/ with
# --sanitize: AddressSanitizer + UndefinedBehaviorSanitizer, debug info, -O1; or build-tsan/ with
# --tsan: ThreadSanitizer, clang 14, -O1).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
flags=(-DCMAKE_BUILD_TYPE=Release)
if [[ "${1:-}" == "--sanitize" ]]; then
  dir=build-asan
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECUR_SANITIZE=ON "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g")
elif [[ "${1:-}" == "--tsan" ]]; then
  dir=build-tsan
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECUR_TSAN=ON "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
         -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DRECUR_PYTHON=OFF -DRECUR_MPI=OFF)
fi
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# A configure that failed (a package missing) leaves a cache but no build files: configure again.
if [[ ! -f "$dir/CMakeCache.txt" || ( ! -f "$dir/build.ninja" && ! -f "$dir/Makefile" ) ]]; then
  cmake -S . -B "$dir" "${generator[@]}" "${flags[@]}"
fi
cmake --build "$dir" -j "${RECUR_JOBS:-2}"
