"""What an archive analysis has finished: ``manifest.json`` in the output folder.

For each table it keeps a key (the model's files, the options, the input's size and time of
change) and the input's summary row. A rerun with the same key and the table still there skips
the input and reuses the row; anything changed, and the input is analysed again. Only the
main process writes it, whole, through a temporary name.
"""

import dataclasses
import functools
import hashlib
import json
import logging
import pathlib

from ..files import written_whole

log = logging.getLogger(__name__)

FILE_NAME = "manifest.json"
MODEL_FILES = ("model.json", "model.weights.h5")


@functools.lru_cache(maxsize=4)
def model_fingerprint(model_dir):
    """SHA-256 of the model's architecture and weights: a retrained model in the same folder differs."""
    digest = hashlib.sha256()
    for name in MODEL_FILES:
        path = pathlib.Path(model_dir) / name
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def job_key(job):
    """What must match for a finished table to stand: the model, the options, the input file."""
    stat = job.path.stat()
    options = dataclasses.asdict(job.options)
    options["model"] = model_fingerprint(str(job.options.model))
    return {"options": options, "input_bytes": stat.st_size, "input_mtime_ns": stat.st_mtime_ns}


class Manifest:
    """The finished tables of one output folder."""

    def __init__(self, folder):
        self.path = pathlib.Path(folder) / FILE_NAME
        self.entries = {}
        if self.path.is_file():
            try:
                self.entries = json.loads(self.path.read_text(encoding="utf-8"))["tables"]
            except (ValueError, KeyError, TypeError):
                log.warning("%s is unreadable: every input is analysed again", self.path)

    def finished(self, job):
        """The summary row of ``job`` if its table is finished for the same key, else ``None``."""
        entry = self.entries.get(job.name)
        if entry is None or not job.table.is_file():
            return None
        try:
            key = job_key(job)
        except OSError:
            return None
        return entry["row"] if entry["key"] == key else None

    def record(self, job, row):
        """Remember a finished table (inputs that failed are not remembered: a rerun tries them again)."""
        if row["status"] != "ok":
            self.entries.pop(job.name, None)
        else:
            self.entries[job.name] = {"key": job_key(job), "row": row}
        self.save()

    def save(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(self.path) as temporary:
            temporary.write_text(json.dumps({"tables": self.entries}, indent=1), encoding="utf-8")
