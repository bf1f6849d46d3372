"""Data-parallel training under JAX: Keras's ``DataParallel`` distribution over two (forced) CPU devices."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pandas as pd

from fer.training.artifacts import load_model
from fer.training.augment import FaceBatches
from fer.training.data import load_csv

ROOT = pathlib.Path(__file__).resolve().parents[1]

DATA_PARALLEL = """
import json, logging, sys
logging.basicConfig(level=logging.INFO)
sys.path[:0] = [sys.argv[3], sys.argv[3] + "/tests"]
import keras
from conftest import tiny_config
from fer.training import trainer

seen = {}

def fit_and_look(config, model, *args, **kwargs):
    history = fit_model(config, model, *args, **kwargs)
    seen["distribution"] = type(keras.distribution.distribution()).__name__
    variables = model.weights + model.optimizer.variables
    seen["devices_per_variable"] = sorted({len(v.value.sharding.device_set) for v in variables})
    return history

fit_model, trainer.fit_model = trainer.fit_model, fit_and_look
# 111 faces in batches of 32: the last batch of 15 cannot split over two devices; nor can 35 validation faces.
trainer.train(tiny_config(sys.argv[1], sys.argv[2], batch_size=32))
seen["after"] = repr(keras.distribution.distribution())
try:
    trainer.train(tiny_config(sys.argv[1], sys.argv[2] + "_odd", batch_size=31))
except ValueError as error:
    seen["odd_batch"] = str(error)
print(json.dumps(seen))
"""


def test_jax_trains_data_parallel_on_two_devices_and_restores_the_distribution(sample_csv, tmp_path):
    rows = pd.read_csv(sample_csv)
    data = tmp_path / "odd.csv"
    rows.drop(index=rows.index[rows["Usage"] == "Training"][0]).to_csv(data, index=False)  # 111 training faces
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    result = subprocess.run([sys.executable, "-c", DATA_PARALLEL, str(data), str(tmp_path / "run"), str(ROOT)],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "training data-parallel on 2 devices" in result.stderr
    assert "leaves out 1 of its shuffled training faces" in result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["distribution"] == "DataParallel"
    assert seen["devices_per_variable"] == [2]  # every weight and optimizer slot replicated on both devices
    assert seen["after"] == "None"  # train() puts the previous (absent) distribution back
    assert "batch size 31 does not split evenly over 2 devices" in seen["odd_batch"]
    loaded = load_model(tmp_path / "run")  # saved from replicated weights, it loads here on one device
    assert loaded.model.predict(load_csv(data).test.images.astype("float32"), verbose=0).shape == (35, 7)
    assert len(pd.read_csv(tmp_path / "run" / "history.csv")) == 1


def test_face_batches_trim_the_last_batch_to_split_evenly():
    images = np.arange(111, dtype=np.uint8).reshape(111, 1, 1, 1)
    batches = FaceBatches(images, np.zeros(111, dtype=int), 7, batch_size=32, shuffle=True, batch_multiple=2)
    left_out = []
    for epoch in range(3):
        batches.set_epoch(epoch)
        sizes = [len(batches[index][0]) for index in range(len(batches))]
        assert sizes == [32, 32, 32, 14]
        seen = np.concatenate([batches[index][0].ravel() for index in range(len(batches))])
        left_out.append(set(range(111)) - set(seen.astype(int)))
    assert all(len(faces) == 1 for faces in left_out)
    assert len(set.union(*left_out)) > 1  # the shuffle leaves out another face each epoch
