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


@pytest.mark.parametrize("flags, chosen", [("fpu avx2 avx512f amx_bf16 amx_tile", "bfloat16"),
                                           ("fpu avx2 avx512f avx512_bf16", "float32")])
def test_auto_picks_bfloat16_only_on_cpus_with_amx(flags, chosen, tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: {flags}\n")
    monkeypatch.setattr(precision, "_CPUINFO", cpuinfo)
    monkeypatch.setattr(precision, "_gpu_compute_capabilities", lambda: [])
    assert precision.resolve_precision("auto") == chosen
    assert precision.processor_name() == "Test CPU 9000"
    assert precision.resolve_precision("float16") == "float16"
    with pytest.raises(ValueError, match="unknown precision"):
        precision.resolve_precision("int8")


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
