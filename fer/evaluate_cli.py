"""``python -m fer evaluate``: score a model directory on a CSV or image folder."""

import pathlib
import sys

HELP = "score a model directory on a CSV or image folder"


def add_arguments(parser):
    """Options of ``evaluate``."""
    parser.add_argument("--model", required=True, help="model directory (model.json + model.weights.h5)")
    parser.add_argument("--data", required=True, help="FER-2013 CSV (plain or .gz) or image folder")
    parser.add_argument("--usage", help="split to score: PrivateTest, PublicTest or Training (CSV), or "
                        "test/validation/train (folder) [default: PrivateTest if present, else PublicTest]")
    parser.add_argument("--tta", action="store_true", help="average each face with its mirror image")
    parser.add_argument("--output", help="metrics JSON to write [default: evaluation.json in the model directory]")
    parser.add_argument("--batch-size", type=int, default=256, help="faces per prediction batch")


def run(args):
    """Load, score, print (accuracy first) and write the metrics."""
    from .artifacts import load_model, write_json
    from .data import load_split
    from .evaluation import evaluate_split, format_metrics

    loaded = load_model(args.model)
    split = load_split(args.data, args.usage, loaded.labels)
    metrics = evaluate_split(loaded.model, split, loaded.labels, tta=args.tta, batch_size=args.batch_size)
    metrics.update(model=str(args.model), data=str(args.data), usage=args.usage or "default test split")
    output = pathlib.Path(args.output) if args.output else pathlib.Path(args.model) / "evaluation.json"
    write_json(output, metrics)
    sys.stdout.write(format_metrics(metrics) + f"\nmetrics written to {output}\n")
    return 0

