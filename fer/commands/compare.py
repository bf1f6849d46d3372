"""``python -m fer compare``: several model directories side by side, as a table and a plot."""

import sys

HELP = "compare model directories: accuracy, macro-F1 and per-class recall from their metrics.json"


def add_arguments(parser):
    """Options of ``compare``."""
    from ..studies.compare import SPLITS

    parser.add_argument("models", nargs="+", metavar="DIR", help="model directories with a metrics.json")
    parser.add_argument("--split", default="test", choices=SPLITS, help="which figures to compare")
    parser.add_argument("--output", default="compare.png", help="PNG plot to write")


def run(args):
    """Print the table and write the plot."""
    from ..studies.compare import compare, compared_labels, format_comparison
    from ..training.plots import plot_comparison

    summary = compare(args.models, args.split)
    labels = compared_labels(summary)
    sys.stdout.write(f"{args.split} split; the class columns are recall\n")
    sys.stdout.write(format_comparison(summary, labels) + "\n")
    plot_comparison(summary, labels, args.output, title=f"{args.split} split")
    sys.stdout.write(f"plot written to {args.output}\n")
    return 0
