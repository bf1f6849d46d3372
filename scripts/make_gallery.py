"""Write the demo's sample faces: ``static/gallery/<emotion>/*.png`` from a FER-2013 CSV.

    python scripts/make_gallery.py --data fer2013.csv.gz --per-class 24

Faces come from the PrivateTest rows by default (the split no model here trains on or picks
checkpoints with, so the predictions shown beneath them are honest), or from the PublicTest
rows of a CSV without PrivateTest ones (never trained on, but used to pick checkpoints). Each file
is named after the face's row among the CSV's data rows (``fer2013-00042.png`` is the 43rd).
"""

import argparse
import logging
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing the package

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from fer.training.data import USAGE_TO_SPLIT, DataError, read_csv_faces  # noqa: E402
from fer.live.gallery import GALLERY_ROOT  # noqa: E402
from fer.labels import EMOTIONS  # noqa: E402

log = logging.getLogger("make_gallery")


def build_parser():
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", required=True, help="FER-2013 CSV (plain or .gz)")
    parser.add_argument("--per-class", type=int, default=24, help="faces to keep per emotion")
    parser.add_argument("--usage", choices=sorted(USAGE_TO_SPLIT), help="CSV split to draw the faces "
                        "from [default: PrivateTest, or PublicTest if the CSV has no PrivateTest rows]")
    parser.add_argument("--output", default=str(GALLERY_ROOT), help="gallery folder to (re)write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random choice of faces")
    return parser


def choose_rows(labels, usages, usage, per_class, seed):
    """Row indices per emotion: up to ``per_class`` random ``usage`` rows, in CSV order."""
    rng = np.random.default_rng(seed)
    chosen = {}
    for label, emotion in enumerate(EMOTIONS):
        rows = np.flatnonzero((labels == label) & (usages == usage))
        if len(rows) > per_class:
            rows = np.sort(rng.choice(rows, per_class, replace=False))
        chosen[emotion] = rows
    return chosen


def write_gallery(images, chosen, output):
    """Replace the PNGs of each emotion folder under ``output`` with the chosen faces."""
    for emotion, rows in chosen.items():
        folder = pathlib.Path(output) / emotion
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
        for row in rows:
            cv2.imwrite(str(folder / f"fer2013-{row:05d}.png"), images[row][:, :, 0])
        log.info("%s: %d faces", emotion, len(rows))


def main(argv=None):
    """Read the CSV, choose the faces and write them; bad input exits 2 with a reason."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    if args.per_class < 1:
        sys.stderr.write("make_gallery.py: error: --per-class must be at least 1\n")
        return 2
    try:
        images, labels, usages = read_csv_faces(args.data)
    except (DataError, FileNotFoundError) as error:
        sys.stderr.write(f"make_gallery.py: error: {error}\n")
        return 2
    usage = args.usage or ("PrivateTest" if (usages == "PrivateTest").any() else "PublicTest")
    if not (usages == usage).any():
        sys.stderr.write(f"make_gallery.py: error: {args.data} has no {usage} rows\n")
        return 2
    log.info("drawing faces from the %s rows", usage)
    chosen = choose_rows(labels, usages, usage, args.per_class, args.seed)
    write_gallery(images, chosen, args.output)
    log.info("wrote %d faces to %s", sum(len(rows) for rows in chosen.values()), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
