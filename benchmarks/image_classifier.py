"""Training images per second fed from files through the pipeline against fed from in-memory arrays, in one run.

    python benchmarks/image_classifier.py [--size 32] [--epochs 3] [--copies 4]

It writes scikit-learn's digits as PNG files in class folders (`--copies`
times, to have more files), then trains the same CNN from the same images:
(a) through `lepton_flow.images.dataset` (read, decode, resize, scale in
parallel, cache, shuffle, prefetch), (b) `model.fit` on the same images
already decoded and resized in one numpy array. It reports the first epoch
(files read and decoded) and the later epochs (served from the pipeline's
cache) separately. Target (the image classifier issue): (a)/(b) >= 0.8.
Run it by hand; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--copies", type=int, default=4)
    args = ap.parse_args()

    import keras

    from lepton_flow import gpu
    from lepton_flow.demo import write_digits
    from lepton_flow.images import dataset, scan
    from lepton_flow.models.cnn import build

    device = gpu.configure()
    tmp = tempfile.mkdtemp()
    try:
        root = os.path.join(tmp, "digits")
        write_digits(root)
        originals = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
        for k in range(1, args.copies):
            for path in originals:
                shutil.copyfile(path, path.replace(".png", f"-copy{k}.png"))
        found = scan(os.path.join(tmp, "digits"))
        n = len(found.files)

        def model():
            keras.utils.set_random_seed(0)
            with gpu.strategy().scope():
                m = build(args.size, found.channels, len(found.classes))
                m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            return m

        def epoch_rates(fit_one):
            times = []
            for _ in range(args.epochs + 1):
                t = time.perf_counter()
                fit_one()
                times.append(time.perf_counter() - t)
            return n / times[0], n * args.epochs / sum(times[1:])

        m = model()
        ds = dataset(found.files, found.classes, args.size, found.channels, args.batch, shuffle=True)
        files_first, files_later = epoch_rates(lambda: m.fit(ds, epochs=1, verbose=0))
        x = np.concatenate([b.numpy() for b, _ in dataset(found.files, found.classes, args.size, found.channels, 512, cache=False)])
        y = np.concatenate([b.numpy() for _, b in dataset(found.files, found.classes, args.size, found.channels, 512, cache=False)])
        m2 = model()
        mem_first, mem_later = epoch_rates(lambda: m2.fit(x, y, epochs=1, batch_size=args.batch, shuffle=True, verbose=0))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({
        "device": device.label, "images": n, "size": args.size,
        "first_epoch_images_per_s": {"files": round(files_first), "memory": round(mem_first), "ratio": round(files_first / mem_first, 3)},
        "later_epochs_images_per_s": {"files": round(files_later), "memory": round(mem_later), "ratio": round(files_later / mem_later, 3)},
    }, indent=1))


if __name__ == "__main__":
    main()
