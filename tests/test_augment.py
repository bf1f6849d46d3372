import numpy as np
import pytest

from fer.training.augment import (NO_AUGMENTATION, AugmentConfig, FaceBatches, build_augmenter, build_mixer, make_dataset,
                         training_batches)
from fer.training.data import load_csv


@pytest.fixture(scope="module")
def train_split(sample_csv):
    split = load_csv(sample_csv).train
    return split.images, split.labels


def test_face_batches_equal_the_tf_data_batches_without_augmentation(train_split):
    images, labels = train_split
    plain = FaceBatches(images, labels, 7, batch_size=32)
    reference = list(make_dataset(images, labels, 7, batch_size=32).as_numpy_iterator())
    assert len(plain) == len(reference) == 4  # 112 faces: three full batches and one of 16
    for index, (faces, targets) in enumerate(reference):
        np.testing.assert_array_equal(plain[index][0], faces)
        np.testing.assert_array_equal(plain[index][1], targets)


def test_face_batches_give_every_face_once_an_epoch_in_a_new_order(train_split):
    images, labels = train_split
    batches = FaceBatches(images, labels, 7, batch_size=32, shuffle=True, seed=3)

    def one_epoch():
        faces = np.concatenate([batches[index][0] for index in range(len(batches))])
        targets = np.concatenate([batches[index][1] for index in range(len(batches))])
        batches.on_epoch_end()
        return faces, targets

    first, first_targets = one_epoch()
    second, _ = one_epoch()
    assert first.shape == images.shape and first.dtype == np.float32
    assert not np.array_equal(first, second)
    flat = images.reshape(len(images), -1).astype(np.float32)
    for faces in (first, second):  # the same faces, each once
        np.testing.assert_array_equal(np.sort(faces.reshape(len(faces), -1), axis=0), np.sort(flat, axis=0))
    np.testing.assert_array_equal(np.sort(first_targets.argmax(axis=1)), np.sort(labels))


def test_face_batches_augment_blocks_of_batches_at_once(train_split):
    images, labels = train_split
    calls = []

    def counting_augmenter(faces, training):
        calls.append(len(faces))
        return 255 - faces  # a transform the clip to 0-255 keeps exact

    unblocked = FaceBatches(images, labels, 7, batch_size=16, shuffle=True, seed=5, block_faces=16)
    blocked = FaceBatches(images, labels, 7, batch_size=16, augmenter=counting_augmenter, shuffle=True, seed=5,
                          block_faces=48)
    for index in range(len(blocked)):  # 7 batches of 16 in blocks of 3: 48, 48, 16 faces
        faces, targets = blocked[index]
        np.testing.assert_array_equal(np.asarray(faces), 255 - unblocked[index][0])
        np.testing.assert_array_equal(targets, unblocked[index][1])
    assert calls == [48, 48, 16]
    blocked.on_epoch_end()
    blocked[0]
    assert calls == [48, 48, 16, 48]  # a new epoch augments afresh


def test_face_batches_augment_in_range(train_split):
    images, labels = train_split
    augmenter = build_augmenter(AugmentConfig(), seed=0)
    faces, _ = FaceBatches(images, labels, 7, batch_size=32, augmenter=augmenter)[0]
    faces = np.asarray(faces)
    assert faces.shape == (32, 48, 48, 1)
    assert faces.min() >= 0 and faces.max() <= 255
    assert np.abs(faces - images[:32]).mean() > 1  # changed, not copied


def test_training_batches_use_tf_data_on_tensorflow(train_split):
    import tensorflow as tf

    images, labels = train_split
    assert isinstance(training_batches(images, labels, 7, 32), tf.data.Dataset)


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
    mixer = build_mixer(AugmentConfig(mixup=0.4), seed=0)
    faces, targets = FaceBatches(images, labels, 7, batch_size=32, mixer=mixer)[0]
    assert np.asarray(faces).shape == (32, 48, 48, 1)
    assert_mixed(faces, targets, images.astype(np.float64), labels)


def test_tf_data_batches_mix_faces_and_labels(train_split):
    images, labels = train_split
    mixer = build_mixer(AugmentConfig(mixup=0.4), seed=0)
    faces, targets = next(iter(make_dataset(images, labels, 7, 32, mixer=mixer)))
    assert_mixed(faces.numpy(), targets.numpy(), images.astype(np.float64), labels)
