"""``python -m fer export``: a model directory as one LiteRT (TensorFlow Lite) file for phones and boards."""

import sys

HELP = "export a model directory to a LiteRT (.tflite) file, float32, the model's own rescaling inside"


def add_arguments(parser):
    """Options of ``export``."""
    parser.add_argument("--model", required=True, help="model directory (model.json + model.weights.h5)")
    parser.add_argument("--output", required=True, help=".tflite file to write")


def run(args):
    """Load the model and write its LiteRT export (needs the TensorFlow backend)."""
    import keras

    from ..training.artifacts import load_model

    if keras.backend.backend() != "tensorflow":
        raise ValueError(f"exporting to LiteRT needs KERAS_BACKEND=tensorflow, not {keras.backend.backend()}")
    loaded = load_model(args.model)
    loaded.model.export(args.output, format="litert", verbose=False)
    sys.stdout.write(f"{args.output}: takes {loaded.input_size} x {loaded.input_size} x 1 grey pixels 0-255, "
                     f"gives the scores of {', '.join(loaded.labels)}\n")
    return 0
