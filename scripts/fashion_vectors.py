#!/usr/bin/env python3
"""Fashion-MNIST images as condition vectors for `recur train-clm --arrays`: each image 2x2-pooled
to 14x14 = 196 values in [0, 1] (x_<split>.npy), and its class description, a line each
(y_<split>.txt). Train and valid come from the training images (valid from their end), test from
the t10k images. Reads Debian's dataset-fashion-mnist; needs numpy."""
import argparse
import gzip
import os
import struct

import numpy as np

NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
         "Ankle boot"]


def idx(root, name):
    data = gzip.open(os.path.join(root, name)).read()
    dims = struct.unpack(">" + "I" * data[3], data[4:4 + 4 * data[3]])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * data[3]).reshape(dims)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--root", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--train", type=int, default=6000)
    p.add_argument("--valid", type=int, default=1000)
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    xs, ys = idx(a.root, "train-images-idx3-ubyte.gz"), idx(a.root, "train-labels-idx1-ubyte.gz")
    xt, yt = idx(a.root, "t10k-images-idx3-ubyte.gz"), idx(a.root, "t10k-labels-idx1-ubyte.gz")
    os.makedirs(a.out, exist_ok=True)
    splits = {"train": (xs[:a.train], ys[:a.train]), "valid": (xs[-a.valid:], ys[-a.valid:]),
              "test": (xt[:a.test], yt[:a.test])}
    for split, (x, y) in splits.items():
        pooled = x.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)) / 255
        np.save(os.path.join(a.out, f"x_{split}.npy"), pooled.reshape(len(x), -1).astype(np.float32))
        with open(os.path.join(a.out, f"y_{split}.txt"), "w") as f:
            f.writelines(NAMES[k] + "\n" for k in y)


if __name__ == "__main__":
    main()
