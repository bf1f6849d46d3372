"""Numeric precision of training: float32, or Keras mixed precision where the hardware gains.

Mixed precision keeps the weights in float32 and computes in bfloat16 (or float16). It pays on
CPUs with AMX tiles (Intel Sapphire Rapids and later: ``amx_bf16`` in ``/proc/cpuinfo``) and on
GPUs with bfloat16 tensor cores (compute capability 8.0 and up); elsewhere it costs accuracy for
nothing. Whatever trained, the written model is float32 (see :mod:`fer.training.trainer`).
"""

import contextlib
import logging
import pathlib
import platform

import keras

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "float32", "bfloat16", "float16")
_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
_CPUINFO = pathlib.Path("/proc/cpuinfo")


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


def cpu_has_amx():
    """Whether this CPU has AMX bfloat16 tiles."""
    return "amx_bf16" in _cpuinfo_field("flags").split()


def _gpu_compute_capabilities():
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


def resolve_precision(precision):
    """``precision`` itself, or for ``auto`` bfloat16 on AMX CPUs and bfloat16 GPUs, else float32."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; use {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    gpus = _gpu_compute_capabilities()
    if gpus:
        chosen = "bfloat16" if all(tuple(capability) >= (8, 0) for capability in gpus) else "float32"
    else:
        chosen = "bfloat16" if cpu_has_amx() else "float32"
    log.info("precision auto: %s (%s)", chosen, f"{len(gpus)} GPU(s)" if gpus else processor_name())
    return chosen


@contextlib.contextmanager
def dtype_policy(precision):
    """Layers built inside compute in ``precision`` (float32 variables); the policy is restored after."""
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(_POLICIES[precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)
