#!/usr/bin/env bash
# Installs every Debian package recur needs to build, test and run its demos on a fresh machine.
# Idempotent; run as root (or with sudo available).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config   # toolchain
  libdnnl-dev                                    # oneDNN: GEMMs (f32, bf16 on AMX)
  ocl-icd-opencl-dev                             #   its CMake config looks for OpenCL (recommended, not a dependency)
  libhwy-dev                                     # Highway: the cells' vector sigmoid and tanh
  liblapack-dev                                  # LAPACK: Cholesky ridge solves, eigenvalues (ESN)
  libcli11-dev nlohmann-json3-dev                # command line, JSON (safetensors headers)
  libgtest-dev googletest libbenchmark-dev       # tests and benchmarks
  python3 python3-numpy python3-torch            # PyTorch reference for parity tests and benchmarks
  python3-dev pybind11-dev python3-pytest        # the Python package and its tests
  python3-pip python3-venv                       #   pip install . (and the test that installs into a venv)
  libopenblas0-pthread                           # a real BLAS under that PyTorch (the default is the reference BLAS)
  bible-kjv                                      # real text: the King James Bible
  fortunes fortunes-bg fortunes-br fortunes-cs   # classification text (recur data): fortune files
  fortunes-de fortunes-eo fortunes-es            #   in 12 languages, the English ones also by topic
  fortunes-ga fortunes-it fortunes-pl
  fortunes-ru fortunes-zh
  dataset-fashion-mnist                          # classification images: Fashion-MNIST (IDX, gzip)
  zlib1g-dev                                     # zlib: reads the gzip-compressed IDX files
  libonnx-dev libprotobuf-dev python3-onnx       # ONNX models in and out (and the checker in tests)
  libopenmpi-dev openmpi-bin                     # data-parallel training (mpirun -np N recur train-...)
  libcpp-httplib-dev wrk curl                    # recur serve (HTTP), its load benchmark and smoke test
  python3-vega-datasets                          # forecasting: seattle-weather.csv, stocks.csv
  pocketsphinx-en-us                             # grapheme-to-phoneme: CMUdict (recur data cmudict)
  clang-14 libclang-rt-14-dev libfuzzer-14-dev   # fuzzing (scripts/fuzz.sh) and ThreadSanitizer
  libomp-14-dev                                  #   (scripts/test.sh --tsan: libomp and Archer)
)
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} packages already installed"
fi
