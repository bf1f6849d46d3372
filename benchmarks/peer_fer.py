"""Time the ``fer`` PyPI package frame by frame on clips; print the results as one JSON line.

Run by ``live_pipeline.py`` with ``benchmarks/.venv-peer/bin/python`` from a temporary
directory, because ``import fer`` must find the PyPI package, not this repository's ``fer/``.
Per frame: decode (``cv2.VideoCapture.read``), ``FER(mtcnn=False).detect_emotions`` (Haar
cascade at full resolution + its mini-Xception), its own ``draw_annotations`` (boxes and
scores), and ``cv2.imencode`` at the quality our web stream uses.

    benchmarks/.venv-peer/bin/python benchmarks/peer_fer.py --clip 2:/tmp/faces2.mp4
"""

import argparse
import json
import pathlib
import sys
import time

import cv2

import bench_common


def load_peer(mode):
    """The PyPI ``fer`` detector and drawing function; refuses to run on this repository's ``fer``."""
    import fer

    location = pathlib.Path(fer.__file__).resolve()
    if location.is_relative_to(bench_common.ROOT / "fer"):
        raise SystemExit(f"peer_fer.py: imported this repository's fer ({location}), not the PyPI package: "
                         "run it with benchmarks/.venv-peer/bin/python from outside the repository")
    from fer.fer import FER
    from fer.utils import draw_annotations

    return fer.__version__, FER(mtcnn=False, use_tflite=(mode == "tflite")), draw_annotations


def time_clip(detector, draw_annotations, path, quality, warmup):
    """Warm up on ``warmup`` frames, then time every frame of the clip from its start."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise SystemExit(f"peer_fer.py: cannot open {path}")
    for _ in range(warmup):
        ok, frame = capture.read()
        if not ok:
            break
        draw_annotations(frame, detector.detect_emotions(frame))
    capture.release()
    capture = cv2.VideoCapture(str(path))
    frame_stages, faces_found = [], []
    started = time.perf_counter()
    while True:
        before_read = time.perf_counter()
        ok, frame = capture.read()
        if not ok:
            break
        decoded = time.perf_counter()
        faces = detector.detect_emotions(frame)
        analysed = time.perf_counter()
        frame = draw_annotations(frame, faces)
        drawn = time.perf_counter()
        cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
        encoded = time.perf_counter()
        frame_stages.append({"decode": decoded - before_read, "analyze": analysed - decoded,
                             "draw": drawn - analysed, "encode": encoded - drawn})
        faces_found.append(len(faces))
    wall = time.perf_counter() - started
    capture.release()
    return bench_common.frame_summary(frame_stages, faces_found, wall)


def clip_spec(text):
    """argparse type: ``FACES:PATH`` -> ``(faces, path)``."""
    count, _, path = text.partition(":")
    if not count.isdigit() or not path:
        raise argparse.ArgumentTypeError(f"expected FACES:PATH, got {text!r}")
    return int(count), pathlib.Path(path)


def main(argv=None):
    """Time each clip and print ``{"version", "mode", "runs"}`` as the last line of stdout."""
    parser = argparse.ArgumentParser(prog="peer_fer.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=clip_spec, action="append", required=True, metavar="FACES:PATH")
    parser.add_argument("--mode", choices=["tflite", "keras"], default="tflite",
                        help="fer's default quantised TFLite model, or its Keras .hdf5 model")
    parser.add_argument("--quality", type=int, default=80, help="JPEG quality")
    parser.add_argument("--warmup", type=int, default=10, help="untimed frames before each timed pass")
    args = parser.parse_args(argv)
    version, detector, draw_annotations = load_peer(args.mode)
    runs = [{"faces": count, **time_clip(detector, draw_annotations, path, args.quality, args.warmup)}
            for count, path in args.clip]
    print(json.dumps({"version": version, "mode": args.mode, "runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
