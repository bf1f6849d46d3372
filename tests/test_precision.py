"""fer.training.precision and mixed-precision training: the model written is float32 whatever trained."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from conftest import tiny_config
from fer.training import precision
from fer.training.artifacts import load_model
from fer.training.trainer import train


def fake_cpu(tmp_path, monkeypatch, flags):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: {flags}\n")
    monkeypatch.setattr(precision, "_CPUINFO", cpuinfo)
    monkeypatch.setattr(precision, "_gpu_compute_capabilities", lambda: [])


def step_times(float32, bfloat16):
    """A stand-in for the timed training steps: what each precision took, and which were asked for."""
    asked = []

    def seconds(candidate):
        asked.append(candidate)
        return {"float32": float32, "bfloat16": bfloat16}[candidate]

    return seconds, asked


@pytest.mark.parametrize("flags, float32, bfloat16, chosen, measured", [
    ("fpu avx2 avx512f amx_bf16 amx_tile avx512_bf16", 1.0, 2.0, "bfloat16", False),  # AMX: no need to time
    ("fpu avx2 avx512f avx512_bf16", 0.450, 0.343, "bfloat16", True),  # Zen 4/5: timed, 1.3x faster
    ("fpu avx2 avx512f avx512_bf16", 0.450, 0.430, "float32", True),  # timed, too little gained
    ("fpu avx2 avx512f", 1.0, 0.1, "float32", False),  # no bfloat16 units: not even timed
])
def test_auto_picks_bfloat16_where_the_cpu_gains(flags, float32, bfloat16, chosen, measured, tmp_path, monkeypatch):
    fake_cpu(tmp_path, monkeypatch, flags)
    seconds, asked = step_times(float32, bfloat16)
    assert precision.resolve_precision("auto", seconds) == chosen
    assert bool(asked) == measured
    assert precision.processor_name() == "Test CPU 9000"
    assert precision.resolve_precision("float16", seconds) == "float16"
    with pytest.raises(ValueError, match="unknown precision"):
        precision.resolve_precision("int8")


def test_auto_times_real_training_steps_on_an_avx512_bfloat16_cpu(sample_csv, tmp_path, monkeypatch, caplog):
    fake_cpu(tmp_path, monkeypatch, "fpu avx2 avx512f avx512_bf16")
    output = tmp_path / "run"
    with caplog.at_level("INFO", logger="fer.training.precision"):
        train(tiny_config(sample_csv, output, precision="auto"))
    assert "a training step took" in caplog.text
    chosen = json.loads((output / "metadata.json").read_text())["precision"]
    assert chosen in caplog.text.split("precision auto: ")[1].split(" ")[0]


def test_auto_on_gpus_asks_for_bfloat16_units(monkeypatch):
    monkeypatch.setattr(precision, "_gpu_compute_capabilities", lambda: [(8, 0), (9, 0)])
    assert precision.resolve_precision("auto") == "bfloat16"
    monkeypatch.setattr(precision, "_gpu_compute_capabilities", lambda: [(7, 5)])
    assert precision.resolve_precision("auto") == "float32"


def test_the_policy_is_restored_even_after_an_error():
    before = keras.config.dtype_policy().name
    with pytest.raises(RuntimeError):
        with precision.dtype_policy("bfloat16"):
            assert keras.config.dtype_policy().name == "mixed_bfloat16"
            raise RuntimeError
    assert keras.config.dtype_policy().name == before


def test_a_bfloat16_run_trains_and_writes_a_float32_model(sample_csv, tmp_path):
    output = tmp_path / "run"
    train(tiny_config(sample_csv, output, precision="bfloat16", model="vgg_wide",
                      model_options={"widths": [8, 16, 16, 32]}, epochs=2))
    assert np.isfinite(pd.read_csv(output / "history.csv")["loss"]).all()
    architecture = (output / "model.json").read_text()
    assert "mixed_bfloat16" not in architecture and "bfloat16" not in architecture
    model = load_model(output).model
    assert all(weight.dtype == "float32" for weight in model.weights)
    assert model.predict(np.zeros((1, 48, 48, 1), np.float32), verbose=0).dtype == np.float32
    metadata = json.loads((output / "metadata.json").read_text())
    assert metadata["precision"] == "bfloat16" and metadata["processor"]
    assert metadata["train_images_per_second"] > 0
    assert keras.config.dtype_policy().name == "float32", "training left a global policy behind"
