"""On-the-fly training augmentation, drawn afresh for every epoch and the same whenever re-run.

Only the training split is augmented; validation and test faces reach the model untouched.
:class:`FaceBatches` feeds ``model.fit`` on every backend. Each block of batches is augmented
in two steps:

1. flips and shifts by whole pixels, in numpy: a shifted face followed by a model's centre crop
   is exactly an integer window of the face, as the published crop recipes cut them (no
   resampling, no blur);
2. Keras's random layers for rotation, zoom, brightness, contrast, erasing and MixUp, on the
   backend itself (on the GPU under JAX).

Every random choice comes from its own stream, derived from the run's seed, the epoch, the
block and the transform: transforms never move together, and a run resumed at epoch ``k``
trains on exactly the batches an uninterrupted run would (see :meth:`FaceBatches.set_epoch`).
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
    shift: float = 0.1        # fraction of the side, each way, rounded down to whole pixels
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

    def shift_pixels(self, side):
        """The largest shift, in whole pixels, of a face ``side`` pixels wide."""
        return int(math.floor(self.shift * side + 1e-6))


NO_AUGMENTATION = AugmentConfig(flip=False, shift=0, rotation=0, zoom=0, brightness=0, contrast=0, erasing=0,
                                mixup=0)


def build_augmenter(config):
    """A ``keras.Sequential`` of the resampling and photometric random layers, or ``None``.

    Flips and shifts are not in it: :class:`FaceBatches` does them by whole pixels. The layers'
    seeds are set for each block by :func:`reseed`.
    """
    steps = []
    if config.rotation:
        steps.append(layers.RandomRotation(config.rotation / 360.0, fill_mode="reflect"))
    if config.zoom:
        steps.append(layers.RandomZoom(config.zoom, fill_mode="reflect"))
    if config.brightness:
        steps.append(layers.RandomBrightness(config.brightness, value_range=(0, 255)))
    if config.contrast:
        steps.append(layers.RandomContrast(config.contrast, value_range=(0, 255)))
    if config.erasing:
        steps.append(layers.RandomErasing(factor=config.erasing, scale=(0.02, 0.2), value_range=(0, 255)))
    return keras.Sequential(steps, name="augment") if steps else None


def build_mixer(config):
    """Keras's ``MixUp`` layer for ``config.mixup``, or ``None`` when it is off.

    It blends each face with another of the same batch, and their one-hot labels alike, by a
    weight drawn from Beta(alpha, alpha): the labels become soft. Runs after the augmenter.
    """
    return layers.MixUp(alpha=config.mixup) if config.mixup else None


def reseed(layer, seed):
    """Start every random stream of ``layer`` (a random layer or a ``Sequential`` of them) from ``seed``.

    Each layer gets its own stream (``seed`` and its position), so no two transforms share draws.
    """
    parts = layer.layers if isinstance(layer, keras.Sequential) else [layer]
    for position, part in enumerate(parts):
        part.generator.state.assign(np.array([seed, position], dtype="uint32"))


def mix(mixer, faces, targets):
    """Faces and one-hot targets blended by ``mixer`` (see :func:`build_mixer`); as given without one."""
    if mixer is None:
        return faces, targets
    mixed = mixer({"images": faces, "labels": targets}, training=True)
    return mixed["images"], mixed["labels"]


def flip_faces(faces, random):
    """Each face mirrored left to right with probability one half."""
    mirrored = random.random(len(faces)) < 0.5
    faces = faces.copy()
    faces[mirrored] = faces[mirrored, :, ::-1]
    return faces


def shift_faces(faces, max_pixels, random):
    """Each face moved by whole pixels, up to ``max_pixels`` each way, borders reflected.

    No pixel is resampled: under a model's centre crop that leaves out at least ``max_pixels`` a
    side, every face becomes an integer window of the original.
    """
    if not max_pixels:
        return faces
    count, height, width = faces.shape[:3]
    down, right = (random.integers(-max_pixels, max_pixels + 1, count) for _ in range(2))
    padded = np.pad(faces, ((0, 0), (max_pixels, max_pixels), (max_pixels, max_pixels), (0, 0)), mode="reflect")
    rows = (max_pixels - down)[:, None] + np.arange(height)
    columns = (max_pixels - right)[:, None] + np.arange(width)
    return padded[np.arange(count)[:, None, None], rows[:, :, None], columns[:, None, :]]


def training_batches(images, labels, num_classes, batch_size, augment=None, shuffle=False, seed=0,
                     batch_multiple=1):
    """Batches of (float faces 0-255, one-hot labels) for ``model.fit``, augmented as ``augment`` says."""
    return FaceBatches(images, labels, num_classes, batch_size, augment, shuffle, seed,
                       batch_multiple=batch_multiple)


class FaceBatches(keras.utils.PyDataset):
    """Training batches: (float faces 0-255, one-hot labels), a new order and augmentation each epoch.

    The epoch's randomness depends only on ``seed`` and the epoch's number, which
    :meth:`set_epoch` sets (``model.fit`` does it through :class:`fer.training.callbacks.EpochSeeds`).

    The random layers run on blocks of about ``block_faces`` faces, several batches at once:
    each eager call has a fixed cost whatever its size (about 50 ms under JAX on a two-core
    CPU), which batch by batch would bound training near 1,000 faces/s.

    Under JAX's data-parallel distribution every batch must split evenly over the devices: with
    ``batch_multiple`` (their count) the last batch leaves out the few faces over, others each epoch.
    """

    def __init__(self, images, labels, num_classes, batch_size, augment=None, shuffle=False, seed=0,
                 block_faces=4096, batch_multiple=1):
        super().__init__()
        self.images = images
        self.targets = np.eye(num_classes, dtype=np.float32)[labels]
        self.batch_size = batch_size
        self.batches_per_block = max(1, block_faces // batch_size)
        self.augment = augment or NO_AUGMENTATION
        self.augmenter = build_augmenter(self.augment)
        self.mixer = build_mixer(self.augment)
        self.shuffle = shuffle
        self.seed = seed
        self.faces_per_epoch = len(labels) - len(labels) % batch_size % batch_multiple
        self.set_epoch(0)

    def __len__(self):
        return math.ceil(self.faces_per_epoch / self.batch_size)

    def set_epoch(self, epoch):
        """Draw epoch ``epoch``'s order of faces; its blocks are augmented when first asked for."""
        self.epoch = epoch
        self._block_index = None
        self._order = np.arange(len(self.targets))
        if self.shuffle:
            np.random.default_rng([self.seed, epoch]).shuffle(self._order)

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
        flips, shifts, layer_seeds = np.random.default_rng([self.seed, self.epoch, block]).spawn(3)
        if self.augment.flip:
            faces = flip_faces(faces, flips)
        faces = shift_faces(faces, self.augment.shift_pixels(faces.shape[1]), shifts)
        seeds = layer_seeds.integers(0, 2**31, 2)
        if self.augmenter is not None:
            reseed(self.augmenter, seeds[0])
            faces = keras.ops.clip(self.augmenter(faces, training=True), 0.0, 255.0)
        if self.mixer is not None:
            reseed(self.mixer, seeds[1])
        return mix(self.mixer, faces, self.targets[rows])
