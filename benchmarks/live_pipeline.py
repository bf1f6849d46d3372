"""Frames per second of the live pipeline, end to end, on 640 x 480 clips of 1, 2 and 4 real faces.

Every frame of a clip goes through what the web stream does to it, without a display:
decode (``cv2.VideoCapture.read``), ``EmotionRecognizer.analyze`` (find the faces around
those of the frame before, with a whole-frame search on a shrunk grey frame every 8 frames;
one batched model call; tracking), ``annotate`` and a JPEG encode at the stream's quality.
Each stage is timed; frames/s counts every frame read, none skipped. ``ours, full search``
is the same pipeline searching every whole frame (``full_search_every=1``).

Two references run on the same clips:

* ``naive``: our model driven the way tutorials do it: ``detectMultiScale`` on the
  full-resolution grey frame, then per face a hand-made resize and reshape and one
  ``model.predict`` call, a box and a label drawn with OpenCV.
* ``fer-pypi``: the ``fer`` package from PyPI (Haar cascade + its bundled mini-Xception),
  ``FER(mtcnn=False).detect_emotions(frame)`` and its own ``draw_annotations``, run by
  ``peer_fer.py`` in ``benchmarks/.venv-peer`` (made by ``setup_peer.sh``).

    python benchmarks/live_pipeline.py --model models/default
"""

import inspect
import os
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the repository's fer package importable
sys.path.insert(0, str(ROOT / "tests"))  # and the tests' clip maker (clips.py)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

import bench_common  # noqa: E402

NAME = "live_pipeline"
PEER_SCRIPT = bench_common.BENCHMARKS / "peer_fer.py"
CLIP_FPS = 30.0
"""Frame rate written into the clips (a webcam's usual rate); it does not pace the timed passes."""
PEER_MODES = ("tflite", "keras")
"""``fer``'s default quantised TFLite model, and its Keras ``.hdf5`` model (``use_tflite=False``)."""


def stream_jpeg_quality():
    """The JPEG quality the web stream encodes at: :class:`fer.live.stream.Broadcaster`'s default."""
    from fer.live.stream import Broadcaster

    return int(inspect.signature(Broadcaster).parameters["jpeg_quality"].default)


def write_clips(folder, face_counts, frames, fps):
    """Write one 640 x 480 ``.mp4`` per face count, of different real faces; returns ``{count: path}``."""
    from clips import face_emotion, load_faces, write_clip

    one_per_emotion = {}
    for name, gray_face in load_faces():
        one_per_emotion.setdefault(face_emotion(name), gray_face)
    faces = list(one_per_emotion.values())
    clips = {}
    for count in face_counts:
        path = pathlib.Path(folder) / f"faces{count}.mp4"
        write_clip(path, faces[:count], frames=frames, fps=fps)
        clips[count] = path
    return clips


class StageClock:
    """Adds up the seconds spent in wrapped functions, per stage, for the frame being timed."""

    def __init__(self):
        self.seconds = {}

    def wrap(self, stage, function):
        """``function``, timed into ``stage``."""
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start
        return timed

    def take(self):
        """The seconds gathered since the last call, per stage."""
        seconds, self.seconds = self.seconds, {}
        return seconds


class OurPipeline:
    """``VideoAnalysis.analyze`` + ``draw_faces`` + the stream's JPEG encode, its stages timed."""

    def __init__(self, model_dir, quality, full_search_every=None, detector="haar", align=True, int8=True):
        from fer.live.drawing import draw_faces
        from fer.live.mjpeg import encode_jpeg
        from fer.live.recognizer import EmotionRecognizer
        from fer.live.video import VideoAnalysis

        self.options = {} if full_search_every is None else {"full_search_every": full_search_every}
        self.recognizer = EmotionRecognizer(model_dir, detector=detector, align=align, int8=int8)
        self.engine = self.recognizer.scorer.engine
        self.new_video = lambda: VideoAnalysis(self.recognizer, **self.options)
        self.video = self.new_video()
        self.draw_faces = draw_faces
        self.name = "ours" if full_search_every is None else f"ours, full search every {full_search_every}"
        if detector != "haar":
            self.name += f", {detector}" + ("" if align else " --no-align")
        if not int8:
            self.name += ", --float32"
        self.encode_jpeg = encode_jpeg
        self.quality = quality
        self.clock = StageClock()
        # Time detection and the model from inside analyze(), so the real code path runs unchanged.
        detector = self.recognizer.detector
        detector.detect = self.clock.wrap("detect", detector.detect)
        detector.detect_near = self.clock.wrap("detect", detector.detect_near)
        self.recognizer.classify_faces = self.clock.wrap("classify", self.recognizer.classify_faces)

    def reset(self):
        """A new video (no faces followed yet) before a new clip."""
        self.video = self.new_video()

    def counters(self, frames):
        """Whole-frame face searches per frame of the last pass."""
        return {"full_searches_per_frame": round(self.video.follower.full_searches / frames, 3)}

    def process(self, frame):
        """Analyse, draw and encode one frame; returns ``(stage seconds, faces found)``."""
        self.clock.take()
        start = time.perf_counter()
        faces = self.video.analyze(frame)
        analysed = time.perf_counter()
        self.draw_faces(frame, faces)
        drawn = time.perf_counter()
        self.encode_jpeg(frame, self.quality)
        encoded = time.perf_counter()
        stages = self.clock.take()
        stages["other"] = max(0.0, analysed - start - stages.get("detect", 0.0) - stages.get("classify", 0.0))
        stages.update(draw=drawn - analysed, encode=encoded - drawn)
        return stages, len(faces)


class NaivePipeline:
    """Our model as tutorials drive it: full-resolution detection, one ``model.predict`` per face."""

    name = "naive"
    engine = "keras"

    def __init__(self, model_dir, quality):
        from fer.training.artifacts import load_model
        from fer.live.haar import HaarDetector

        loaded = load_model(model_dir)
        self.model, self.labels, self.size = loaded.model, loaded.labels, loaded.input_size
        self.detector = HaarDetector(detect_width=None)  # the same cascade and settings, full resolution
        self.quality = quality

    def reset(self):
        """Nothing to forget: tutorials keep no state between frames."""

    def counters(self, frames):
        """A whole-frame search on every frame."""
        return {"full_searches_per_frame": 1.0}

    def process(self, frame):
        """Detect, classify face by face, draw and encode; returns ``(stage seconds, faces found)``."""
        start = time.perf_counter()
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        boxes = self.detector.cascade.detectMultiScale(
            gray, scaleFactor=self.detector.scale_factor, minNeighbors=self.detector.min_neighbors,
            minSize=(self.detector.min_size, self.detector.min_size))
        detected = time.perf_counter()
        predictions = []
        for x, y, w, h in boxes:
            roi = cv2.resize(gray[y:y + h, x:x + w], (self.size, self.size))
            # Tutorials divide by 255 here; our models rescale inside themselves, so only the cast stays.
            roi = np.expand_dims(np.expand_dims(roi.astype("float32"), axis=-1), axis=0)
            scores = self.model.predict(roi, verbose=0)[0]
            predictions.append(((x, y, w, h), self.labels[int(np.argmax(scores))], float(np.max(scores))))
        classified = time.perf_counter()
        for (x, y, w, h), label, score in predictions:
            cv2.rectangle(frame, (x, y), (x + w, y + h), (255, 0, 0), 2)
            cv2.putText(frame, f"{label} {score:.0%}", (x, y - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (36, 255, 12), 2)
        drawn = time.perf_counter()
        cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        encoded = time.perf_counter()
        return ({"detect": detected - start, "classify": classified - detected, "draw": drawn - classified,
                 "encode": encoded - drawn}, len(predictions))


def open_clip(path):
    """An open ``cv2.VideoCapture`` of ``path``, or ``OSError``."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise OSError(f"{path}: OpenCV cannot open it")
    return capture


def time_clip(pipeline, path, warmup):
    """Run ``warmup`` untimed frames, then time every frame of the clip from its start."""
    capture = open_clip(path)
    try:
        for _ in range(warmup):
            ok, frame = capture.read()
            if not ok:
                break
            pipeline.process(frame)
    finally:
        capture.release()
    pipeline.reset()
    frame_stages, faces_found = [], []
    capture = open_clip(path)
    try:
        started = time.perf_counter()
        while True:
            before_read = time.perf_counter()
            ok, frame = capture.read()
            if not ok:
                break
            decoded = time.perf_counter()
            stages, faces = pipeline.process(frame)
            frame_stages.append({"decode": decoded - before_read, **stages})
            faces_found.append(faces)
        wall = time.perf_counter() - started
    finally:
        capture.release()
    return {**bench_common.frame_summary(frame_stages, faces_found, wall), **pipeline.counters(len(frame_stages))}


def run_peer(clips, quality, warmup, modes, timeout):
    """Time the ``fer`` PyPI package with ``benchmarks/.venv-peer``; one result per mode and clip.

    It runs in a subprocess started in a temporary directory, without ``PYTHONPATH``, so that
    ``import fer`` finds the PyPI package and not this repository's ``fer/``. A mode that
    cannot run gives results with an ``error`` saying why instead of numbers.
    """
    runs = []
    for mode in modes:
        pipeline = f"fer-pypi ({mode})"
        arguments = ["--mode", mode, "--quality", quality, "--warmup", warmup]
        for count, path in clips.items():
            arguments += ["--clip", f"{count}:{path}"]
        peer, error = bench_common.run_peer_script(PEER_SCRIPT, arguments, timeout)
        if error is not None:
            runs += [{"pipeline": pipeline, "faces": count, "error": error} for count in clips]
            continue
        runs += [{"pipeline": pipeline, **run, "peer_version": peer["version"]} for run in peer["runs"]]
    return runs


def build_parser():
    """The command line."""
    parser = bench_common.base_parser(NAME, __doc__.split("\n\n")[0])
    bench_common.add_model_option(parser)
    parser.add_argument("--frames", type=bench_common.positive, default=300,
                        help="frames per clip, every one timed (30 fps: 300 is 10 s of video)")
    parser.add_argument("--faces", type=bench_common.positive, nargs="+", default=[1, 2, 4],
                        help="faces per clip, one clip each (at most 4)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed frames before each timed pass")
    parser.add_argument("--peer-modes", nargs="*", default=list(PEER_MODES), choices=PEER_MODES,
                        help="fer-pypi models to time; none: skip the peer")
    parser.add_argument("--peer-timeout", type=bench_common.positive, default=1800,
                        help="seconds the peer subprocess may take in all, per mode")
    return parser


def main(argv=None):
    """Run every pipeline on every clip and write the results JSON."""
    parser = build_parser()
    args = parser.parse_args(argv)
    machine = bench_common.machine_info()  # the load before this run adds its own
    bench_common.check_model_dir(parser, args.model)
    if max(args.faces) > 4:
        parser.error("--faces takes counts up to 4 (a 640 x 480 scene holds 4 faces)")
    quality = stream_jpeg_quality()
    runs = []
    with tempfile.TemporaryDirectory(prefix="fer-bench-clips-") as folder:
        clips = write_clips(folder, args.faces, args.frames, CLIP_FPS)
        pipelines = [OurPipeline(args.model, quality), OurPipeline(args.model, quality, full_search_every=1)]
        if pipelines[0].engine == "litert-int8":  # the model ships an int8 file that passed: time the float one too
            pipelines.append(OurPipeline(args.model, quality, int8=False))
        for pipeline in [*pipelines, NaivePipeline(args.model, quality)]:
            for count, path in clips.items():
                summary = time_clip(pipeline, path, args.warmup)
                runs.append({"pipeline": pipeline.name, "faces": count, "engine": pipeline.engine, **summary})
                print(f"{pipeline.name:>18}  {count} face(s): {summary['fps']} frames/s", file=sys.stderr)
        for run in run_peer(clips, quality, args.warmup, args.peer_modes, args.peer_timeout):
            runs.append(run)
            print(f"{run['pipeline']:>18}  {run['faces']} face(s): {run.get('fps', run.get('error'))}"
                  f"{' frames/s' if 'fps' in run else ''}", file=sys.stderr)
    settings = {"model": bench_common.shown_path(args.model), "frames_per_clip": args.frames, "faces": args.faces,
                "warmup_frames": args.warmup, "frame_size": [640, 480], "clip": f"mp4v, {CLIP_FPS:g} fps",
                "jpeg_quality": quality, "peer_modes": args.peer_modes}
    path = bench_common.write_results(args.output, NAME, settings, runs, machine)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
