"""Command line of ``camera.py``: read emotions from a webcam, stream, video file or image folder.

Each frame goes through :meth:`fer.live.video.VideoAnalysis.analyze` (faces followed and their
scores smoothed from frame to frame); the faces can be
drawn into an annotated video, logged to a CSV (one row per face per frame) and charted over
time. The run ends with a one-line summary on stdout.
"""

import contextlib
import logging
import sys
import time

import cv2

from ..live.sources import SourceError, open_source
from .detection import add_detector_arguments, detection_problems, recognizer_from

log = logging.getLogger(__name__)

HELP = "read emotions from a webcam, stream, video file or image folder"
DESCRIPTION = ("Recognise facial emotions in a webcam, network stream, video file or image folder; write an "
               "annotated video, a CSV of every face in every frame and a chart of emotions over time.")
EPILOG = ("examples: camera.py 0 --max-frames 300 --csv emotions.csv   |   "
          "camera.py clip.mp4 --output annotated.mp4 --chart emotions.png")
LOG_LEVEL = logging.WARNING
"""The frame-by-frame output is the summary line; the log says only what went wrong."""


def add_arguments(parser):
    """Options of ``camera``."""
    parser.add_argument("source", metavar="SOURCE", help="webcam index (0), video file, rtsp/http(s) stream URL, "
                        "or folder of images (read in name order)")
    parser.add_argument("--model", metavar="DIR", help="model directory written by train.py "
                        "[default: models/default in the repository]")
    parser.add_argument("--output", metavar="VIDEO", help="write the annotated frames to this .mp4 or .avi file")
    parser.add_argument("--csv", metavar="FILE", help="write one row per face per frame: frame, time_s, face "
                        "(an id that follows the face), x, y, w, h, emotion, confidence and every emotion's score")
    parser.add_argument("--chart", metavar="PNG", help="save a chart of each face's dominant emotion over time, "
                        "a lane per face")
    parser.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames; video files and folders "
                        "then loop until N is reached [default: play a video file or folder once, a live "
                        "source until it ends or Ctrl-C]")
    parser.add_argument("--no-smoothing", dest="smoothing", action="store_false",
                        help="report each frame's raw scores instead of averaging each face's scores over time, "
                        "following faces from frame to frame by box overlap")
    parser.add_argument("--full-search-every", type=int, default=8, metavar="N",
                        help="search the whole frame for faces every N frames and in between only around the "
                        "faces already found (faster; a new face shows up at most N-1 frames late; 1: search "
                        "every whole frame) [default: 8]")
    add_detector_arguments(parser)


def check_args(args):
    """Reject option values that cannot work, with the reason."""
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be at least 1, got {args.max_frames}")
    for problem in detection_problems(args):
        raise ValueError(problem)
    if args.full_search_every < 1:
        raise ValueError(f"--full-search-every must be at least 1, got {args.full_search_every}")


def frames_of(source, max_frames):
    """Yield ``(index, frame)`` from ``source`` until it ends or ``max_frames`` have come."""
    index = 0
    while max_frames is None or index < max_frames:
        ok, frame = source.read()
        if not ok:
            return
        yield index, frame
        index += 1


def run(args):
    """Annotate and log every frame of ``args.source``; returns the exit status."""
    from ..live.drawing import draw_faces
    from ..live.emotion_log import EmotionLog
    from ..live.video import VideoAnalysis
    from ..live.video_writer import open_video_writer

    check_args(args)
    source = open_source(args.source, loop=args.max_frames is not None)
    with contextlib.ExitStack() as stack:
        stack.callback(source.release)
        recognizer = recognizer_from(args)
        video = VideoAnalysis(recognizer, smoothing=args.smoothing, full_search_every=args.full_search_every)
        emotion_log = stack.enter_context(EmotionLog(recognizer.labels, args.csv))
        writer, size = None, None
        started = time.perf_counter()
        try:
            for index, frame in frames_of(source, args.max_frames):
                faces = video.analyze(frame)
                time_s = time.perf_counter() - started if source.is_live else index / source.fps
                emotion_log.add(index, time_s, faces)
                if args.output:
                    if writer is None:
                        size = (frame.shape[1], frame.shape[0])
                        writer = open_video_writer(args.output, source.fps, size)
                        stack.callback(writer.release)
                    writer.write(fit_frame(draw_faces(frame, faces), size))
        except KeyboardInterrupt:
            log.info("stopped by Ctrl-C")
        elapsed = time.perf_counter() - started
    if emotion_log.frames == 0:
        raise SourceError(f"{source.description}: gave no frames")
    if args.chart:
        emotion_log.plot(args.chart)
    sys.stdout.write(summary_line(emotion_log.frames, emotion_log.faces, elapsed) + "\n")
    return 0


def fit_frame(frame, size):
    """``frame`` resized to ``size`` when it differs (a folder of images of mixed sizes)."""
    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def summary_line(frames, faces, seconds):
    """``"300 frames, 2.0 faces/frame, 57.6 fps"``."""
    return f"{frames} frames, {faces / max(frames, 1):.1f} faces/frame, {frames / max(seconds, 1e-9):.1f} fps"
