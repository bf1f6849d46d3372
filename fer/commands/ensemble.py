"""``python -m fer ensemble``: average several model directories into one model directory."""

import sys

HELP = "average the probabilities of several model directories into one model directory"


def add_arguments(parser):
    """Options of ``ensemble``."""
    parser.add_argument("members", nargs="+", metavar="DIR",
                        help="model directories to combine (same labels, same input size)")
    parser.add_argument("--output", required=True, help="model directory to write the ensemble to")
    parser.add_argument("--data", help="FER-2013 CSV or image folder to score the ensemble on "
                        "(writes metrics.json, as a training run does)")


def run(args):
    """Build, save and (with ``--data``) score the ensemble."""
    from ..studies.ensemble import make_ensemble
    from ..training.evaluation import format_metrics

    metrics = make_ensemble(args.members, args.output, args.data)
    sys.stdout.write(f"ensemble of {len(args.members)} models written to {args.output}\n")
    if metrics is not None:
        sys.stdout.write("test split:\n" + format_metrics(metrics["test"]) + "\n")
    return 0
