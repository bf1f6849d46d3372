"""A training run's directory: the names of its files and its per-epoch history.

``config.json`` holds the settings (``--resume`` reads them back), ``checkpoints/`` the weights,
optimizer state and epoch of the last finished epoch (Keras's ``BackupAndRestore`` files),
``best.weights.h5`` the best validation epoch so far, ``history.csv`` one row per epoch and
``start.json`` what the run's first weights came from (``--init-from``), as it stood then;
with ``--average-last N``, ``epochs/`` the weights of each of the last N epochs.
"""

import pathlib

import pandas as pd

CONFIG_FILE = "config.json"
HISTORY_FILE = "history.csv"
BEST_WEIGHTS_FILE = "best.weights.h5"
CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_WEIGHTS_FILE = "latest.weights.h5"  # in CHECKPOINT_DIR, named by BackupAndRestore
CHECKPOINT_STATE_FILE = "training_metadata.json"  # in CHECKPOINT_DIR: {"epoch": epochs done, "batch": 0}
START_FILE = "start.json"
EPOCHS_DIR = "epochs"


def epoch_weights_path(output, epoch):
    """Where a run keeps the weights of ``epoch`` (counted from 1) for averaging."""
    return pathlib.Path(output) / EPOCHS_DIR / f"epoch{epoch:03d}.weights.h5"


def read_history(output):
    """The per-epoch history of a run, one row per epoch (a re-run epoch keeps its last row)."""
    path = pathlib.Path(output) / HISTORY_FILE
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame()
    history = pd.read_csv(path)
    return history.drop_duplicates("epoch", keep="last").reset_index(drop=True)
