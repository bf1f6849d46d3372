"""``python -m fer calibrate``: make a model directory's confidences mean what they say."""

import sys

HELP = "fit a temperature on validation faces and fold it into a model directory's weights"
DESCRIPTION = ("Fit the temperature that makes the model's top score match its accuracy on the validation "
               "faces, fold it into the output layer (predictions do not change; model.json and the weights "
               "alone then give calibrated probabilities) and record the calibration error before and after "
               "in metadata.json, metrics.json and report.md. train.py does this at the end of every run.")


def add_arguments(parser):
    """Options of ``calibrate``."""
    parser.add_argument("--model", required=True, help="model directory (model.json + model.weights.h5); "
                        "rewritten in place")
    parser.add_argument("--data", required=True, help="FER-2013 CSV (plain or .gz) or image folder")
    parser.add_argument("--usage", default="validation", help="faces to fit on: PublicTest (the validation "
                        "rows, the default), Training or PrivateTest; or a folder's split name")
    parser.add_argument("--batch-size", type=int, default=256, help="faces per prediction batch")


def run(args):
    """Fit, fold, write the weights and the records, refresh the shipped LiteRT file."""
    import pathlib

    from ..deployment.bundle import bundle_litert
    from ..locations import LITERT_FILE, METADATA_FILE, METRICS_FILE, WEIGHTS_FILE
    from ..training import artifacts, calibration
    from ..training.data import load_split
    from ..training.reporting import scored_views, update_calibration_section, update_metrics_table

    directory = pathlib.Path(args.model)
    loaded = artifacts.load_model(directory)
    split = load_split(args.data, args.usage, loaded.labels)
    metadata_path, metrics_path = directory / METADATA_FILE, directory / METRICS_FILE
    metadata = artifacts.read_json(metadata_path) if metadata_path.is_file() else {}
    previous = metadata.get("calibration", {}).get("temperature", 1.0)
    figures = calibration.calibrate(loaded.model, split, previous_temperature=previous,
                                    batch_size=args.batch_size)
    figures["fitted_on"] = {"data": str(args.data), "usage": args.usage}
    loaded.model.save_weights(directory / WEIGHTS_FILE)
    metadata["calibration"] = calibration.brief(figures)
    artifacts.write_json(metadata_path, metadata)
    if metrics_path.is_file():
        before = artifacts.read_json(metrics_path)
        metrics = dict(before)
        if args.usage in ("validation", "PublicTest"):
            # averaging calibrated views (flip, ten-crop) can turn a few faces; a single pass turns none
            metrics.update(scored_views(loaded.model, split, loaded.labels, "validation",
                                        metrics.get("test_is_validation", False), args.batch_size))
        artifacts.write_json(metrics_path, {**metrics, "calibration": figures})
        update_metrics_table(directory, before, metrics)
    update_calibration_section(directory, figures)
    if (directory / LITERT_FILE).is_file():
        bundle_litert(loaded.model, directory)
    part = figures["validation"]
    sys.stdout.write(f"{directory}: temperature {figures['fitted_temperature']:.3f} (in all {figures['temperature']:.3f} "
                     f"since training); on {part['faces']} faces, expected calibration error "
                     f"{part['ece_before']:.4f} -> {part['ece_after']:.4f} (cross-fitted), mean confidence "
                     f"{part['mean_confidence_before']:.3f} -> {part['mean_confidence_after']:.3f} for accuracy "
                     f"{part['accuracy']:.3f}\n")
    return 0

