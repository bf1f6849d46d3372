"""Where training runs: data-parallel over several devices, or on the one there is.

TensorFlow gets a ``MirroredStrategy``, JAX a Keras ``DataParallel`` distribution; the trainer
builds and fits inside :func:`strategy_scope` and never asks which it holds.
"""

import contextlib

import keras


def distribution_strategy(devices=()):
    """How to train data-parallel over ``devices``, or over every device when several are visible; else ``None``.

    TensorFlow gets a ``MirroredStrategy`` (devices like ``/gpu:0``), JAX a Keras ``DataParallel``
    distribution (devices like ``gpu:0``). Build and train the model inside :func:`strategy_scope`.
    """
    if keras.backend.backend() == "jax":
        if devices or len(keras.distribution.list_devices()) > 1:
            names = [name.lstrip("/").lower() for name in devices]  # TensorFlow's /GPU:0 is JAX's gpu:0
            return keras.distribution.DataParallel(devices=names or None)  # None: every device
        return None
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    if devices:
        return tf.distribute.MirroredStrategy(list(devices))
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return None


def strategy_scope(strategy):
    """The context to build and train in under ``strategy``; leaving it restores what was set before."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def replica_count(strategy):
    """How many devices ``strategy`` splits each batch over (1 for ``None``)."""
    if strategy is None:
        return 1
    if hasattr(strategy, "num_replicas_in_sync"):  # a TensorFlow strategy
        return strategy.num_replicas_in_sync
    return strategy.num_model_replicas  # a Keras distribution
