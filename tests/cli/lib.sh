# Shared by the command-line tests (sourced, not run): a scratch directory removed on exit, and the
# King James Bible text from Debian's bible-kjv and Fashion-MNIST (the test is skipped, exit 77,
# where they are missing).

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# kjv_head BYTES DEST: the first BYTES bytes of the Bible into DEST (the full text stays in
# $work/full.txt); skips the test if `bible` is not installed.
kjv_head() {
  if ! command -v bible >/dev/null; then
    echo "SKIP: 'bible' not found (install bible-kjv: scripts/setup.sh)"
    exit 77
  fi
  [[ -s "$work/full.txt" ]] || bible "Gen1:1-Rev22:21" > "$work/full.txt"
  head -c "$1" "$work/full.txt" > "$2"
}

# need_fashion_mnist_numpy: sets fm to Debian's Fashion-MNIST directory (dataset-fashion-mnist);
# skips the test where it or /usr/bin/python3's numpy is missing.
need_fashion_mnist_numpy() {
  fm=/usr/share/datasets/fashion-mnist
  [[ -e $fm/t10k-labels-idx1-ubyte.gz ]] || { echo "SKIP: dataset-fashion-mnist not installed"; exit 77; }
  /usr/bin/python3 -c 'import numpy' 2>/dev/null || { echo "SKIP: python3-numpy not installed"; exit 77; }
}
