"""Time the ``fer`` PyPI package's ``Video.analyze`` on clips; print the results as one JSON line.

Run by ``archive_analysis.py`` with ``benchmarks/.venv-peer/bin/python`` from a temporary
directory (``import fer`` must find the PyPI package). ``Video.analyze`` is called as a
researcher would for a table of every face: all faces, no frames, video or zip saved, its
default TFLite model and Haar detection (``FER(mtcnn=False)``). Reports frames/s and the
process's peak resident memory.

    benchmarks/.venv-peer/bin/python benchmarks/peer_fer_video.py /tmp/clip1.mp4 /tmp/clip2.mp4
"""

import argparse
import json
import resource
import sys
import tempfile
import time

import cv2

from peer_fer import load_peer


def frame_count(path):
    capture = cv2.VideoCapture(str(path))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    return count


def main(argv=None):
    """Analyse each clip in turn; print ``{"version", "frames", "seconds", "peak_rss_mb"}``."""
    parser = argparse.ArgumentParser(prog="peer_fer_video.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="+")
    args = parser.parse_args(argv)
    version, detector, _ = load_peer("tflite")
    from fer.classes import Video

    # Video.analyze polls cv2.waitKey and ends with cv2.destroyAllWindows() even without a
    # display, and headless OpenCV (no GUI) refuses both: stand-ins that do nothing.
    cv2.waitKey = lambda delay=0: -1
    cv2.destroyAllWindows = lambda: None

    frames, faces, started = 0, 0, time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fer-video-") as outdir:
        for clip in args.clips:
            video = Video(clip, outdir=outdir, first_face_only=False)
            rows = video.analyze(detector, display=False, save_frames=False, save_video=False,
                                 annotate_frames=False, zip_images=False, output="pandas")
            frames += frame_count(clip)
            faces += len(rows)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(json.dumps({"version": version, "frames": frames, "rows": faces, "seconds": seconds,
                      "peak_rss_mb": round(peak_mb, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
