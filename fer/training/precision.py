"""Numeric precision of training: float32, or Keras mixed precision where the hardware gains.

Mixed precision keeps the weights in float32 and computes in bfloat16 (or float16). It pays on
CPUs with AMX tiles (Intel Sapphire Rapids and later: ``amx_bf16`` in ``/proc/cpuinfo``), often
on CPUs with AVX-512 bfloat16 instructions (AMD Zen 4 and later: ``avx512_bf16``; measured there),
and on GPUs with bfloat16 tensor cores (compute capability 8.0 and up); elsewhere it costs
accuracy for nothing. Whatever trained, the written model is float32 (see :mod:`fer.training.trainer`).
"""

import contextlib
import logging
import pathlib
import platform

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "float32", "bfloat16", "float16")
_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
_CPUINFO = pathlib.Path("/proc/cpuinfo")
MIN_GAIN = 1.1
"""How many times as fast bfloat16 must train to be chosen where it is measured."""


def _cpuinfo_field(name):
    if not _CPUINFO.is_file():
        return ""
    for line in _CPUINFO.read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return ""


def processor_name():
    """The CPU's model name, e.g. ``Intel(R) Xeon(R) Platinum 8480+``."""
    return _cpuinfo_field("model name") or platform.processor() or platform.machine()


def cpu_bfloat16_units():
    """``"amx"`` for AMX bfloat16 tiles, ``"avx512"`` for AVX-512 bfloat16 instructions only, else ``None``."""
    flags = _cpuinfo_field("flags").split()
    if "amx_bf16" in flags:
        return "amx"
    return "avx512" if "avx512_bf16" in flags else None


def _gpu_compute_capabilities():
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        details = [tf.config.experimental.get_device_details(gpu)
                   for gpu in tf.config.list_physical_devices("GPU")]
        return [detail.get("compute_capability", (0, 0)) for detail in details]
    if backend == "jax":
        import jax

        return [tuple(int(part) for part in str(getattr(device, "compute_capability", "0.0")).split("."))
                for device in jax.devices() if device.platform == "gpu"]
    return []


def resolve_precision(precision, step_seconds=None):
    """``precision`` itself, or what ``auto`` picks for this machine.

    ``auto``: bfloat16 on GPUs with bfloat16 units and on CPUs with AMX, float32 on CPUs with
    neither. A CPU with AVX-512 bfloat16 instructions but no AMX gains on some networks and not
    on others, so there ``step_seconds(precision)`` (seconds of a training step) decides:
    bfloat16 when it is at least ``MIN_GAIN`` times as fast. Without it such a CPU gets float32.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; use {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    gpus = _gpu_compute_capabilities()
    if gpus:
        chosen = "bfloat16" if all(tuple(capability) >= (8, 0) for capability in gpus) else "float32"
        log.info("precision auto: %s (%d GPU(s))", chosen, len(gpus))
        return chosen
    units = cpu_bfloat16_units()
    if units == "avx512" and step_seconds is not None:
        float32, bfloat16 = step_seconds("float32"), step_seconds("bfloat16")
        chosen = "bfloat16" if float32 >= MIN_GAIN * bfloat16 else "float32"
        log.info("precision auto: %s (%s, AVX-512 bfloat16 without AMX: a training step took %.0f ms in "
                 "float32, %.0f ms in bfloat16)", chosen, processor_name(), 1000 * float32, 1000 * bfloat16)
        return chosen
    chosen = "bfloat16" if units == "amx" else "float32"
    log.info("precision auto: %s (%s)", chosen, processor_name())
    return chosen


@contextlib.contextmanager
def dtype_policy(precision):
    """Layers built inside compute in ``precision`` (float32 variables); the policy is restored after."""
    import keras

    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(_POLICIES[precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)
