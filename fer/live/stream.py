"""One capture thread per source, broadcasting annotated JPEG frames to every viewer.

A :class:`Broadcaster` owns a frame source. Its thread starts when the first viewer arrives,
reads a frame, analyses it once (a :class:`~fer.live.video.VideoAnalysis` per opening of the source,
all sharing one stateless recognizer), draws the faces, encodes one JPEG and
publishes it under a condition variable with a frame counter, so each viewer's generator
takes every new frame once, however many viewers there are. When nobody has watched for
``idle_timeout`` seconds the thread stops and releases the source.

A source that cannot be opened, or stops giving frames, never hangs a viewer: the thread
publishes an *error frame* that says what is wrong and keeps reconnecting with backoff, and
a viewer that waits longer than ``keepalive`` seconds is sent the latest status again.
"""

import contextlib
import dataclasses
import functools
import itertools
import logging
import threading
import time

from .drawing import draw_faces, status_image
from .mjpeg import encode_jpeg, mjpeg_part

log = logging.getLogger(__name__)

DEFAULT_MAX_VIEWERS = 32
"""Viewers a broadcaster of the demo serves at once; each open stream holds a server thread."""

@dataclasses.dataclass(frozen=True)
class Frame:
    """One published JPEG with what was seen in it.

    ``number`` counts analysed and error frames from 1; a waiting frame made for a viewer
    that timed out has number 0. ``state`` is ``live``, ``error`` or ``waiting``.
    """

    number: int
    jpeg: bytes
    faces: tuple
    state: str
    message: str
    created: float
    part: bytes = dataclasses.field(init=False, repr=False)
    """The frame as one part of the MJPEG stream, built once here and sent to every viewer."""

    def __post_init__(self):
        object.__setattr__(self, "part", mjpeg_part(self.jpeg, self.number, self.info()))  # frozen: set once

    def info(self):
        """What the frame shows, as plain data: the page lists these faces beside this very picture."""
        faces = [{key: face[key] for key in ("id", "box", "emotion", "confidence") if key in face}
                 for face in self.faces]
        return {"frame": self.number, "state": self.state, "message": self.message, "faces": faces}


def backoff_delay(attempt, first=0.5, longest=10.0):
    """Seconds to wait before reconnect ``attempt`` (1, 2, ...): doubling, capped at ``longest``."""
    return min(longest, first * 2 ** max(0, attempt - 1))


@functools.lru_cache(maxsize=16)
def status_jpeg(message, quality=80):
    """:func:`status_image` as JPEG bytes, cached: many stalled viewers share one encoding."""
    return encode_jpeg(status_image(message), quality)


def describe_source(spec):
    """How to name a source spec before it is open: ``"0"`` -> ``"webcam 0"``."""
    text = str(spec).strip()
    return f"webcam {text}" if text.isdigit() else text


NO_CAMERA_HINT = ("To watch a video instead, start main.py with --source FILE, or press Use my camera "
                  "on the page to use this browser's webcam.")
NO_VIDEO_HINT = "Check the path or URL given to --source (a webcam index, a video file, a stream URL or a folder)."


def source_problem(spec, error):
    """What an error frame says when ``spec`` cannot be opened: the reason, then what to do."""
    if str(spec).strip().isdigit():
        return f"No camera: {error}\n{NO_CAMERA_HINT}"
    return f"No video: {error}\n{NO_VIDEO_HINT}"


def format_seconds(seconds):
    """``"0.5 s"``, ``"2 s"``: whole seconds without a decimal, and never a misleading ``"0 s"``."""
    return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.2g} s"


def _default_analysis(recognizer):
    from .video import VideoAnalysis

    return VideoAnalysis(recognizer)


def _default_open_source(spec):
    from .sources import open_source

    return open_source(spec)


class Broadcaster:
    """Shares one capture-and-analyse thread for ``source_spec`` among all its viewers.

    ``analysis(recognizer)`` makes the state of one video, each time the source is opened afresh
    (default: :class:`fer.live.video.VideoAnalysis`): its ``analyze(frame)`` returns the faces.
    ``open_source(spec)`` returns a :class:`fer.live.sources.FrameSource` or raises (default:
    :func:`fer.live.sources.open_source`).
    """

    def __init__(self, source_spec, recognizer, open_source=None, idle_timeout=5.0, keepalive=1.0,
                 retry_first=0.5, retry_longest=10.0, jpeg_quality=80, pace_files=True, max_viewers=None,
                 analysis=None):
        self.source_spec = source_spec
        self.analysis = analysis or _default_analysis
        self.max_viewers = max_viewers
        self.recognizer = recognizer
        self.idle_timeout = idle_timeout
        self.keepalive = keepalive
        self.retry_first = retry_first
        self.retry_longest = retry_longest
        self.jpeg_quality = jpeg_quality
        self.pace_files = pace_files
        self._open_source = open_source or _default_open_source
        self._lock = threading.Lock()  # guards the viewer table and the thread handle
        self._new_frame = threading.Condition()  # guards the latest frame and the counters
        self._viewers = {}
        self._viewer_ids = itertools.count(1)
        self._last_left = time.monotonic()
        self._thread = None  # the running thread; None once it has decided to stop
        self._last_thread = None  # the thread started last, joined before opening the source again
        self._stop = threading.Event()
        self._closed = threading.Event()  # set once, when the server shuts down
        self._frame = None
        self._published = 0
        self._state = "stopped"
        self._message = "not started"
        self._description = describe_source(source_spec)
        self.frames_analysed = 0
        self.analyses = 0
        self.error_frames = 0

    # -- viewers -------------------------------------------------------------------------

    @property
    def full(self):
        """Whether ``max_viewers`` are watching, so that another would be turned away."""
        with self._lock:
            return self._full()

    def _full(self):
        return self.max_viewers is not None and len(self._viewers) >= self.max_viewers

    @contextlib.contextmanager
    def watching(self):
        """Register a viewer for the duration of the block; starts the thread if needed.

        Yields None, registering nothing, when ``max_viewers`` already watch.
        """
        viewer = self.join()
        if viewer is None:
            yield None
            return
        try:
            yield viewer
        finally:
            self.leave(viewer)

    def join(self):
        """Take a viewer's place now (the thread starts if needed): its id, or None when full.

        Taken when the request comes, not when its stream first runs, so that two requests at
        once cannot both pass the ceiling. Give it back with :meth:`leave`.
        """
        with self._lock:
            if self._full():
                return None
            viewer = next(self._viewer_ids)
            self._viewers[viewer] = time.monotonic()
            self._start_if_stopped()
            return viewer

    def leave(self, viewer):
        """Give back a place taken with :meth:`join` (again: no effect)."""
        with self._lock:
            if self._viewers.pop(viewer, None) is not None:
                self._last_left = time.monotonic()

    def frames(self, viewer=None):
        """Generator of :class:`Frame` for one viewer: each new frame once, or a status frame.

        ``viewer``: a place taken with :meth:`join`, which the caller gives back; without one,
        a place is taken on the first frame and given back at the end. Waits at most
        ``keepalive`` seconds for a new frame; past that it repeats the latest error frame or
        sends a waiting frame, so a viewer is never left hanging.
        """
        if viewer is None:
            with self.watching() as viewer:
                yield from self._frames_for(viewer)
        else:
            yield from self._frames_for(viewer)

    def _frames_for(self, viewer):
        last_number = 0
        while viewer is not None and not self._closed.is_set():
            frame = self.next_frame(last_number, self.keepalive)
            if frame is None:
                frame = self._stalled_frame()
            else:
                last_number = frame.number
            yield frame

    def next_frame(self, after, timeout):
        """The latest frame numbered above ``after``, waiting up to ``timeout`` s; else None."""
        with self._new_frame:
            self._new_frame.wait_for(lambda: self._closed.is_set() or (
                self._frame is not None and self._frame.number > after), timeout)
            frame = self._frame
        return frame if frame is not None and frame.number > after else None

    def _stalled_frame(self):
        """What a viewer gets when no new frame came in time: the error again, or a waiting frame."""
        with self._new_frame:
            frame, state, message = self._frame, self._state, self._message
            if state == "live":
                message = f"Waiting for frames from {self._description}..."
        if frame is not None and frame.state == "error":
            return frame
        return Frame(0, status_jpeg(message, self.jpeg_quality), (), "waiting", message, time.time())

    @property
    def viewers(self):
        """How many viewers are watching now."""
        with self._lock:
            return len(self._viewers)

    @property
    def running(self):
        """Whether the capture thread is alive."""
        with self._lock:
            return self._thread is not None and self._thread.is_alive()

    # -- what tests and the web page read ------------------------------------------------------

    def latest(self):
        """Plain data about the latest frame: faces, state, message and the counters."""
        with self._new_frame:
            frame = self._frame
            status = {"source": str(self.source_spec), "description": self._description,
                      "state": self._state, "message": self._message,
                      "frame": frame.number if frame else 0,
                      "faces": list(frame.faces) if frame and frame.state == "live" else [],
                      "age_s": round(time.time() - frame.created, 3) if frame else None}
        status.update(self.counters(), viewers=self.viewers, running=self.running)
        return status

    def counters(self):
        """Frames analysed, analyses run, analyses per frame and error frames."""
        with self._new_frame:
            frames, analyses = self.frames_analysed, self.analyses
            counters = {"frames_analysed": frames, "analyses": analyses,
                        "analyses_per_frame": round(analyses / frames, 3) if frames else None,
                        "error_frames": self.error_frames}
        return counters

    # -- the capture thread --------------------------------------------------------------

    def _start_if_stopped(self):
        """Start a capture thread unless one is running; the caller holds ``self._lock``."""
        if self._closed.is_set() or (self._thread is not None and self._thread.is_alive()):
            return
        with self._new_frame:
            self._frame = None  # a new viewer must not be shown the last session's picture
            self._set_state("connecting", f"Connecting to {self._description}...")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._last_thread, self._stop),
                                        name=f"broadcast {self.source_spec}", daemon=True)
        self._last_thread = self._thread
        self._thread.start()

    def stop(self, timeout=10.0):
        """Stop the capture thread now and release the source (a later viewer restarts it)."""
        with self._lock:
            thread, self._thread = self._last_thread, None
            self._stop.set()
            with self._new_frame:
                self._set_state("stopped", "stopped")
        if thread is not None:
            thread.join(timeout)

    def close(self, timeout=10.0):
        """Shut down for good: stop the thread and end every viewer's stream (server exit); once is enough."""
        if self._closed.is_set():
            return
        self._closed.set()
        self.stop(timeout)
        with self._new_frame:
            self._new_frame.notify_all()

    def _should_stop(self, stop):
        """True when stopped or idle; an idle thread gives up its handle under the lock.

        Once a thread has given up its handle (or been replaced) the answer stays True: the
        retry loop and its pauses ask again, and must not carry on without viewers.
        """
        if stop.is_set():
            return True
        with self._lock:
            if self._thread is not threading.current_thread():
                return True
            idle = not self._viewers and time.monotonic() - self._last_left > self.idle_timeout
            if idle:
                self._thread = None
                with self._new_frame:
                    self._set_state("stopped", "no viewers")
                log.info("no viewers for %.0f s: stopping %s", self.idle_timeout, self._description)
                return True
        return False

    def _run(self, previous, stop):
        """The capture thread: stream the source, and on failure say so and reconnect."""
        if previous is not None:
            previous.join()  # it may still be releasing the camera we are about to open
        attempt = 0
        while not self._should_stop(stop):
            problem, analysed = self._capture_once(stop)
            if problem is None:
                break
            attempt = 1 if analysed else attempt + 1
            delay = backoff_delay(attempt, self.retry_first, self.retry_longest)
            self._publish_error(f"{problem}\nRetrying in {format_seconds(delay)}.")
            self._pause(delay, stop)

    def _capture_once(self, stop):
        """Open the source and stream it until it fails (-> its problem) or we stop (-> None)."""
        try:
            source = self._open_source(self.source_spec)
        except (OSError, RuntimeError, ValueError) as error:  # SourceError is a RuntimeError
            log.warning("%s", error)
            return source_problem(self.source_spec, error), 0
        with self._new_frame:
            self._description = getattr(source, "description", self._description)
        video = self.analysis(self.recognizer)  # faces followed in the old video mean nothing in the new one
        log.info("streaming %s", self._description)
        try:
            return self._pump(source, video, stop)
        finally:
            source.release()
            log.info("released %s", self._description)

    def _pump(self, source, video, stop):
        """Read, analyse and publish frames until the source fails (-> problem) or we stop."""
        interval = self._frame_interval(source)
        analysed = 0
        due = time.monotonic()
        while not self._should_stop(stop):
            ok, image = source.read()
            if not ok or image is None:
                return f"Lost video: {self._description} stopped giving frames", analysed
            try:
                self._publish_analysis(image, video)
            except Exception as error:  # noqa: BLE001 - keep broadcasting; the frame says what failed
                log.exception("analysing a frame of %s failed", self._description)
                return f"Analysis failed: {error}", analysed
            analysed += 1
            if interval:
                due += interval
                delay = due - time.monotonic()
                if delay > 0:
                    stop.wait(delay)
                else:  # running late: carry on from now rather than rush to catch up
                    due = time.monotonic()
        return None, analysed

    def _frame_interval(self, source):
        """Seconds between frames for a file source; a live camera paces itself (0)."""
        fps = getattr(source, "fps", 0) or 0
        if not self.pace_files or getattr(source, "is_live", True) or fps <= 0:
            return 0.0
        return 1.0 / fps

    def _pause(self, seconds, stop):
        """Sleep ``seconds``, waking early when stopped or idle."""
        deadline = time.monotonic() + seconds
        while not self._should_stop(stop) and time.monotonic() < deadline:
            stop.wait(min(0.25, max(0.0, deadline - time.monotonic())))

    def _publish_analysis(self, image, video):
        faces = video.analyze(image)
        with self._new_frame:
            self.analyses += 1
        jpeg = encode_jpeg(draw_faces(image, faces), self.jpeg_quality)
        with self._new_frame:
            self.frames_analysed += 1
            self._set_state("live", f"{len(faces)} face(s) in view")
            self._frame = Frame(self._next_number(), jpeg, tuple(faces), "live", self._message, time.time())
            self._new_frame.notify_all()

    def _publish_error(self, message):
        jpeg = encode_jpeg(status_image(message), self.jpeg_quality)
        with self._new_frame:
            self.error_frames += 1
            self._set_state("error", message)
            self._frame = Frame(self._next_number(), jpeg, (), "error", message, time.time())
            self._new_frame.notify_all()

    def _next_number(self):
        """Frame numbers never repeat, even across restarts; the caller holds ``self._new_frame``."""
        self._published += 1
        return self._published

    def _set_state(self, state, message):
        """Record the state; the caller holds ``self._new_frame``."""
        self._state, self._message = state, message
