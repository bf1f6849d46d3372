"""Images/s of training: the input pipeline alone, and whole training steps, against ImageDataGenerator.

``train.py`` feeds faces through :class:`fer.training.augment.FaceBatches`: whole-pixel flips and
shifts in numpy, then Keras preprocessing layers on blocks of batches. The common tutorial
way is ``ImageDataGenerator(...).flow(...)``, which augments image by image in Python. Both
get real FER-2013 training faces (the committed sample repeated, or ``--data`` for the full
CSV), and ImageDataGenerator the same transforms at the same strengths: flip, shift,
rotation, zoom, brightness (it has no contrast or random erasing; ``train.py``'s own
augmentation adds those, and is timed both ways).

1. Input pipeline alone: ``--batches`` batches pulled and thrown away.
2. Full training step: ``model.fit`` for ``--steps`` steps of the default architecture and of
   ``baseline``, compiled as ``train.py`` compiles them, fed by each pipeline, in float32 and
   in each of ``--precisions`` (mixed precision, fed by ``train.py``'s pipeline only). bfloat16 pays on
   CPUs with AMX (``amx_bf16`` in ``lscpu``), on many with ``avx512_bf16`` and on recent GPUs.

    python benchmarks/training_speed.py
"""

import itertools
import json
import math
import os
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the repository's fer package importable
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import bench_common  # noqa: E402

NAME = "training_speed"
SAMPLE_CSV = ROOT / "tests" / "fixtures" / "fer2013_sample.csv.gz"
SEED = 0


def training_faces(data, count):
    """The training split of ``data`` repeated or cut to ``count`` faces: ``(dataset, images, labels)``."""
    from fer.training.data import load_dataset

    dataset = load_dataset(data, seed=SEED)
    repeats = math.ceil(count / len(dataset.train))
    images = np.concatenate([dataset.train.images] * repeats)[:count]
    labels = np.concatenate([dataset.train.labels] * repeats)[:count]
    return dataset, images, labels


def train_py_feeder(images, labels, num_classes, batch_size, augment):
    """``train.py``'s pipeline with augmentation ``augment``, epoch after epoch forever."""
    from fer.training.augment import training_batches

    batches = training_batches(images, labels, num_classes, batch_size, augment, shuffle=True, seed=SEED)

    def forever():
        for epoch in itertools.count():
            batches.set_epoch(epoch)
            for index in range(len(batches)):
                yield batches[index]

    return forever()


def image_data_generator_feeder(images, labels, num_classes, batch_size, augment):
    """The tutorial pipeline: ``ImageDataGenerator.flow`` with ``augment``'s flip, shift, rotation,
    zoom and brightness (its brightness scales pixels by 1 +- b where ours adds +- b of the range)."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    generator = ImageDataGenerator(
        horizontal_flip=augment.flip, width_shift_range=augment.shift, height_shift_range=augment.shift,
        rotation_range=augment.rotation, zoom_range=augment.zoom, fill_mode="reflect",
        brightness_range=(1 - augment.brightness, 1 + augment.brightness) if augment.brightness else None)
    targets = np.eye(num_classes, dtype=np.float32)[labels]
    return generator.flow(images.astype(np.float32), targets, batch_size=batch_size, shuffle=True, seed=SEED)


def feeders():
    """``{name: (make_feeder, augmentation)}`` of the pipelines compared."""
    from fer.training.augment import AugmentConfig

    train_py = AugmentConfig()
    shared = AugmentConfig(contrast=0.0, erasing=0.0)  # the transforms ImageDataGenerator has too
    return {"train.py pipeline, its augmentation": (train_py_feeder, train_py),
            "train.py pipeline, ImageDataGenerator's transforms": (train_py_feeder, shared),
            "ImageDataGenerator": (image_data_generator_feeder, shared)}


FIT_FEEDERS = ("train.py pipeline, its augmentation", "ImageDataGenerator")
"""The pipelines that feed the full training steps."""


def time_pipeline(feeder, batches, warmup, batch_size):
    """Images/s of pulling ``batches`` batches (after ``warmup`` untimed ones) from a pipeline."""
    stream = iter(feeder)
    for _ in range(warmup):
        next(stream)
    started = time.perf_counter()
    for _ in range(batches):
        faces, _ = next(stream)
    seconds = time.perf_counter() - started
    return {"batches": batches, "batch_size": batch_size, "seconds": round(seconds, 3),
            "images_per_s": round(batches * batch_size / seconds, 1),
            "batch_ms": bench_common.milliseconds(seconds / batches), "batch_shape": list(np.shape(faces))}


def time_fit(model, feeder, steps, warmup, batch_size):
    """Images/s of ``model.fit`` over ``steps`` steps, timed from the end of the ``warmup``-th step."""
    import keras

    class StepClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    clock = StepClock()
    # Each pipeline shuffles its own faces; fit's shuffle would only reorder batches.
    model.fit(feeder, epochs=1, steps_per_epoch=warmup + steps, shuffle=False, callbacks=[clock], verbose=0)
    seconds = clock.ends[-1] - clock.ends[warmup - 1]
    return {"steps": steps, "batch_size": batch_size, "seconds": round(seconds, 3),
            "images_per_s": round(steps * batch_size / seconds, 1),
            "step_ms": bench_common.milliseconds(seconds / steps)}


def build_parser():
    """The command line."""
    from fer.training.models import DEFAULT_MODEL, model_names

    parser = bench_common.base_parser(NAME, __doc__.split("\n\n")[0])
    parser.add_argument("--data", type=pathlib.Path, default=SAMPLE_CSV, metavar="PATH",
                        help="FER-2013 CSV (or image folder) whose training faces are used")
    parser.add_argument("--images", type=bench_common.positive, default=4096,
                        help="training faces, repeated or cut to this many")
    parser.add_argument("--architectures", nargs="+", default=[DEFAULT_MODEL, "baseline"], choices=model_names(),
                        help="registered models whose training steps are timed")
    parser.add_argument("--model-options", type=json.loads, default={},
                        help='JSON keyword options for every architecture, e.g. \'{"widths": [8, 16, 16, 32]}\'')
    parser.add_argument("--batch-size", type=bench_common.positive, default=64, help="train.py's default")
    parser.add_argument("--batches", type=bench_common.positive, default=100,
                        help="timed batches of each input pipeline alone")
    parser.add_argument("--steps", type=bench_common.positive, default=40,
                        help="timed training steps per architecture and pipeline")
    parser.add_argument("--precisions", nargs="*", default=["bfloat16"], choices=["bfloat16", "float16"],
                        help="mixed precisions whose training steps are timed beside float32")
    parser.add_argument("--warmup", type=bench_common.positive, default=3,
                        help="untimed batches or steps first (graph tracing, buffers filling)")
    return parser


def main(argv=None):
    """Time the pipelines, then the training steps, and write the results JSON."""
    args = build_parser().parse_args(argv)
    machine = bench_common.machine_info()  # the load before this run adds its own
    from fer.training.trainer import TrainConfig, build_compiled_model

    dataset, images, labels = training_faces(args.data, args.images)
    num_classes = len(dataset.labels)
    runs = []
    for name, (make_feeder, augment) in feeders().items():
        feeder = make_feeder(images, labels, num_classes, args.batch_size, augment)
        run = {"part": "input pipeline", "feeder": name,
               **time_pipeline(feeder, args.batches, args.warmup, args.batch_size)}
        runs.append(run)
        print(f"pipeline  {name:<42} {run['images_per_s']:>9} images/s", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="fer-bench-train-") as unused_output:
        trials = [(name, "float32") for name in FIT_FEEDERS] + [(FIT_FEEDERS[0], mixed) for mixed in args.precisions]
        for architecture in args.architectures:
            for name, precision in trials:
                make_feeder, augment = feeders()[name]
                config = TrainConfig(data=str(args.data), output=unused_output, model=architecture,
                                     model_options=dict(args.model_options), batch_size=args.batch_size)
                steps_per_epoch = math.ceil(len(labels) / args.batch_size)
                model = build_compiled_model(config, dataset, steps_per_epoch, precision=precision)
                feeder = make_feeder(images, labels, num_classes, args.batch_size, augment)
                run = {"part": "training step", "architecture": architecture, "feeder": name, "precision": precision,
                       "parameters": int(model.count_params()),
                       **time_fit(model, feeder, args.steps, args.warmup, args.batch_size)}
                runs.append(run)
                print(f"fit       {architecture:<10} {name:<32} {precision:<9} {run['images_per_s']:>9} images/s",
                      file=sys.stderr)
    defaults = TrainConfig(data=str(args.data), output="").to_dict()
    settings = {"data": bench_common.shown_path(args.data), "images": len(labels), "batch_size": args.batch_size,
                "batches": args.batches, "steps": args.steps, "warmup": args.warmup,
                "architectures": args.architectures, "model_options": args.model_options,
                "compiled_as": {key: defaults[key] for key in ("optimizer", "schedule", "label_smoothing")}}
    path = bench_common.write_results(args.output, NAME, settings, runs, machine)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
