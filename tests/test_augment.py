import numpy as np
import pytest

from fer.training.augment import (NO_AUGMENTATION, AugmentConfig, FaceBatches, build_augmenter, build_mixer,
                                  shift_faces, training_batches)
from fer.training.data import load_csv


@pytest.fixture(scope="module")
def train_split(sample_csv):
    split = load_csv(sample_csv).train
    return split.images, split.labels


def one_epoch(batches, epoch):
    batches.set_epoch(epoch)
    faces = np.concatenate([np.asarray(batches[index][0]) for index in range(len(batches))])
    targets = np.concatenate([np.asarray(batches[index][1]) for index in range(len(batches))])
    return faces, targets


def test_face_batches_without_augmentation_are_the_faces_in_order(train_split):
    images, labels = train_split
    plain = FaceBatches(images, labels, 7, batch_size=32)
    assert len(plain) == 4  # 112 faces: three full batches and one of 16
    faces, targets = one_epoch(plain, 0)
    np.testing.assert_array_equal(faces, images.astype(np.float32))
    np.testing.assert_array_equal(targets.argmax(axis=1), labels)
    assert isinstance(training_batches(images, labels, 7, 32), FaceBatches)


def test_face_batches_give_every_face_once_an_epoch_in_a_new_order(train_split):
    images, labels = train_split
    batches = FaceBatches(images, labels, 7, batch_size=32, shuffle=True, seed=3)
    first, first_targets = one_epoch(batches, 0)
    second, _ = one_epoch(batches, 1)
    assert first.shape == images.shape and first.dtype == np.float32
    assert not np.array_equal(first, second)
    flat = images.reshape(len(images), -1).astype(np.float32)
    for faces in (first, second):  # the same faces, each once
        np.testing.assert_array_equal(np.sort(faces.reshape(len(faces), -1), axis=0), np.sort(flat, axis=0))
    np.testing.assert_array_equal(np.sort(first_targets.argmax(axis=1)), np.sort(labels))


def test_an_epoch_is_the_same_whenever_it_is_drawn(train_split):
    """What a resumed run relies on: epoch k depends on the seed and k, not on the epochs before."""
    images, labels = train_split
    augment = AugmentConfig(mixup=0.2)
    straight = FaceBatches(images, labels, 7, batch_size=16, augment=augment, shuffle=True, seed=7, block_faces=48)
    for epoch in range(3):
        one_epoch(straight, epoch)
    later = one_epoch(straight, 3)
    fresh = FaceBatches(images, labels, 7, batch_size=16, augment=augment, shuffle=True, seed=7, block_faces=48)
    for drawn, again in zip(later, one_epoch(fresh, 3)):
        np.testing.assert_array_equal(drawn, again)
    other_seed = FaceBatches(images, labels, 7, batch_size=16, augment=augment, shuffle=True, seed=8, block_faces=48)
    assert not np.array_equal(later[0], one_epoch(other_seed, 3)[0])


def test_face_batches_augment_in_range(train_split):
    images, labels = train_split
    faces, _ = FaceBatches(images, labels, 7, batch_size=32, augment=AugmentConfig())[0]
    faces = np.asarray(faces)
    assert faces.shape == (32, 48, 48, 1)
    assert faces.min() >= 0 and faces.max() <= 255
    assert np.abs(faces - images[:32]).mean() > 1  # changed, not copied


def windows(face, crop):
    """Every integer ``crop`` x ``crop`` window of ``face`` and of its mirror image."""
    side = face.shape[0]
    return [image[top:top + crop, left:left + crop] for image in (face, face[:, ::-1])
            for top in range(side - crop + 1) for left in range(side - crop + 1)]


def test_every_training_crop_is_an_integer_window_of_its_face(train_split):
    images, labels = train_split
    augment = AugmentConfig(shift=4 / 48, rotation=0, zoom=0, brightness=0, contrast=0, erasing=0)
    assert augment.shift_pixels(48) == 4
    faces, targets = one_epoch(FaceBatches(images, labels, 7, batch_size=32, augment=augment, shuffle=True), 0)
    moved = 0
    for face, target in zip(faces, targets):
        centre = face[4:44, 4:44]  # what a model with a 40-pixel centre crop sees
        sources = [row for row in range(len(images)) if labels[row] == target.argmax()
                   and any(np.array_equal(centre, window) for window in windows(images[row].astype(np.float32), 40))]
        assert sources, "a training crop is not an integer window of any face"
        moved += not np.array_equal(centre, images[sources[0], 4:44, 4:44])
    assert moved > len(faces) / 2


def test_shifts_reach_every_whole_pixel_offset_and_no_further():
    face = np.zeros((1, 9, 9, 1), np.float32)
    face[0, 4, 4] = 1
    shifted = shift_faces(np.repeat(face, 400, axis=0), 2, np.random.default_rng(0))
    rows, columns = np.nonzero(shifted[..., 0])[1:]
    assert sorted(set(rows - 4)) == sorted(set(columns - 4)) == [-2, -1, 0, 1, 2]
    assert np.all(shifted.sum(axis=(1, 2, 3)) == 1)  # moved, never blurred


def test_transforms_of_one_face_are_drawn_independently():
    """Flip, shift and brightness of the same face must not move together (they once shared one seed)."""
    face = np.full((48, 48, 1), 100, np.uint8)
    face[8:20, 6:18] = 200  # a bright patch up and to the left: flips and shifts move it
    augment = AugmentConfig(shift=4 / 48, rotation=0, zoom=0, brightness=0.2, contrast=0, erasing=0)
    copies = np.repeat(face[None], 1024, axis=0)
    faces, _ = one_epoch(FaceBatches(copies, np.zeros(1024, int), 7, batch_size=64, augment=augment, seed=0), 0)
    patch = faces[..., 0] > faces[..., 0].mean(axis=(1, 2), keepdims=True) + 40
    columns, rows = np.arange(48), np.arange(48)
    centre_x = (patch * columns).sum(axis=(1, 2)) / patch.sum(axis=(1, 2))
    centre_y = (patch * rows[:, None]).sum(axis=(1, 2)) / patch.sum(axis=(1, 2))
    flipped = (centre_x > 24).astype(float)
    brightness = np.array([face[~mask].mean() for face, mask in zip(faces[..., 0], patch)])
    assert 0.4 < flipped.mean() < 0.6 and brightness.std() > 5 and centre_y.std() > 1
    for first, second in [(flipped, brightness), (flipped, centre_y), (centre_y, brightness)]:
        assert abs(np.corrcoef(first, second)[0, 1]) < 0.15


def test_no_augmentation_builds_no_layers():
    assert build_augmenter(NO_AUGMENTATION) is None
    assert build_augmenter(AugmentConfig(rotation=0, zoom=0, brightness=0, contrast=0, erasing=0)) is None


def assert_mixed(faces, targets, images, labels):
    """Each face a blend of two training faces, its soft label the same blend of their labels."""
    faces, targets = np.asarray(faces, np.float64), np.asarray(targets, np.float64)
    np.testing.assert_allclose(targets.sum(axis=1), 1, atol=1e-5)
    assert (targets.max(axis=1) < 1 - 1e-3).any()  # some labels are soft
    for face, target in zip(faces, targets):
        weight = target.max()  # the larger share goes to the label of one of the two faces
        if weight > 1 - 1e-3:
            continue
        matches = [row for row in range(len(images)) if labels[row] == target.argmax()
                   and np.all(np.abs(face - weight * images[row]) <= (1 - weight) * 255 + 1e-3)]
        assert matches


def test_mixup_is_off_unless_asked():
    assert build_mixer(AugmentConfig()) is None and build_mixer(NO_AUGMENTATION) is None
    assert AugmentConfig(mixup=0.4).scaled(0.5).mixup == 0.2


def test_face_batches_mix_faces_and_labels(train_split):
    images, labels = train_split
    faces, targets = FaceBatches(images, labels, 7, batch_size=32, augment=AugmentConfig(
        flip=False, shift=0, rotation=0, zoom=0, brightness=0, contrast=0, erasing=0, mixup=0.4))[0]
    assert np.asarray(faces).shape == (32, 48, 48, 1)
    assert_mixed(faces, targets, images.astype(np.float64), labels)
