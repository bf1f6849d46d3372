"""``train.py`` / ``python -m fer train``: parse options into a :class:`TrainConfig` and run it."""

import argparse
import dataclasses
import datetime
import logging
import pathlib

from ..labels import parse_classes
from ..training.precision import PRECISIONS

log = logging.getLogger(__name__)

HELP = "train an emotion model and write a model directory"
DESCRIPTION = ("Train an emotion model on FER-2013 and write a model directory (model.json, model.weights.h5, "
               "metadata.json, metrics.json, plots, report.md).")
MODEL_OPTION_FIELDS = ("widths", "crop")


def add_arguments(parser):
    """Options of ``train``."""
    from ..training.augment import AugmentConfig
    from ..training.models import DEFAULT_MODEL, model_names

    defaults = AugmentConfig()
    parser.add_argument("--data", help="FER-2013 CSV (plain or .gz) or image folder with train/<emotion>/, "
                        "test/<emotion>/ and optional validation/")
    parser.add_argument("--arch", "--model", dest="model", default=DEFAULT_MODEL, choices=model_names(),
                        help="architecture (--model is the old name of this option)")
    parser.add_argument("--widths", type=_widths, help="channels of each stage, e.g. 64,128,256,512 "
                        "[default: the architecture's own]")
    parser.add_argument("--crop", type=int, metavar="PIXELS", help="the model looks at the centre PIXELS x PIXELS "
                        "of each 48 x 48 face; with --shift, training sees a random crop of each face "
                        "(e.g. --crop 40 --shift 0.1) [default: the architecture's own; vgg_wide: 40]")
    parser.add_argument("--precision", choices=PRECISIONS, help="arithmetic of training: auto "
                        "picks bfloat16 on CPUs with AMX and on GPUs with bfloat16 units, times a few steps "
                        "each way on CPUs with AVX-512 bfloat16 only, else float32; the written model is "
                        "float32 whatever trained [default: auto; a resumed run keeps what it used]")
    parser.add_argument("--epochs", type=int, help="epochs to train, counting those already done when "
                        "resuming [default: 60]")
    parser.add_argument("--batch-size", type=int, default=64, help="faces per training step")
    parser.add_argument("--output", help="run directory [default: a new directory models/<model>-<time>]")
    parser.add_argument("--classes", help="comma-separated subset of emotions, e.g. happy,sad,surprise,neutral "
                        "[default: all seven]")
    parser.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its last finished epoch, "
                        "with the settings saved there (only --epochs, --precision and --average-last may "
                        "change); a finished run is only written again")
    parser.add_argument("--restore-from", metavar="MODEL_DIR", help="with --resume DIR whose checkpoint was "
                        "lost: go on from the best epoch of MODEL_DIR, a model directory that run wrote, "
                        "with its settings (--data, --epochs and --precision may change)")
    parser.add_argument("--config", metavar="JSON", help="read settings from a JSON file (e.g. the tuner's "
                        "best.json); options given on the command line win")
    parser.add_argument("--time-limit", type=float, metavar="SECONDS", help="stop at the last epoch that "
                        "ends within SECONDS of training (checkpoint kept; --resume goes on), e.g. on a GPU "
                        "rented by the minute")
    parser.add_argument("--average-last", type=int, metavar="N", help="keep the weights of the last N epochs "
                        "(in DIR/epochs/) and end with their average, its BatchNorm statistics measured again, "
                        "where it beats the best epoch on the validation faces [default: 0, off]")
    parser.add_argument("--skip-bad-rows", action="store_true", help="leave out bad CSV rows or unreadable "
                        "images (counted in the log) instead of stopping")
    optimiser = parser.add_argument_group("optimisation")
    optimiser.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "adamw"],
                           help="sgd is SGD with Nesterov momentum")
    optimiser.add_argument("--learning-rate", type=float, help="peak learning rate [default: 0.01 for sgd, "
                           "0.001 for adam/adamw]")
    optimiser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    optimiser.add_argument("--weight-decay", type=float, default=5e-4, help="decoupled weight decay (sgd, adamw)")
    optimiser.add_argument("--schedule", default="cosine", choices=["cosine", "plateau", "constant"],
                           help="cosine decay with warm-up, ReduceLROnPlateau, or a constant rate")
    optimiser.add_argument("--warmup-epochs", type=int, default=2, help="linear warm-up epochs (cosine)")
    optimiser.add_argument("--plateau-factor", type=float, default=0.75,
                           help="plateau: multiply the learning rate by this when validation accuracy stalls")
    optimiser.add_argument("--plateau-patience", type=int, default=5,
                           help="plateau: epochs without a better validation accuracy before the rate drops")
    optimiser.add_argument("--label-smoothing", type=float, default=0.1, help="label smoothing of the loss")
    optimiser.add_argument("--class-weights", default="none", choices=["none", "sqrt", "balanced"],
                           help="weight the loss by inverse class frequency (or its square root)")
    optimiser.add_argument("--patience", type=int, default=0,
                           help="stop after this many epochs without a better validation accuracy (0: never)")
    optimiser.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling and augmentation")
    optimiser.add_argument("--weights", help="ImageNet no-top weights file for vgg16/resnet50 (read locally; "
                           "without it they train from scratch)")
    optimiser.add_argument("--init-from", metavar="MODEL_DIR", help="start from the weights of a model directory "
                           "of the same architecture and labels (fine-tune, or train a finished model on)")
    optimiser.add_argument("--devices", help="comma-separated devices to train on data-parallel, in the "
                           "backend's names: /gpu:0,/gpu:1 under TensorFlow, gpu:0,gpu:1 or cpu:0,cpu:1 "
                           "under JAX [default: every GPU (JAX: every device) when several are visible]")
    studies = parser.add_argument_group("studies (instead of one training run)")
    studies.add_argument("--folds", type=int, metavar="K", help="stratified K-fold cross-validation on the "
                         "training data: K models in fold_1..fold_K and a crossval.md summary")
    studies.add_argument("--tune", action="store_true", help="search learning rate, width, dropout and "
                         "augmentation strength with KerasTuner on the validation split; writes trials.csv, "
                         "tuning.md and best.json (train it with --config best.json)")
    studies.add_argument("--trials", type=int, default=10, help="settings the --tune search tries")
    studies.add_argument("--tune-epochs", type=int, default=5, help="epochs of each --tune trial")
    augment = parser.add_argument_group("augmentation (training faces only; 0 turns a transform off)")
    augment.add_argument("--no-flip", dest="flip", action="store_false", help="no horizontal flips")
    augment.add_argument("--shift", type=float, default=defaults.shift, help="random shift, fraction of the side, "
                         "rounded down to whole pixels (0.0834: 4 of 48)")
    augment.add_argument("--rotation", type=float, default=defaults.rotation, help="random rotation, degrees")
    augment.add_argument("--zoom", type=float, default=defaults.zoom, help="random zoom, fraction")
    augment.add_argument("--brightness", type=float, default=defaults.brightness, help="random brightness")
    augment.add_argument("--contrast", type=float, default=defaults.contrast, help="random contrast")
    augment.add_argument("--erasing", type=float, default=defaults.erasing,
                         help="probability of erasing a random rectangle")
    augment.add_argument("--mixup", type=float, default=defaults.mixup, metavar="ALPHA",
                         help="MixUp: blend pairs of faces and their labels, weights from Beta(ALPHA, ALPHA)")


def _widths(text):
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected whole numbers separated by commas") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: each width must be 1 or more")
    return widths


def config_from_args(args, parser):
    """A :class:`TrainConfig` from parsed options, a ``--config`` file and the defaults."""
    from ..training import artifacts
    from ..training.augment import AugmentConfig
    from ..training.trainer import TrainConfig

    settings = {}
    if args.config:
        settings = artifacts.read_json(args.config)
        settings.pop("output", None)
    given = {action.dest for action in parser._actions
             if getattr(args, action.dest, None) != action.default}
    fields = {field.name for field in dataclasses.fields(TrainConfig)}
    for name in fields - {"augment", "classes", "devices"}:
        if (name in given or name not in settings) and getattr(args, name, None) is not None:
            settings[name] = getattr(args, name)
    augment = dict(settings.get("augment", {}))
    for name in (field.name for field in dataclasses.fields(AugmentConfig)):
        if name in given or name not in augment:
            augment[name] = getattr(args, name)
    settings["augment"] = augment
    model_options = dict(settings.get("model_options", {}))
    for name in MODEL_OPTION_FIELDS:
        if getattr(args, name) is not None:
            model_options[name] = getattr(args, name)
    settings["model_options"] = model_options
    if "classes" in given or "classes" not in settings:
        settings["classes"] = parse_classes(args.classes)
    if "devices" in given or "devices" not in settings:
        settings["devices"] = tuple(args.devices.split(",")) if args.devices else ()
    if not settings.get("data"):
        parser.error("--data is required (or --resume DIR)")
    if not settings.get("output"):
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        settings["output"] = str(pathlib.Path("models") / f"{settings['model']}-{stamp}")
    return TrainConfig.from_dict(settings)


def resumed_config(args):
    """The saved settings of the run in ``--resume DIR``, with a new ``--epochs`` and ``--precision`` if given.

    With ``--restore-from MODEL_DIR`` they come from the model directory's ``metadata.json``
    instead (the run's own may be lost with its checkpoint), and ``--data`` may change.
    """
    from ..training import artifacts
    from ..training.trainer import CONFIG_FILE, TrainConfig

    if args.restore_from:
        path = pathlib.Path(args.restore_from) / artifacts.METADATA_FILE
        settings = artifacts.read_json(path).get("training") if path.is_file() else None
        if not settings:
            raise FileNotFoundError(f"--restore-from {args.restore_from}: no {artifacts.METADATA_FILE} with "
                                    "the settings of a train.py run")
    else:
        path = pathlib.Path(args.resume) / CONFIG_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{args.resume}: no {CONFIG_FILE}; is this a run directory of train.py?")
        settings = artifacts.read_json(path)
    config = TrainConfig.from_dict(settings)
    config.output = str(args.resume)
    if args.restore_from and args.data:
        config.data = args.data
    if args.epochs is not None:
        config.epochs = args.epochs
    if args.precision is not None:  # the weights stay float32 whatever computes, so a run may switch
        config.precision = args.precision
    if args.average_last is not None:
        config.average_last = args.average_last
    return config


def run(args):
    """Train (or resume, cross-validate, tune) as the options say; returns the exit status."""
    parser = args.command_parser
    if sum([bool(args.resume), args.folds is not None, args.tune]) > 1:
        parser.error("choose one of --resume, --folds and --tune")
    if args.restore_from and not args.resume:
        parser.error("--restore-from needs --resume DIR: the run directory to rebuild")
    if args.time_limit is not None and (args.folds is not None or args.tune):
        parser.error("--time-limit applies to one training run, not to --folds or --tune")
    if args.average_last is not None and args.average_last < 0:
        parser.error("--average-last must be 0 (off) or more")
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs must be 1 or more, not {args.epochs}")
    config = resumed_config(args) if args.resume else config_from_args(args, parser)
    if args.folds is not None:
        from ..studies.crossval import cross_validate

        output = cross_validate(config, args.folds)
    elif args.tune:
        from ..studies.tuning import tune

        output = tune(config, args.trials, args.tune_epochs)
    else:
        from ..training.trainer import train

        output = train(config, resume=bool(args.resume), time_limit=args.time_limit, restore_from=args.restore_from)
    log.info("model directory: %s", output)
    return 0
