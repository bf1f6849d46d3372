"""``python -m fer explain``: draw why a model read each face of an image as it did."""

import pathlib
import sys

from .detection import add_detector_arguments

HELP = "draw a face's scores with a Grad-CAM heat map (or per-layer activation maps)"


def add_arguments(parser):
    """Options of ``explain``."""
    parser.add_argument("image", help="a face crop (such as a 48x48 FER face) or a photo with faces")
    parser.add_argument("--model", required=True, help="model directory (model.json + model.weights.h5)")
    parser.add_argument("--output", help="PNG to write [default: IMAGE_NAME_explained.png in the current folder]")
    parser.add_argument("--activations", action="store_true",
                        help="show every convolution layer's mean activation instead of Grad-CAM")
    add_detector_arguments(parser, detect_width=False, scoring=False)


def run(args):
    """Load the model and the face detector, explain each face, write one picture."""
    from ..training.artifacts import load_model
    from ..training.data import read_image
    from ..live.detectors import make_detector
    from ..studies.explain import explain_image
    from ..training.plots import plot_explanation

    loaded = load_model(args.model)
    image = read_image(args.image)
    explanations = explain_image(loaded, image, make_detector(args.detector), activations=args.activations,
                                 align=args.align)
    output = pathlib.Path(args.output or f"{pathlib.Path(args.image).stem}_explained.png")
    plot_explanation(explanations, loaded.labels, output)
    for explanation in explanations:
        sys.stdout.write(explanation.title.replace("\n", ": ") + "\n")
    sys.stdout.write(f"explanation written to {output}\n")
    return 0
