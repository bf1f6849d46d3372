"""Load FER-2013 from its CSV (``emotion,pixels,Usage``) or from an image-folder tree.

Both loaders return a :class:`Dataset` of uint8 ``N x 48 x 48 x 1`` faces, each face made by
:func:`fer.preprocessing.face_to_input`, with integer labels indexing ``Dataset.labels``.
"""

import dataclasses
import gzip
import logging
import pathlib

import cv2
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ..labels import EMOTIONS
from ..preprocessing import FACE_SIZE, face_to_input

log = logging.getLogger(__name__)

CSV_COLUMNS = ("emotion", "pixels", "Usage")
USAGE_TO_SPLIT = {"Training": "train", "PublicTest": "validation", "PrivateTest": "test"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}
FOLDER_SPLITS = {"train": ("train", "training"), "validation": ("validation", "val", "valid"),
                 "test": ("test", "testing")}


class DataError(ValueError):
    """Input data that cannot be trained on; the message names the line or file and the fault."""


@dataclasses.dataclass
class Split:
    """Faces (uint8, ``N x 48 x 48 x 1``) and their integer labels."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.labels)


@dataclasses.dataclass
class Dataset:
    """Train, validation and test splits with the label names their integers index."""

    train: Split
    validation: Split
    test: Split
    labels: tuple
    test_is_validation: bool = False

    def split(self, name):
        """Return the split called ``train``, ``validation`` or ``test``."""
        return getattr(self, name)


def _empty_split():
    return Split(np.empty((0, FACE_SIZE, FACE_SIZE, 1), np.uint8), np.empty((0,), np.int32))


def _parse_pixels(text, line):
    values = text.split()
    if len(values) != FACE_SIZE * FACE_SIZE:
        raise DataError(f"line {line}: expected {FACE_SIZE * FACE_SIZE} pixel values, found {len(values)}")
    try:
        pixels = np.array(values, dtype=np.int64)
    except ValueError:
        bad = next(value for value in values if not value.lstrip("-").isdigit())
        raise DataError(f"line {line}: pixel value {bad!r} is not a whole number") from None
    if pixels.min() < 0 or pixels.max() > 255:
        raise DataError(f"line {line}: pixel values must lie in 0-255, found {pixels.min()}..{pixels.max()}")
    return pixels.astype(np.uint8).reshape(FACE_SIZE, FACE_SIZE)


def _parse_label(text, line):
    try:
        label = int(str(text).strip())
    except ValueError:
        raise DataError(f"line {line}: emotion {text!r} is not a whole number") from None
    if not 0 <= label < len(EMOTIONS):
        raise DataError(f"line {line}: emotion {label} is out of range 0-{len(EMOTIONS) - 1}")
    return label


def _read_table(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            table = pd.read_csv(handle, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise DataError(f"{path}: cannot be read as CSV ({error})") from None
    missing = [column for column in CSV_COLUMNS if column not in table.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; "
                        f"expected the header {','.join(CSV_COLUMNS)}")
    if table.empty:
        raise DataError(f"{path}: the file has a header but no rows")
    return table


def read_csv_faces(path, skip_bad_rows=False):
    """Read every valid row of a FER-2013 CSV.

    Returns ``(images, labels, usages)`` with labels as FER-2013 integers. A bad row raises
    :class:`DataError` naming its line, or with ``skip_bad_rows`` is left out and counted.
    """
    table = _read_table(path)
    images, labels, usages, skipped = [], [], [], 0
    for index, (emotion, pixels, usage) in enumerate(
            zip(table["emotion"], table["pixels"], table["Usage"].str.strip())):
        line = index + 2  # the header is line 1
        try:
            label = _parse_label(emotion, line)
            if usage not in USAGE_TO_SPLIT:
                raise DataError(f"line {line}: Usage {usage!r} is not one of {', '.join(USAGE_TO_SPLIT)}")
            face = _parse_pixels(pixels, line)
        except DataError as error:
            if not skip_bad_rows:
                raise DataError(f"{path}: {error} (use --skip-bad-rows to leave such rows out)") from None
            skipped += 1
            log.warning("skipping %s", error)
            continue
        images.append(face_to_input(face))
        labels.append(label)
        usages.append(usage)
    if skipped:
        log.warning("%s: skipped %d bad row(s) of %d", path, skipped, len(table))
    if not images:
        raise DataError(f"{path}: no valid rows")
    return np.stack(images), np.array(labels, np.int32), np.array(usages)


def _select_classes(images, labels, classes):
    """Keep faces whose FER label is in ``classes``; relabel them to indices into ``classes``."""
    fer_index = np.array([EMOTIONS.index(name) for name in classes])
    keep = np.isin(labels, fer_index)
    remap = np.full(len(EMOTIONS), -1, np.int32)
    remap[fer_index] = np.arange(len(classes), dtype=np.int32)
    return Split(images[keep], remap[labels[keep]])


def load_csv(path, classes=EMOTIONS, skip_bad_rows=False):
    """Load a FER-2013 CSV (plain or ``.gz``) into train/validation/test splits.

    Training rows train, PublicTest rows validate, PrivateTest rows test. Without PrivateTest
    rows the test split is the validation split, and the log says so.
    """
    images, labels, usages = read_csv_faces(path, skip_bad_rows)
    splits = {}
    for usage, split_name in USAGE_TO_SPLIT.items():
        chosen = usages == usage
        splits[split_name] = _select_classes(images[chosen], labels[chosen], classes)
    if not len(splits["train"]):
        raise DataError(f"{path}: no Training rows for the classes {', '.join(classes)}")
    if not len(splits["validation"]):
        raise DataError(f"{path}: no PublicTest rows to validate on")
    test_is_validation = not len(splits["test"])
    if test_is_validation:
        log.warning("%s has no PrivateTest rows: the test figures are the PublicTest ones", path)
        splits["test"] = splits["validation"]
    return Dataset(labels=tuple(classes), test_is_validation=test_is_validation, **splits)


def read_image(path):
    """Read an image file as a BGR array, upright by its EXIF orientation; :class:`DataError` if it is not one."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)  # unlike IMREAD_UNCHANGED, honours EXIF orientation
    if image is None:
        raise DataError(f"{path}: not a readable image")
    return image


def _find_split_dir(root, split):
    for name in FOLDER_SPLITS[split]:
        if (root / name).is_dir():
            return root / name
    return None


def _load_folder_split(directory, classes, skip_bad_rows):
    images, labels = [], []
    for label, emotion in enumerate(classes):
        class_dir = directory / emotion
        if not class_dir.is_dir():
            log.warning("%s: no folder for %s", directory, emotion)
            continue
        for path in sorted(class_dir.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                images.append(face_to_input(read_image(path)))
            except DataError as error:
                if not skip_bad_rows:
                    raise DataError(f"{error} (use --skip-bad-rows to leave such files out)") from None
                log.warning("skipping %s", error)
                continue
            labels.append(label)
    if not images:
        raise DataError(f"{directory}: no images in any of the folders {', '.join(classes)}")
    return Split(np.stack(images), np.array(labels, np.int32))


def load_folder(root, classes=EMOTIONS, skip_bad_rows=False, validation_fraction=0.1, seed=0):
    """Load ``train/<emotion>/*.jpg`` and ``test/<emotion>/*.jpg`` (optional ``validation/``).

    Without a validation folder, a stratified ``validation_fraction`` of train validates.
    """
    root = pathlib.Path(root)
    train_dir, test_dir = _find_split_dir(root, "train"), _find_split_dir(root, "test")
    if train_dir is None:
        raise DataError(f"{root}: no train/ folder (expected train/<emotion>/*.jpg)")
    train = _load_folder_split(train_dir, classes, skip_bad_rows)
    validation_dir = _find_split_dir(root, "validation")
    if validation_dir is not None:
        validation = _load_folder_split(validation_dir, classes, skip_bad_rows)
    else:
        log.info("%s: no validation/ folder; holding out %.0f%% of train, stratified",
                 root, 100 * validation_fraction)
        train, validation = stratified_holdout(train, validation_fraction, seed)
    if test_dir is None:
        log.warning("%s: no test/ folder: the test figures are the validation ones", root)
        return Dataset(train, validation, validation, tuple(classes), test_is_validation=True)
    return Dataset(train, validation, _load_folder_split(test_dir, classes, skip_bad_rows), tuple(classes))


def stratified_holdout(split, fraction, seed=0):
    """Split ``split`` into a kept part and a stratified held-out ``fraction``."""
    counts = np.bincount(split.labels)
    present = np.count_nonzero(counts)
    if counts[counts > 0].min() < 2:
        raise DataError("too few faces to hold out a stratified validation slice "
                        "(every class needs two); add a validation/ folder")
    held_count = max(present, int(round(fraction * len(split))))
    kept, held = train_test_split(np.arange(len(split)), test_size=held_count,
                                  stratify=split.labels, random_state=seed)
    return subset(split, kept), subset(split, held)


def subset(split, indices):
    """The faces of ``split`` at ``indices``."""
    return Split(split.images[indices], split.labels[indices])


def load_dataset(path, classes=EMOTIONS, skip_bad_rows=False, seed=0):
    """Load a CSV file or an image-folder tree, whichever ``path`` is."""
    path = pathlib.Path(path)
    if path.is_dir():
        return load_folder(path, classes, skip_bad_rows, seed=seed)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    return load_csv(path, classes, skip_bad_rows)


SCORING_ORDER = ("test", "validation", "train")
"""The split ``evaluate`` scores when none is named: the first the data has."""


def load_split(path, usage=None, classes=EMOTIONS):
    """Load the one split that ``evaluate`` scores: a CSV Usage name or a folder split name.

    Only that split's rows or folder need be there (a CSV of PrivateTest rows alone will do).
    ``usage`` defaults to PrivateTest (test) when the data has it, else PublicTest (validation),
    else Training.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    split_name = USAGE_TO_SPLIT.get(usage, usage)
    if usage is not None and split_name not in FOLDER_SPLITS:
        raise DataError(f"unknown split {usage!r}; use Training, PublicTest or PrivateTest")
    if path.is_dir():
        present = {name: _find_split_dir(path, name) for name in SCORING_ORDER}
        directory = present.get(split_name) if usage else next(filter(None, present.values()), None)
        if directory is None:
            raise DataError(f"{path}: no {usage or 'test/, validation/ or train/'} folder")
        return _load_folder_split(directory, classes, skip_bad_rows=False)
    images, labels, usages = read_csv_faces(path)
    split_to_usage = {split: name for name, split in USAGE_TO_SPLIT.items()}
    if usage is None:
        split_name = next(name for name in SCORING_ORDER if (usages == split_to_usage[name]).any())
    usage = split_to_usage[split_name]
    chosen = usages == usage
    split = _select_classes(images[chosen], labels[chosen], classes)
    if not len(split):
        raise DataError(f"{path}: has no {usage} rows for the classes {', '.join(classes)}")
    log.info("%s: scoring %d %s faces", path, len(split), usage)
    return split
