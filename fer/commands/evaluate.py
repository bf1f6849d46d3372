"""``python -m fer evaluate``: score a model directory on a CSV or image folder."""

import pathlib
import sys

HELP = "score a model directory on a CSV or image folder"


def add_arguments(parser):
    """Options of ``evaluate``."""
    from ..training.evaluation import TTA_MODES

    parser.add_argument("--model", required=True, help="model directory (model.json + model.weights.h5), or "
                        "the output directory of a run still training (its best epoch so far)")
    parser.add_argument("--data", required=True, help="FER-2013 CSV (plain or .gz) or image folder; only the "
                        "scored split need be in it")
    parser.add_argument("--usage", help="split to score: PrivateTest, PublicTest or Training (CSV), or "
                        "test/validation/train (folder) [default: PrivateTest if present, else PublicTest, "
                        "else Training]")
    parser.add_argument("--tta", nargs="?", const="flip", default="none", choices=TTA_MODES,
                        help="test-time averaging: flip (the face and its mirror; the default of a bare "
                        "--tta) or tencrop (four corners and the centre, each mirrored)")
    parser.add_argument("--output", help="also write the metrics to this JSON file")
    parser.add_argument("--batch-size", type=int, default=256, help="faces per prediction batch")


def run(args):
    """Load, score and print the metrics (accuracy first); write them where ``--output`` says."""
    from ..training.artifacts import write_json
    from ..training.data import load_split
    from ..training.evaluation import evaluate_split, format_metrics

    loaded = load_scored_model(args.model)
    split = load_split(args.data, args.usage, loaded.labels)
    metrics = evaluate_split(loaded.model, split, loaded.labels, tta=args.tta, batch_size=args.batch_size)
    metrics.update(model=str(args.model), data=str(args.data), usage=args.usage or "default test split")
    sys.stdout.write(format_metrics(metrics) + "\n")
    if args.output:
        write_json(args.output, metrics)
        sys.stdout.write(f"metrics written to {args.output}\n")
    return 0


def load_scored_model(directory):
    """The model directory at ``directory``, or, for a run still training, its best epoch so far.

    A run is still training when it has not written its model yet, or when a resumed run has
    found a better epoch since it last wrote one (``--time-limit`` writes one at each stop).
    """
    from ..locations import WEIGHTS_FILE
    from ..training.artifacts import load_model
    from ..training.trainer import BEST_WEIGHTS_FILE, CONFIG_FILE, load_best_so_far

    directory = pathlib.Path(directory)
    model_weights, best = directory / WEIGHTS_FILE, directory / BEST_WEIGHTS_FILE
    if (directory / CONFIG_FILE).is_file() and (
            not model_weights.is_file() or (best.is_file() and best.stat().st_mtime > model_weights.stat().st_mtime)):
        return load_best_so_far(directory)
    return load_model(directory)
