"""On-the-fly training augmentation with Keras preprocessing layers.

Only the training split is augmented; validation and test faces reach the model untouched.
On TensorFlow the batches come from ``tf.data``, augmented in parallel with the training step;
on other backends (JAX on a GPU machine without TensorFlow) from :class:`FaceBatches`, which
runs the same augmentation layers on the backend itself.
"""

import dataclasses
import math

import keras
import numpy as np
from keras import layers


@dataclasses.dataclass
class AugmentConfig:
    """How strongly each transform perturbs a training face (0 turns it off)."""

    flip: bool = True
    shift: float = 0.1        # fraction of the side, each way
    rotation: float = 10.0    # degrees, each way
    zoom: float = 0.1         # fraction, in and out
    brightness: float = 0.2   # fraction of the 0-255 range
    contrast: float = 0.2
    erasing: float = 0.5      # probability of erasing one random rectangle
    mixup: float = 0.0        # MixUp's alpha: blends pairs of faces and their labels (0: off)

    def scaled(self, strength):
        """A copy with every continuous setting multiplied by ``strength``."""
        return dataclasses.replace(
            self, shift=self.shift * strength, rotation=self.rotation * strength,
            zoom=self.zoom * strength, brightness=self.brightness * strength,
            contrast=self.contrast * strength, erasing=min(1.0, self.erasing * strength),
            mixup=self.mixup * strength)


NO_AUGMENTATION = AugmentConfig(flip=False, shift=0, rotation=0, zoom=0, brightness=0, contrast=0, erasing=0,
                                mixup=0)


def build_augmenter(config, seed=None):
    """A ``keras.Sequential`` of random layers for ``config``, or ``None`` when all are off."""
    steps = []
    if config.flip:
        steps.append(layers.RandomFlip("horizontal", seed=seed))
    if config.rotation:
        steps.append(layers.RandomRotation(config.rotation / 360.0, fill_mode="reflect", seed=seed))
    if config.zoom:
        steps.append(layers.RandomZoom(config.zoom, fill_mode="reflect", seed=seed))
    if config.shift:
        steps.append(layers.RandomTranslation(config.shift, config.shift, fill_mode="reflect", seed=seed))
    if config.brightness:
        steps.append(layers.RandomBrightness(config.brightness, value_range=(0, 255), seed=seed))
    if config.contrast:
        steps.append(layers.RandomContrast(config.contrast, value_range=(0, 255), seed=seed))
    if config.erasing:
        steps.append(layers.RandomErasing(factor=config.erasing, scale=(0.02, 0.2),
                                          value_range=(0, 255), seed=seed))
    return keras.Sequential(steps, name="augment") if steps else None


def build_mixer(config, seed=None):
    """Keras's ``MixUp`` layer for ``config.mixup``, or ``None`` when it is off.

    It blends each face with another of the same batch, and their one-hot labels alike, by a
    weight drawn from Beta(alpha, alpha): the labels become soft. Runs after the augmenter.
    """
    return layers.MixUp(alpha=config.mixup, seed=seed) if config.mixup else None


def mix(mixer, faces, targets):
    """Faces and one-hot targets blended by ``mixer`` (see :func:`build_mixer`); as given without one."""
    if mixer is None:
        return faces, targets
    mixed = mixer({"images": faces, "labels": targets}, training=True)
    return mixed["images"], mixed["labels"]


def training_batches(images, labels, num_classes, batch_size, augmenter=None, shuffle=False, seed=0, mixer=None,
                     batch_multiple=1):
    """Batches of (float faces 0-255, one-hot labels) for ``model.fit`` on the active backend.

    ``batch_multiple`` only reaches :class:`FaceBatches`: TensorFlow splits uneven batches itself.
    """
    if keras.backend.backend() == "tensorflow":
        return make_dataset(images, labels, num_classes, batch_size, augmenter, shuffle, seed, mixer)
    return FaceBatches(images, labels, num_classes, batch_size, augmenter, shuffle, seed, mixer=mixer,
                       batch_multiple=batch_multiple)


def make_dataset(images, labels, num_classes, batch_size, augmenter=None, shuffle=False, seed=0, mixer=None):
    """A batched, prefetched ``tf.data.Dataset`` of (float faces 0-255, one-hot labels).

    Augmentation (and ``mixer``, which makes the labels soft) runs per batch on the CPU in
    parallel with the training step.
    """
    import tensorflow as tf  # only this pipeline needs it: other backends train without it

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)

    def to_model_input(faces, targets):
        faces = tf.cast(faces, tf.float32)
        if augmenter is not None:
            faces = tf.clip_by_value(augmenter(faces, training=True), 0.0, 255.0)
        return mix(mixer, faces, tf.one_hot(targets, num_classes))

    dataset = dataset.map(to_model_input, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


class FaceBatches(keras.utils.PyDataset):
    """Training batches without TensorFlow: (float faces 0-255, one-hot labels), reshuffled every epoch.

    ``augmenter`` runs in the active backend (on the GPU under JAX) on blocks of about
    ``block_faces`` faces, several batches at once: each eager call has a fixed cost whatever
    its size (about 50 ms under JAX on a two-core CPU), which batch by batch would bound
    training near 1,000 faces/s.

    Under JAX's data-parallel distribution every batch must split evenly over the devices: with
    ``batch_multiple`` (their count) the last batch leaves out the few faces over, others each epoch.
    """

    def __init__(self, images, labels, num_classes, batch_size, augmenter=None, shuffle=False, seed=0,
                 block_faces=4096, mixer=None, batch_multiple=1):
        super().__init__()
        self.images = images
        self.targets = np.eye(num_classes, dtype=np.float32)[labels]
        self.batch_size = batch_size
        self.batches_per_block = max(1, block_faces // batch_size)
        self.augmenter = augmenter
        self.mixer = mixer
        self.shuffle = shuffle
        self._random = np.random.default_rng(seed)
        self._order = np.arange(len(labels))
        self.faces_per_epoch = len(labels) - len(labels) % batch_size % batch_multiple
        self.on_epoch_end()

    def __len__(self):
        return math.ceil(self.faces_per_epoch / self.batch_size)

    def __getitem__(self, index):
        block, batch = divmod(index, self.batches_per_block)
        if block != self._block_index:
            self._block_faces, self._block_targets = self._block(block)
            self._block_index = block
        part = slice(batch * self.batch_size, (batch + 1) * self.batch_size)
        return self._block_faces[part], self._block_targets[part]

    def _block(self, block):
        size = self.batches_per_block * self.batch_size
        rows = self._order[:self.faces_per_epoch][block * size:(block + 1) * size]
        faces = self.images[rows].astype(np.float32)
        if self.augmenter is not None:
            faces = keras.ops.clip(self.augmenter(faces, training=True), 0.0, 255.0)
        return mix(self.mixer, faces, self.targets[rows])

    def on_epoch_end(self):
        """Draw the next epoch's order of faces."""
        self._block_index = None
        if self.shuffle:
            self._random.shuffle(self._order)
