import gzip
import logging

import cv2
import numpy as np
import pytest

from fer.training.data import DataError, load_csv, load_dataset, load_folder, load_split, read_csv_faces
from fer.labels import EMOTIONS

PIXELS = " ".join(["128"] * 2304)


def write_csv(path, rows, header="emotion,pixels,Usage"):
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def good_rows(per_usage=("Training", "PublicTest")):
    return [f"{label},{PIXELS},{usage}" for usage in per_usage for label in range(7)]


def test_sample_has_three_splits_and_all_classes(sample_csv):
    dataset = load_csv(sample_csv)
    assert (len(dataset.train), len(dataset.validation), len(dataset.test)) == (112, 35, 35)
    assert not dataset.test_is_validation
    assert set(dataset.train.labels) == set(range(7))
    assert dataset.train.images.shape == (112, 48, 48, 1) and dataset.train.images.dtype == np.uint8


def test_plain_and_gzip_csv_read_alike(sample_csv, tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_bytes(gzip.decompress(sample_csv.read_bytes()))
    assert np.array_equal(read_csv_faces(plain)[0], read_csv_faces(sample_csv)[0])


def test_without_private_test_the_test_split_is_public_test(tmp_path, caplog):
    path = write_csv(tmp_path / "two.csv", good_rows())
    with caplog.at_level(logging.WARNING):
        dataset = load_csv(path)
    assert dataset.test_is_validation and dataset.test is dataset.validation
    assert "no PrivateTest" in caplog.text


def test_class_subset_relabels_in_fer_order(sample_csv):
    dataset = load_csv(sample_csv, classes=("happy", "sad", "surprise", "neutral"))
    assert dataset.labels == ("happy", "sad", "surprise", "neutral")
    assert sorted(set(dataset.train.labels)) == [0, 1, 2, 3]
    assert len(dataset.train) == 4 * 16


@pytest.mark.parametrize("bad_row, message", [
    (f"3,{' '.join(['1'] * 2000)},Training", "line 3: expected 2304 pixel values, found 2000"),
    (f"3,{' '.join(['1'] * 2303)} x1,Training", "line 3: pixel value 'x1' is not a whole number"),
    (f"3,{' '.join(['1'] * 2303)} 300,Training", "line 3: pixel values must lie in 0-255"),
    (f"9,{PIXELS},Training", "line 3: emotion 9 is out of range 0-6"),
    (f"happy,{PIXELS},Training", "line 3: emotion 'happy' is not a whole number"),
    (f"3,{PIXELS},Validation", "line 3: Usage 'Validation' is not one of"),
])
def test_bad_rows_name_the_line_and_the_fault(tmp_path, bad_row, message):
    rows = good_rows()
    rows.insert(1, bad_row)
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(DataError, match=message.replace("(", r"\(")):
        load_csv(path)


def test_skip_bad_rows_leaves_them_out_and_counts_them(tmp_path, caplog):
    rows = good_rows()
    rows[1:1] = [f"9,{PIXELS},Training", "3,1 2 3,Training"]
    path = write_csv(tmp_path / "bad.csv", rows)
    with caplog.at_level(logging.WARNING):
        dataset = load_csv(path, skip_bad_rows=True)
    assert len(dataset.train) == 7
    assert "skipped 2 bad row(s) of 16" in caplog.text


@pytest.mark.parametrize("content, message", [
    ("", "the file is empty"),
    ("emotion,pixels,Usage\n", "has a header but no rows"),
    ("emotion,Usage\n3,Training\n", "missing column\\(s\\) pixels"),
])
def test_unusable_files_are_refused(tmp_path, content, message):
    path = tmp_path / "file.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_csv(path)


def test_a_missing_path_is_refused(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_dataset(tmp_path / "nothing.csv")


def write_folder(root, splits=("train", "test"), per_class=3):
    rng = np.random.default_rng(0)
    for split in splits:
        for emotion in EMOTIONS:
            (root / split / emotion).mkdir(parents=True)
            for index in range(per_class):
                face = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)  # colour and larger: resized
                cv2.imwrite(str(root / split / emotion / f"{index}.jpg"), face)
    return root


def test_folder_layout_loads_and_holds_out_validation(tmp_path):
    dataset = load_folder(write_folder(tmp_path, per_class=10))
    assert len(dataset.train) + len(dataset.validation) == 70
    assert len(dataset.validation) == 7  # stratified 10%: one per class
    assert sorted(dataset.validation.labels) == list(range(7))
    assert len(dataset.test) == 70 and not dataset.test_is_validation
    assert dataset.train.images.shape[1:] == (48, 48, 1)


def test_folder_with_validation_uses_it(tmp_path):
    dataset = load_folder(write_folder(tmp_path, splits=("train", "validation", "test")))
    assert (len(dataset.train), len(dataset.validation), len(dataset.test)) == (21, 21, 21)


def test_unreadable_image_names_the_file(tmp_path):
    root = write_folder(tmp_path, splits=("train", "validation"))
    (root / "train" / "happy" / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(DataError, match="broken.jpg: not a readable image"):
        load_folder(root)
    assert len(load_folder(root, skip_bad_rows=True).train) == 21


def test_folder_without_train_is_refused(tmp_path):
    with pytest.raises(DataError, match="no train/ folder"):
        load_folder(tmp_path)


def test_load_split_picks_the_usage(sample_csv, tmp_path):
    assert len(load_split(sample_csv, "PublicTest")) == 35
    assert len(load_split(sample_csv, "Training")) == 112
    two = write_csv(tmp_path / "two.csv", good_rows())
    with pytest.raises(DataError, match="has no PrivateTest rows"):
        load_split(two, "PrivateTest")


def test_read_image_turns_a_photo_upright_by_its_exif_orientation(tmp_path):
    from PIL import Image

    from fer.training.data import read_image

    picture = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = picture.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    picture.save(tmp_path / "portrait.jpg", "JPEG", exif=exif)
    assert read_image(tmp_path / "portrait.jpg").shape == (40, 20, 3)
