"""The broadcaster: one capture-and-analyse thread per source, shared by every viewer."""

import threading
import time

import cv2
import numpy as np
import pytest

from clips import compose_scene, load_faces, write_clip
from fer.live.recognizer import EmotionRecognizer
from fer.live.sources import open_source
from fer.live.drawing import status_image
from fer.live.mjpeg import BOUNDARY, mjpeg, mjpeg_part
from fer.live.stream import Broadcaster, backoff_delay, format_seconds
from fer.live.video import VideoAnalysis

CLIP_FPS = 10.0


@pytest.fixture(scope="module")
def recognizer(tiny_model_dir):
    return EmotionRecognizer(tiny_model_dir)


@pytest.fixture(scope="module")
def two_faces():
    return [face for _, face in load_faces()[:2]]


@pytest.fixture
def clip(tmp_path, two_faces):
    path = tmp_path / "two_faces.avi"
    write_clip(path, two_faces, frames=20, fps=CLIP_FPS)
    return path


class CountingVideos:
    """A broadcaster's ``analysis``: the real one for each video, counting videos and frames analysed."""

    def __init__(self):
        self.analysed = 0
        self.videos = 0

    def __call__(self, recognizer):
        self.videos += 1
        video = VideoAnalysis(recognizer)
        analyze = video.analyze

        def counted(frame):
            self.analysed += 1  # only the one capture thread calls this
            return analyze(frame)

        video.analyze = counted
        return video


class RecordingOpener:
    """``open_source`` that remembers every source it opened, or failed to, and its release."""

    def __init__(self, open_function=open_source):
        self.open_function = open_function
        self.attempts = 0
        self.sources = []

    def __call__(self, spec):
        self.attempts += 1
        source = self.open_function(spec)
        released = threading.Event()
        original_release = source.release

        def release():
            released.set()
            original_release()

        source.release = release
        self.sources.append((source, released))
        return source


class UnpluggedAfter:
    """A stand-in camera that gives ``count`` frames and then none, as if unplugged."""

    fps, is_live = 30.0, True

    def __init__(self, frame, count):
        self.frame, self.left = frame, count
        self.description = "camera that drops out"

    def read(self):
        if self.left <= 0:
            return False, None
        self.left -= 1
        time.sleep(0.02)
        return True, self.frame.copy()

    def release(self):
        pass


class StalledCamera:
    """A stand-in camera whose ``read`` blocks until ``wake`` is set."""

    fps, is_live, description = 30.0, True, "camera that hangs"

    def __init__(self, wake):
        self.wake = wake

    def read(self):
        self.wake.wait()
        return False, None

    def release(self):
        pass


def take(frames, count, state="live", limit=200):
    """The first ``count`` frames in ``state`` from a viewer's generator (which is then closed)."""
    taken = []
    for frame in frames:
        if frame.state == state:
            taken.append(frame)
        limit -= 1
        if len(taken) == count or limit == 0:
            break
    frames.close()
    return taken


def wait_until(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_each_viewer_gets_every_frame_once_and_each_frame_is_analysed_once(recognizer, clip):
    counting = CountingVideos()
    model_calls_before = recognizer.model_calls
    broadcaster = Broadcaster(str(clip), recognizer, idle_timeout=0.5, analysis=counting)
    received = {}

    def viewer(name):
        received[name] = take(broadcaster.frames(), 6)

    threads = [threading.Thread(target=viewer, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    broadcaster.stop()

    counters = broadcaster.counters()
    for frames in received.values():
        numbers = [frame.number for frame in frames]
        assert len(numbers) == 6
        assert numbers == sorted(set(numbers)), "a viewer got a frame twice or out of order"
        assert all(cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (480, 640, 3)
                   for frame in frames)
    assert counting.analysed == counters["frames_analysed"] == counters["analyses"]
    assert counters["analyses_per_frame"] == 1.0
    assert counting.analysed < sum(len(frames) for frames in received.values())
    assert recognizer.model_calls - model_calls_before <= counting.analysed, "more than one model call per frame"
    seen_faces = [len(frame.faces) for frames in received.values() for frame in frames]
    assert max(seen_faces) == 2


def test_a_file_source_is_paced_at_its_frame_rate(recognizer, clip):
    broadcaster = Broadcaster(str(clip), recognizer, idle_timeout=0.5)
    frames = broadcaster.frames()
    next(frames)  # the thread is up and has analysed its first frame
    started = time.monotonic()
    assert len(take(frames, 15)) == 15
    elapsed = time.monotonic() - started
    broadcaster.stop()
    expected = 15 / CLIP_FPS
    assert 0.8 * expected <= elapsed <= 3 * expected, f"15 frames of a {CLIP_FPS} fps clip took {elapsed:.2f} s"


def test_a_missing_camera_gives_an_error_frame_at_once_and_keeps_retrying(recognizer):
    opener = RecordingOpener()
    broadcaster = Broadcaster("99", recognizer, open_source=opener, retry_first=0.1, retry_longest=0.3)
    started = time.monotonic()
    frames = broadcaster.frames()
    first = next(frames)
    assert time.monotonic() - started < 3
    assert first.state == "error" and "webcam 99" in first.message and "Retrying in 0.1 s" in first.message
    assert "--source FILE" in first.message and "Use my camera" in first.message, "say what to do"
    assert first.message.count("cannot open") == 1
    picture = cv2.imdecode(np.frombuffer(first.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == (480, 640, 3) and picture.std() > 5, "the error frame should carry its message"
    status = broadcaster.latest()
    assert status["state"] == "error" and "webcam 99" in status["message"] and status["faces"] == []
    assert wait_until(lambda: opener.attempts >= 4, 5), "the broadcaster stopped retrying"
    frames.close()
    broadcaster.stop()
    assert not broadcaster.running


def test_a_camera_that_drops_out_is_reported_and_reconnected(recognizer, two_faces):
    scene, _ = compose_scene(two_faces)
    opener = RecordingOpener(lambda spec: UnpluggedAfter(scene, 3))
    counting = CountingVideos()
    broadcaster = Broadcaster("flaky", recognizer, open_source=opener, retry_first=0.05, retry_longest=0.1,
                              analysis=counting)
    frames = broadcaster.frames()
    states = []
    for frame in frames:
        states.append((frame.state, frame.message))
        if sum(state == "live" for state, _ in states) >= 7:
            break
    frames.close()
    broadcaster.stop()
    errors = [message for state, message in states if state == "error"]
    assert errors and all("Lost video" in message and "Retrying" in message for message in errors)
    first_error = next(index for index, (state, _) in enumerate(states) if state == "error")
    assert any(state == "live" for state, _ in states[first_error:]), "no frames after reconnecting"
    assert opener.attempts >= 3
    assert all(released.is_set() for _, released in opener.sources), "a dropped camera was not released"
    assert counting.videos == len(opener.sources), "faces should be followed afresh after each reconnection"


def test_the_thread_stops_and_releases_the_source_when_viewers_leave(recognizer, clip):
    opener = RecordingOpener()
    broadcaster = Broadcaster(str(clip), recognizer, open_source=opener, idle_timeout=0.5)
    assert take(broadcaster.frames(), 3)
    assert broadcaster.viewers == 0
    assert wait_until(lambda: not broadcaster.running, 5), "the capture thread outlived its viewers"
    assert len(opener.sources) == 1 and opener.sources[0][1].is_set(), "the source was not released"
    assert broadcaster.latest()["state"] == "stopped"

    assert take(broadcaster.frames(), 2), "a new viewer should start the thread again"
    broadcaster.stop()
    assert len(opener.sources) == 2 and all(released.is_set() for _, released in opener.sources)


def test_a_hung_camera_still_gives_viewers_a_frame_in_bounded_time(recognizer):
    wake = threading.Event()
    broadcaster = Broadcaster("hung", recognizer, open_source=lambda spec: StalledCamera(wake), keepalive=0.3)
    try:
        started = time.monotonic()
        frames = broadcaster.frames()
        first = next(frames)
        assert time.monotonic() - started < 1.5
        assert first.state == "waiting" and first.number == 0
        assert cv2.imdecode(np.frombuffer(first.jpeg, np.uint8), cv2.IMREAD_COLOR) is not None
        assert next(frames).state == "waiting"
        frames.close()
    finally:
        wake.set()
        broadcaster.stop()


def test_closing_the_mjpeg_generator_takes_the_viewer_out_at_once(recognizer, clip):
    broadcaster = Broadcaster(str(clip), recognizer)
    body = mjpeg(broadcaster.frames())
    part = next(body)
    assert broadcaster.viewers == 1
    body.close()
    assert broadcaster.viewers == 0
    broadcaster.stop()
    header, jpeg = part.split(b"\r\n\r\n", 1)
    assert header.startswith(f"--{BOUNDARY}\r\nContent-Type: image/jpeg".encode())
    length_line = next(line for line in header.split(b"\r\n") if line.startswith(b"Content-Length"))
    length = int(length_line.split(b":")[1])
    assert jpeg.endswith(b"\r\n") and len(jpeg) == length + 2


def test_close_ends_every_viewers_stream_and_starts_nothing_new(recognizer, clip):
    """At server shutdown no worker thread is left waiting on the stream."""
    broadcaster = Broadcaster(str(clip), recognizer)
    viewers = [broadcaster.frames() for _ in range(2)]
    for frames in viewers:
        next(frames)
    broadcaster.close()
    drained = []
    for frames in viewers + [broadcaster.frames()]:
        # each stream must end by itself instead of waiting for frames that will never come
        reader = threading.Thread(target=lambda frames=frames: drained.append(len(list(frames))), daemon=True)
        reader.start()
        reader.join(5)
        assert not reader.is_alive(), "a viewer's stream outlived close()"
    assert drained[-1] == 0
    assert broadcaster.viewers == 0 and not broadcaster.running


def test_mjpeg_part_and_status_image():
    part = mjpeg_part(b"\xff\xd8jpeg\xff\xd9", 7)
    assert b"X-Frame-Number: 7\r\n" in part and b"Content-Length: 8\r\n" in part
    described = mjpeg_part(b"jpeg", 8, {"frame": 8, "faces": [{"emotion": "happy", "confidence": 0.5}]})
    header = described.split(b"\r\n\r\n")[0].decode("ascii")
    assert 'X-Frame-Info: {"frame":8,"faces":[{"emotion":"happy","confidence":0.5}]}' in header.split("\r\n")
    long_message = "No video: cannot open webcam 99: no camera found (/dev/video99 does not exist) - retrying"
    picture = status_image(long_message)
    assert picture.shape == (480, 640, 3)
    assert (picture[10:, -20:] == picture[-1, -1]).all(), "the text should wrap, not run off the right edge"


def test_backoff_doubles_up_to_a_cap():
    assert [backoff_delay(attempt, 0.5, 4.0) for attempt in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]



class AppearsLater:
    """``open_source`` for a source that is missing until ``appear`` is set, then is ``clip``."""

    def __init__(self, clip):
        self.clip = clip
        self.appear = threading.Event()
        self.attempts = 0

    def __call__(self, spec):
        self.attempts += 1
        if not self.appear.is_set():
            raise RuntimeError(f"cannot open {spec}: no such file")
        return open_source(str(self.clip))


def test_a_failing_source_stops_retrying_when_the_last_viewer_leaves(recognizer, clip):
    opener = AppearsLater(clip)
    counting = CountingVideos()
    broadcaster = Broadcaster("later.avi", recognizer, open_source=opener, idle_timeout=0.3, analysis=counting,
                              retry_first=0.05, retry_longest=0.1)
    assert take(broadcaster.frames(), 2, state="error")
    assert wait_until(lambda: not broadcaster.running, 3), "the retrying thread outlived its viewers"
    attempts = opener.attempts
    opener.appear.set()
    time.sleep(0.5)
    assert counting.analysed == 0, "frames were analysed with nobody watching"
    assert opener.attempts == attempts, "the source was opened again with nobody watching"
    assert take(broadcaster.frames(), 2), "the next viewer should stream the source that appeared"
    broadcaster.close()
    assert not broadcaster.running


def test_retry_delays_under_a_second_are_not_called_zero():
    assert [format_seconds(seconds) for seconds in (0.05, 0.5, 1.0, 10.0)] == ["0.05 s", "0.5 s", "1 s", "10 s"]


def test_a_missing_file_is_named_once_with_what_to_do(recognizer, tmp_path):
    broadcaster = Broadcaster(str(tmp_path / "later.mp4"), recognizer, retry_first=0.5)
    first = take(broadcaster.frames(), 1, state="error")[0]
    broadcaster.close()
    assert first.message.count("later.mp4") == 1 and "--source" in first.message
    assert "Retrying in 0.5 s" in first.message


def test_viewers_beyond_the_ceiling_get_no_stream_and_take_no_place(recognizer, clip):
    broadcaster = Broadcaster(str(clip), recognizer, max_viewers=2)
    first, second = broadcaster.frames(), broadcaster.frames()
    assert next(first) and next(second)
    assert broadcaster.full and broadcaster.viewers == 2
    assert list(broadcaster.frames()) == [], "a third viewer should get nothing"
    assert broadcaster.viewers == 2
    first.close()
    assert not broadcaster.full
    assert next(broadcaster.frames()), "a place freed should be taken again"
    second.close()
    broadcaster.close()
