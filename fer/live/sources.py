"""Frame sources for the live demo: a webcam, a video file, a network stream or an image folder.

:func:`open_source` turns what a person types (``0``, ``clip.mp4``, ``rtsp://...``,
``photos/``) into a :class:`FrameSource` whose ``read()`` gives ``(ok, bgr_frame)``. Video
files and folders loop by default so a demo runs forever; live sources do not. Opening checks
that a first frame arrives, so a bad source fails at once with a :class:`SourceError` that
says what to do, never later and never by hanging.
"""

import logging
import pathlib
import sys

import cv2

log = logging.getLogger(__name__)

DEFAULT_FPS = 30.0
"""Frame rate assumed for webcams that do not report one, and for image folders."""

OPEN_TIMEOUT_MS = 5000
"""How long a network stream may take to open or to give a frame before it counts as dead."""

URL_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")


class SourceError(RuntimeError):
    """A frame source that cannot be opened or read; the message says which and why."""


class FrameSource:
    """Frames from somewhere: ``read() -> (ok, frame)``, ``release()``, ``fps``, ``description``."""

    def __init__(self, description, fps, is_live):
        self.description = description
        self.fps = float(fps)
        self.is_live = bool(is_live)

    def read(self):
        """The next frame as ``(True, bgr_array)``, or ``(False, None)`` when there is none."""
        raise NotImplementedError

    def release(self):
        """Let go of the device or file."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()

    def __repr__(self):
        return f"<{type(self).__name__} {self.description}>"


class CaptureSource(FrameSource):
    """A webcam, stream or video file read through ``cv2.VideoCapture``.

    ``loop`` rewinds a video file at its end; it means nothing for live sources.
    """

    def __init__(self, capture, description, is_live, loop=False, reopen=None):
        super().__init__(description, _sensible_fps(capture.get(cv2.CAP_PROP_FPS)), is_live)
        self.capture = capture
        self.loop = bool(loop) and not is_live
        self._reopen = reopen
        ok, frame = capture.read()
        if not ok or frame is None:
            capture.release()
            raise SourceError(f"{description}: opened but gave no frame"
                              f"{' (is another program using it?)' if is_live else ' (empty or corrupt video?)'}")
        self._pending = frame

    def read(self):
        """The next frame; a looping video file starts again at its end."""
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return True, frame
        ok, frame = self.capture.read()
        if ok and frame is not None:
            return True, frame
        if not self.loop:
            return False, None
        return self._rewind()

    def _rewind(self):
        """Start a video file again: seek to frame 0, or reopen it when seeking fails."""
        self.capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        ok, frame = self.capture.read()
        if not ok and self._reopen is not None:
            self.capture.release()
            self.capture = self._reopen()
            ok, frame = self.capture.read()
        if not ok or frame is None:
            log.warning("%s: cannot rewind to the start", self.description)
            return False, None
        return True, frame

    def release(self):
        """Close the capture."""
        self.capture.release()


class FolderSource(FrameSource):
    """The images of a folder in name order, as frames; loops unless told not to."""

    def __init__(self, folder, loop=True, fps=DEFAULT_FPS):
        from ..training.data import IMAGE_SUFFIXES  # the one list of image suffixes; only folders need it

        folder = pathlib.Path(folder)
        super().__init__(f"image folder {folder}", fps, is_live=False)
        self.paths = sorted(path for path in folder.iterdir()
                            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise SourceError(f"cannot open {self.description}: it holds no images "
                              f"({', '.join(sorted(IMAGE_SUFFIXES))})")
        self.loop = bool(loop)
        self.position = 0
        self._unreadable = set()

    def read(self):
        """The next readable image as a BGR frame; unreadable files are skipped with a warning."""
        for _ in range(len(self.paths)):
            if self.position >= len(self.paths):
                if not self.loop:
                    return False, None
                self.position = 0
            path = self.paths[self.position]
            self.position += 1
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is not None:
                return True, frame
            if path not in self._unreadable:
                self._unreadable.add(path)
                log.warning("%s: %s is not a readable image; skipping it", self.description, path.name)
        return False, None


def _sensible_fps(reported):
    """The reported frame rate, or :data:`DEFAULT_FPS` when it is missing or absurd."""
    return float(reported) if reported and 1.0 <= reported <= 1000.0 else DEFAULT_FPS


def open_source(spec, loop=True):
    """Open a webcam index (``0`` or ``"0"``), a video file, a stream URL or an image folder.

    ``loop`` makes video files and folders start again at their end. Raises
    :class:`SourceError` with a reason a person can act on when the source cannot be used.
    """
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        return open_webcam(int(spec))
    text = str(spec).strip()
    if not text:
        raise SourceError("no source given: pass a webcam index, a video file, a stream URL or an image folder")
    if text.lower().startswith(URL_SCHEMES):
        return open_stream(text)
    path = pathlib.Path(text).expanduser()
    if path.is_dir():
        return FolderSource(path, loop=loop)
    if path.is_file():
        return open_video_file(path, loop=loop)
    raise SourceError(f"cannot open {text}: no such file or folder (and not a webcam index or a URL)")


def open_webcam(index):
    """Open webcam ``index``; fails at once when the machine has no such camera."""
    description = f"webcam {index}"
    if index < 0:
        raise SourceError(f"cannot open {description}: webcam indices start at 0")
    if sys.platform.startswith("linux") and not pathlib.Path(f"/dev/video{index}").exists():
        raise SourceError(f"cannot open {description}: no camera found (/dev/video{index} does not exist)")
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"cannot open {description}: no camera found, or it is in use or not permitted")
    return CaptureSource(capture, description, is_live=True)


def open_stream(url):
    """Open a network stream, giving up after :data:`OPEN_TIMEOUT_MS` rather than hanging."""
    description = f"stream {url}"
    capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS,
                                                    cv2.CAP_PROP_READ_TIMEOUT_MSEC, OPEN_TIMEOUT_MS])
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"cannot open {description}: unreachable, refused, or not a video stream")
    return CaptureSource(capture, description, is_live=True)


def open_video_file(path, loop=True):
    """Open a video file; ``loop`` rewinds it at its end."""
    description = f"video file {path}"

    def reopen():
        return cv2.VideoCapture(str(path))

    capture = reopen()
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"cannot open {description}: not a video OpenCV can decode")
    return CaptureSource(capture, description, is_live=False, loop=loop, reopen=reopen)
