import cv2
import numpy as np
import pytest

from fer.training.data import load_csv, load_folder
from fer.preprocessing import face_to_input, faces_to_batch, to_gray


def test_a_48px_grey_face_passes_through_unchanged():
    face = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    result = face_to_input(face)
    assert result.shape == (48, 48, 1) and result.dtype == np.uint8
    assert np.array_equal(result[:, :, 0], face)


def test_colour_and_large_crops_become_48px_grey():
    crop = np.full((150, 120, 3), (10, 200, 30), np.uint8)
    result = face_to_input(crop)
    assert result.shape == (48, 48, 1)
    assert int(result[0, 0, 0]) == int(cv2.cvtColor(crop[:1, :1], cv2.COLOR_BGR2GRAY)[0, 0])


def test_to_gray_refuses_odd_shapes():
    with pytest.raises(ValueError):
        to_gray(np.zeros((4, 4, 2), np.uint8))


def test_csv_folder_and_camera_crop_give_the_same_tensor(sample_csv, tmp_path):
    """One path for data: the same pixels reach the model identically from all three sources."""
    dataset = load_csv(sample_csv)
    csv_faces, csv_labels = dataset.train.images[:4], dataset.train.labels[:4]
    for split in ("train", "validation"):
        for index, (face, label) in enumerate(zip(csv_faces, csv_labels)):
            class_dir = tmp_path / split / dataset.labels[label]
            class_dir.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(class_dir / f"{index}.png"), face[:, :, 0])
    folder = load_folder(tmp_path)
    by_class = np.argsort(csv_labels, kind="stable")  # the folder loader reads class by class
    assert np.array_equal(folder.train.images, csv_faces[by_class])
    assert np.array_equal(folder.train.labels, csv_labels[by_class])

    frame = np.zeros((480, 640, 3), np.uint8)
    crops = []
    for index, face in enumerate(csv_faces):
        x, y = 20 + 150 * index, 200
        frame[y:y + 48, x:x + 48] = cv2.cvtColor(face[:, :, 0], cv2.COLOR_GRAY2BGR)
        crops.append(frame[y:y + 48, x:x + 48])
    assert np.array_equal(faces_to_batch(crops), csv_faces)
