"""Face detectors compared: faces found, emotions right, and frames/s, on faces upright and turned.

Accuracy: withheld FER-2013 faces (the PublicTest rows of ``--data``), each grown to 150 px,
four to a 640 x 480 frame on the tests' soft background, upright, turned ±15° or ±30° (half
one way, half the other). Every frame goes through ``EmotionRecognizer.analyze`` (a whole-frame
search, as ``camera.py --no-smoothing --full-search-every 1``). A face counts as found when a
box is centred within a quarter of its side of the face's centre and is half to twice its
size. Per detector and angle: the share of faces found, live accuracy (right emotions among
the faces found) and end to end (right emotions among all faces). ``model alone`` scores the
pasted squares themselves, no detector: what the emotion model loses to the turn.

Speed: the live pipeline of ``live_pipeline.py`` (decode, analyse with faces followed between
whole-frame searches every 8 frames, draw, JPEG) on clips of 1, 2 and 4 faces, per detector.

    python benchmarks/detectors.py --data fer2013.csv.gz --model models/default
"""

import os
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the repository's fer package importable
sys.path.insert(0, str(ROOT / "tests"))  # and the tests' scene maker (clips.py)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

import bench_common  # noqa: E402
import live_pipeline  # noqa: E402

NAME = "detectors"
FACE_SIDE = 150
ANGLES = (0, 15, 30)
"""Faces are turned by plus or minus these degrees, alternately."""
CONFIGS = (("haar", True), ("yunet", True), ("yunet", False))
"""``(detector, align)`` pairs compared; Haar finds no eyes, so it is never aligned."""
CELLS = ((160, 120), (480, 120), (160, 360), (480, 360))
"""Centres of the four faces of a frame."""


def config_name(detector, align):
    """``haar``, ``yunet``, ``yunet --no-align``."""
    return detector if align or detector == "haar" else f"{detector} --no-align"


def turned_frames(faces, angle):
    """Frames of four faces each (the last may hold fewer) turned ±``angle``; ``(frame, truths)`` pairs.

    ``truths`` lists ``(index of the face, centre x, centre y)``.
    """
    from clips import gradient_background

    background = gradient_background()
    for start in range(0, len(faces), len(CELLS)):
        frame = background.copy()
        truths = []
        for slot, index in enumerate(range(start, min(start + len(CELLS), len(faces)))):
            turned = turned_square(faces[index], angle if index % 2 == 0 else -angle)
            centre_x, centre_y = CELLS[slot]
            x, y = centre_x - FACE_SIDE // 2, centre_y - FACE_SIDE // 2
            frame[y:y + FACE_SIDE, x:x + FACE_SIDE] = turned[:, :, np.newaxis]
            truths.append((index, centre_x, centre_y))
        yield frame, truths


def turned_square(face, angle):
    """A 48-pixel face grown to ``FACE_SIDE`` and turned ``angle`` degrees about its centre."""
    grown = cv2.resize(face, (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_CUBIC)
    turn = cv2.getRotationMatrix2D((FACE_SIDE / 2, FACE_SIDE / 2), angle, 1.0)
    return cv2.warpAffine(grown, turn, (FACE_SIDE, FACE_SIDE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def matched_face(face, truths, taken):
    """The index (into ``truths``) of the true face ``face``'s box is on, or None."""
    x, y, w, h = face["box"]
    centre_x, centre_y = x + w / 2, y + h / 2
    for number, (_, true_x, true_y) in enumerate(truths):
        if number in taken or not 0.5 * FACE_SIDE <= max(w, h) <= 2 * FACE_SIDE:
            continue
        if max(abs(centre_x - true_x), abs(centre_y - true_y)) <= FACE_SIDE / 4:
            return number
    return None


def score_config(recognizer, faces, labels, angle):
    """Counts for one detector at one angle: faces, found, right, extra boxes."""
    counts = {"faces": len(faces), "found": 0, "right": 0, "extra_boxes": 0}
    for frame, truths in turned_frames(faces, angle):
        taken = set()
        for face in recognizer.analyze(frame):
            number = matched_face(face, truths, taken)
            if number is None:
                counts["extra_boxes"] += 1
                continue
            taken.add(number)
            counts["found"] += 1
            counts["right"] += face["emotion"] == recognizer.labels[labels[truths[number][0]]]
    return counts


def score_model_alone(recognizer, faces, labels, angle):
    """Counts for the model on the turned squares themselves (every face 'found')."""
    squares = [turned_square(face, angle if index % 2 == 0 else -angle) for index, face in enumerate(faces)]
    scores = np.concatenate([recognizer.classify_faces(squares[start:start + 64])
                             for start in range(0, len(squares), 64)])
    right = int((scores.argmax(axis=1) == labels).sum())
    return {"faces": len(faces), "found": len(faces), "right": right, "extra_boxes": 0}


def with_shares(counts):
    """``counts`` plus found share, live accuracy and end-to-end accuracy, in per cent."""
    faces, found, right = counts["faces"], counts["found"], counts["right"]
    return {**counts, "found_pct": round(100 * found / faces, 1) if faces else None,
            "live_accuracy_pct": round(100 * right / found, 1) if found else None,
            "end_to_end_pct": round(100 * right / faces, 1) if faces else None}


def accuracy_runs(model_dir, data, count):
    """One result per detector (and the model alone) per angle."""
    from fer.live.recognizer import EmotionRecognizer
    from fer.training.data import load_split

    split = load_split(data, "PublicTest")
    faces = [np.asarray(image, np.uint8).reshape(48, 48) for image in split.images[:count]]
    labels = np.asarray(split.labels[:count])
    runs = []
    for detector, align in CONFIGS:
        recognizer = EmotionRecognizer(model_dir, detector=detector, align=align)
        for angle in ANGLES:
            run = with_shares(score_config(recognizer, faces, labels, angle))
            runs.append({"detector": config_name(detector, align), "angle": angle, **run})
            print(f"{runs[-1]['detector']:>17} ±{angle:>2}°: found {run['found_pct']} %, live "
                  f"{run['live_accuracy_pct']} %, end to end {run['end_to_end_pct']} %", file=sys.stderr)
    for angle in ANGLES:
        runs.append({"detector": "model alone", "angle": angle,
                     **with_shares(score_model_alone(recognizer, faces, labels, angle))})
    return runs


def speed_runs(model_dir, face_counts, frames, warmup):
    """The live pipeline's frames/s per detector and face count."""
    quality = live_pipeline.stream_jpeg_quality()
    runs = []
    with tempfile.TemporaryDirectory(prefix="fer-bench-detectors-") as folder:
        clips = live_pipeline.write_clips(folder, face_counts, frames, live_pipeline.CLIP_FPS)
        for detector, align in CONFIGS:
            pipeline = live_pipeline.OurPipeline(model_dir, quality, detector=detector, align=align)
            for count, path in clips.items():
                summary = live_pipeline.time_clip(pipeline, path, warmup)
                runs.append({"detector": config_name(detector, align), "faces": count, **summary})
                print(f"{runs[-1]['detector']:>17} {count} face(s): {summary['fps']} frames/s", file=sys.stderr)
    return runs


def build_parser():
    """The command line."""
    parser = bench_common.base_parser(NAME, __doc__.split("\n\n")[0])
    bench_common.add_model_option(parser)
    parser.add_argument("--data", required=True, type=pathlib.Path, metavar="CSV",
                        help="FER-2013 CSV with PublicTest rows (fer2013.csv.gz)")
    parser.add_argument("--count", type=bench_common.positive, default=800, help="PublicTest faces used")
    parser.add_argument("--frames", type=bench_common.positive, default=300, help="frames per speed clip")
    parser.add_argument("--faces", type=bench_common.positive, nargs="+", default=[1, 2, 4],
                        help="faces per speed clip, one clip each (at most 4)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed frames before each timed pass")
    return parser


def main(argv=None):
    """Measure accuracy, then speed, and write the results JSON."""
    parser = build_parser()
    args = parser.parse_args(argv)
    machine = bench_common.machine_info()
    bench_common.check_model_dir(parser, args.model)
    if max(args.faces) > 4:
        parser.error("--faces takes counts up to 4 (a 640 x 480 scene holds 4 faces)")
    if not args.data.is_file():
        parser.error(f"--data {args.data}: no such file")
    speed = speed_runs(args.model, args.faces, args.frames, args.warmup)
    accuracy = accuracy_runs(args.model, args.data, args.count)
    settings = {"model": bench_common.shown_path(args.model), "data": args.data.name, "faces": args.count,
                "face_side": FACE_SIDE, "angles": list(ANGLES), "frame_size": [640, 480],
                "speed_frames_per_clip": args.frames, "speed_faces": args.faces}
    path = bench_common.write_results(args.output, NAME, settings, {"accuracy": accuracy, "speed": speed}, machine)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
