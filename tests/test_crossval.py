import json
import pathlib

import numpy as np
import pytest

from conftest import tiny_config
from fer.studies import crossval
from fer.cli import main
from fer.training.data import Split, load_csv

LABELS = np.repeat(np.arange(7), 16)[np.random.default_rng(0).permutation(112)]


def test_folds_are_stratified_disjoint_seeded_and_cover_the_data():
    plan = crossval.fold_indices(LABELS, 4, seed=3)
    held_out = np.concatenate([fold.held_out for fold in plan])
    assert sorted(held_out) == list(range(len(LABELS)))  # every face held out exactly once
    for fold in plan:
        parts = [set(fold.fit), set(fold.validation), set(fold.held_out)]
        assert sum(map(len, parts)) == len(set().union(*parts)) == len(LABELS)
        assert set(np.bincount(LABELS[fold.held_out], minlength=7)) == {4}  # 16 per class / 4 folds
        assert set(LABELS[fold.validation]) == set(range(7))
    again = crossval.fold_indices(LABELS, 4, seed=3)
    assert all(np.array_equal(a.held_out, b.held_out) for a, b in zip(plan, again))
    other = crossval.fold_indices(LABELS, 4, seed=4)
    assert not all(np.array_equal(a.held_out, b.held_out) for a, b in zip(plan, other))


def test_fewer_than_two_folds_is_refused():
    with pytest.raises(ValueError, match="at least 2 folds"):
        crossval.fold_indices(LABELS, 1)


def test_held_out_faces_never_reach_training_or_checkpoint_choice():
    # each "face" is filled with its own index, so a dataset's faces name the rows it holds
    faces = np.broadcast_to(np.arange(len(LABELS), dtype=np.uint8)[:, None, None, None], (len(LABELS), 48, 48, 1))
    split = Split(faces, LABELS)
    for fold in crossval.fold_indices(LABELS, 3):
        dataset = crossval.fold_dataset(split, fold, tuple("abcdefg"))
        rows = {name: set(dataset.split(name).images[:, 0, 0, 0]) for name in ("train", "validation", "test")}
        assert rows["test"] == set(fold.held_out)
        assert not rows["test"] & (rows["train"] | rows["validation"])
        assert not rows["train"] & rows["validation"]
        np.testing.assert_array_equal(dataset.test.labels, LABELS[fold.held_out])


def test_a_real_two_fold_run_writes_the_summary(sample_csv, tmp_path, monkeypatch):
    seen = []
    real_train = crossval.train

    def recording_train(config, resume=False, dataset=None):
        seen.append(dataset)
        return real_train(config, resume=resume, dataset=dataset)

    monkeypatch.setattr(crossval, "train", recording_train)
    output = crossval.cross_validate(tiny_config(sample_csv, tmp_path / "cv"), folds=2)

    training_faces = load_csv(sample_csv).train.images
    for dataset in seen:  # what each fold trained and chose its checkpoint on, by face
        held_out = {face.tobytes() for face in dataset.test.images}
        assert not held_out & {face.tobytes() for face in dataset.train.images}
        assert not held_out & {face.tobytes() for face in dataset.validation.images}
    assert sum(len(dataset.test) for dataset in seen) == len(training_faces)

    summary = json.loads((output / "crossval.json").read_text())
    accuracies = [fold["accuracy"] for fold in summary["per_fold"]]
    assert len(accuracies) == 2
    assert summary["mean"]["accuracy"] == pytest.approx(np.mean(accuracies))
    assert summary["std"]["accuracy"] == pytest.approx(np.std(accuracies, ddof=1))
    assert np.array(summary["confusion_matrix"]).sum() == len(training_faces) == 112
    for number in (1, 2):
        fold_metrics = json.loads((output / f"fold_{number}" / "metrics.json").read_text())
        assert fold_metrics["test"]["accuracy"] == accuracies[number - 1]
        assert (output / f"fold_{number}" / "model.weights.h5").is_file()
    report = (output / "crossval.md").read_text()
    mean, std = summary["mean"]["macro_f1"], summary["std"]["macro_f1"]
    assert f"macro-F1 {mean:.4f} ± {std:.4f}" in report
    assert (output / "folds.png").stat().st_size > 0 and (output / "confusion_matrix.png").stat().st_size > 0
    settings = json.loads((output / "crossval_config.json").read_text())
    assert settings["model_options"] == {"widths": [8, 16, 16, 32]}
    with pytest.raises(FileExistsError, match="already holds a cross-validation"):
        crossval.cross_validate(tiny_config(sample_csv, output), folds=2)


def test_the_same_command_continues_a_cut_off_cross_validation(sample_csv, tmp_path, monkeypatch):
    output = tmp_path / "cv"
    calls = []
    real_train = crossval.train

    def train_then_die(config, resume=False, dataset=None):
        calls.append((pathlib.Path(config.output).name, resume))
        if len(calls) == 2:
            raise KeyboardInterrupt("cut off")  # as if the session ended during fold 2
        return real_train(config, resume=resume, dataset=dataset)

    monkeypatch.setattr(crossval, "train", train_then_die)
    with pytest.raises(KeyboardInterrupt):
        crossval.cross_validate(tiny_config(sample_csv, output), folds=2)
    with pytest.raises(FileExistsError, match="with other settings"):
        crossval.cross_validate(tiny_config(sample_csv, output, epochs=2), folds=2)
    crossval.cross_validate(tiny_config(sample_csv, output), folds=2)
    assert calls[2:] == [("fold_2", False)]  # fold 1 kept, only fold 2 trained again
    assert len(json.loads((output / "crossval.json").read_text())["per_fold"]) == 2


def test_train_cli_refuses_folds_with_tune(sample_csv, tmp_path):
    with pytest.raises(SystemExit) as stopped:
        main(["train", "--data", str(sample_csv), "--folds", "2", "--tune", "--output", str(tmp_path)])
    assert stopped.value.code == 2
    assert main(["train", "--data", str(sample_csv), "--folds", "1", "--output", str(tmp_path / "one")]) == 2
