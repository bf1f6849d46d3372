"""Registered model builders.

Each builder is a plain function ``build(input_shape, num_classes, **options)`` returning an
uncompiled Keras model that takes raw grey pixels 0-255 and rescales inside itself. Register a
new one with :func:`register` and it becomes a ``--arch`` choice of ``train.py``.

The from-scratch builders take ``crop``: the model then looks only at the centre
``crop x crop`` of its input (a ``Cropping2D`` layer named ``crop``). Trained on faces shifted at random by up
to half the margin, it sees a random crop of each face; at inference the centre one, and
:func:`fer.training.evaluation.predict_scores` can average the ten crops of the published recipes.
"""

import inspect
import logging

import keras
from keras import layers

log = logging.getLogger(__name__)

DEFAULT_MODEL = "vgg"
"""Architecture ``train.py`` uses when ``--model`` is not given."""

_BUILDERS = {}


def register(name):
    """Decorator that adds a builder to the registry under ``name``."""

    def add(builder):
        _BUILDERS[name] = builder
        return builder

    return add


def model_names():
    """Names of the registered builders, sorted."""
    return sorted(_BUILDERS)


def _builder(name):
    if name not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(model_names())}")
    return _BUILDERS[name]


def builder_options(name):
    """The keyword options builder ``name`` takes, with their defaults (for searches over them)."""
    parameters = inspect.signature(_builder(name)).parameters
    return {option: parameter.default for option, parameter in parameters.items()
            if parameter.default is not inspect.Parameter.empty}


def build_model(name, input_shape=(48, 48, 1), num_classes=7, **options):
    """Build the registered model ``name``; unknown names raise ``ValueError``."""
    return _builder(name)(tuple(input_shape), num_classes, **options)


def _rescaled_input(input_shape, crop=None):
    inputs = keras.Input(shape=input_shape, name="pixels")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    if crop:
        if not 0 < crop <= min(input_shape[:2]):
            raise ValueError(f"crop {crop} must lie in 1..{min(input_shape[:2])}, the input's side")
        x = layers.Cropping2D(_centre_margins(input_shape, crop), name="crop")(x)
    return inputs, x


def _centre_margins(input_shape, crop):
    """``((top, bottom), (left, right))`` that leave the centre ``crop x crop`` of ``input_shape``.

    ``Cropping2D``, not ``CenterCrop``: an image preprocessing layer such as ``CenterCrop`` defaults
    to ``training=True``, so a plain call ``model(x)`` would put every BatchNorm after it into
    batch-statistics mode; ``Cropping2D`` has no training mode.
    """
    margins = []
    for side in input_shape[:2]:
        before = (side - crop) // 2
        margins.append((before, side - crop - before))
    return tuple(margins)


def _conv_bn_relu(x, filters, kernel_size=3, strides=1, name=None, initializer="he_normal"):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                      kernel_initializer=initializer, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _classifier(x, num_classes, dropout):
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    return _output(x, num_classes)


def _output(x, num_classes):
    # float32 even under mixed precision: a softmax in bfloat16 loses the small probabilities
    return layers.Dense(num_classes, activation="softmax", dtype="float32", name="emotion")(x)


@register("baseline")
def baseline(input_shape, num_classes, dropout=0.25):
    """The original course report's CNN: four conv blocks, two dense blocks, softmax."""
    inputs, x = _rescaled_input(input_shape)
    for index, (filters, kernel) in enumerate([(64, 3), (128, 5), (512, 3), (512, 3)], start=1):
        x = _conv_bn_relu(x, filters, kernel, name=f"block{index}")
        x = layers.MaxPooling2D(2, name=f"block{index}_pool")(x)
        x = layers.Dropout(dropout, name=f"block{index}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate([256, 512], start=1):
        x = layers.Dense(units, use_bias=False, name=f"dense{index}")(x)
        x = layers.BatchNormalization(name=f"dense{index}_bn")(x)
        x = layers.ReLU(name=f"dense{index}_relu")(x)
        x = layers.Dropout(dropout, name=f"dense{index}_dropout")(x)
    return keras.Model(inputs, _output(x, num_classes), name="baseline")


@register("vgg")
def vgg(input_shape, num_classes, widths=(32, 64, 128, 256), convs_per_stage=2, dropout=0.4, crop=None,
        initializer="he_normal"):
    """VGG-style net: stages of 3x3 conv-BN-ReLU, 2x2 max-pool between stages, global pooling."""
    inputs, x = _rescaled_input(input_shape, crop)
    for stage, filters in enumerate(widths, start=1):
        for conv in range(1, convs_per_stage + 1):
            x = _conv_bn_relu(x, filters, name=f"stage{stage}_{conv}", initializer=initializer)
        if stage < len(widths):
            x = layers.MaxPooling2D(2, name=f"stage{stage}_pool")(x)
    return keras.Model(inputs, _classifier(x, num_classes, dropout), name="vgg")


@register("vgg_wide")
def vgg_wide(input_shape, num_classes, widths=(64, 128, 256, 512), convs_per_stage=2, dropout=0.4, crop=40,
             initializer="glorot_uniform"):
    """The published FER-2013 recipe's VGG: widths 64 to 512, trained on random 40 x 40 crops.

    Its kernels start from Keras's default ``glorot_uniform``, as the recipe's: smaller than
    ``he_normal``, and under BatchNorm a kernel's step grows as its norm shrinks (about lr/|w|^2).
    """
    return vgg(input_shape, num_classes, widths, convs_per_stage, dropout, crop, initializer)


def _projection(x, filters, strides, name):
    """A 1 x 1 convolution with ``strides`` (conv ``{name}_conv``), written as a subsampling then a
    1 x 1 convolution: the same function, but TensorFlow 2.20's oneDNN kernels crash (segfault or
    ``free(): invalid pointer``) computing a strided 1 x 1 convolution's kernel gradient in float32
    on AVX-512 CPUs (seen on an AMD EPYC Zen 4)."""
    if strides != 1:
        x = layers.MaxPooling2D(1, strides=strides, padding="same", name=f"{name}_subsample")(x)
    return layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_conv")(x)


def _residual_block(x, filters, strides, name):
    shortcut = x
    y = _conv_bn_relu(x, filters, strides=strides, name=f"{name}_a")
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                      name=f"{name}_b_conv")(y)
    y = layers.BatchNormalization(name=f"{name}_b_bn")(y)
    if strides != 1 or shortcut.shape[-1] != filters:
        shortcut = _projection(shortcut, filters, strides, name=f"{name}_shortcut")
        shortcut = layers.BatchNormalization(name=f"{name}_shortcut_bn")(shortcut)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


@register("resnet")
def resnet(input_shape, num_classes, widths=(32, 64, 128, 256), blocks_per_stage=2, dropout=0.3, crop=None):
    """Small ResNet: a 3x3 stem, then residual stages that halve the map and double the width."""
    inputs, x = _rescaled_input(input_shape, crop)
    x = _conv_bn_relu(x, widths[0], name="stem")
    for stage, filters in enumerate(widths, start=1):
        for block in range(1, blocks_per_stage + 1):
            strides = 2 if stage > 1 and block == 1 else 1
            x = _residual_block(x, filters, strides, name=f"stage{stage}_{block}")
    return keras.Model(inputs, _classifier(x, num_classes, dropout), name="resnet")


def _separable_residual_block(x, filters, name):
    shortcut = _projection(x, filters, 2, name=f"{name}_shortcut")
    shortcut = layers.BatchNormalization(name=f"{name}_shortcut_bn")(shortcut)
    for part in ("a", "b"):
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_{part}_conv")(x)
        x = layers.BatchNormalization(name=f"{name}_{part}_bn")(x)
        if part == "a":
            x = layers.ReLU(name=f"{name}_{part}_relu")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
    return layers.Add(name=f"{name}_add")([x, shortcut])


@register("mini_xception")
def mini_xception(input_shape, num_classes, widths=(16, 32, 64, 128), dropout=0.0, crop=None):
    """Arriaga et al.'s mini-Xception: two plain convs, then depthwise-separable residual blocks."""
    inputs, x = _rescaled_input(input_shape, crop)
    x = _conv_bn_relu(x, 8, name="stem1")
    x = _conv_bn_relu(x, 8, name="stem2")
    for index, filters in enumerate(widths, start=1):
        x = _separable_residual_block(x, filters, name=f"block{index}")
    return keras.Model(inputs, _classifier(x, num_classes, dropout), name="mini_xception")


# ImageNet "caffe" preprocessing (BGR channel means) shared by VGG16 and ResNet50.
_CAFFE_MEANS = (103.939, 116.779, 123.68)


def _transfer(application, name, input_shape, num_classes, weights=None, dropout=0.5):
    if weights is None:
        log.warning("%s: no ImageNet weights file given (--weights); training from scratch", name)
    inputs = keras.Input(shape=input_shape, name="pixels")
    x = inputs
    if input_shape[-1] == 1:
        x = layers.Concatenate(name="grey_to_rgb")([inputs, inputs, inputs])
    x = layers.Normalization(mean=list(_CAFFE_MEANS), variance=[1.0, 1.0, 1.0], name="caffe_means")(x)
    base = application(include_top=False, weights=None, input_shape=input_shape[:2] + (3,))
    if weights is not None:
        base.load_weights(weights)
    x = base(x)
    return keras.Model(inputs, _classifier(x, num_classes, dropout), name=name)


@register("vgg16")
def vgg16(input_shape, num_classes, weights=None, dropout=0.5):
    """VGG16 from ``keras.applications``; ``weights`` is a local ImageNet no-top weights file."""
    return _transfer(keras.applications.VGG16, "vgg16", input_shape, num_classes, weights, dropout)


@register("resnet50")
def resnet50(input_shape, num_classes, weights=None, dropout=0.5):
    """ResNet50 from ``keras.applications``; ``weights`` is a local ImageNet no-top weights file."""
    return _transfer(keras.applications.ResNet50, "resnet50", input_shape, num_classes, weights, dropout)
