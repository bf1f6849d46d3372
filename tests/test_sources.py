"""fer.live.sources: files and folders loop, live sources do not, bad sources fail at once."""

import socket
import time

import cv2
import numpy as np
import pytest

from clips import load_faces, write_clip
from fer.live.sources import DEFAULT_FPS, SourceError, open_source

FACES = [gray_face for _, gray_face in load_faces()][:2]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 5-frame, 15 fps clip of two faces."""
    path = tmp_path_factory.mktemp("clip") / "two_faces.avi"
    write_clip(path, FACES, frames=5, fps=15)
    return path


def read_frames(source, count):
    frames = []
    for _ in range(count):
        ok, frame = source.read()
        if not ok:
            break
        frames.append(frame)
    return frames


def test_video_file_loops_forever(clip):
    with open_source(str(clip)) as source:
        assert not source.is_live and source.fps == pytest.approx(15)
        assert str(clip) in source.description
        frames = read_frames(source, 12)
    assert len(frames) == 12
    assert all(frame.shape == (480, 640, 3) for frame in frames)
    np.testing.assert_array_equal(frames[5], frames[0])  # rewound to the first frame
    np.testing.assert_array_equal(frames[11], frames[1])


def test_video_file_without_loop_ends(clip):
    with open_source(clip, loop=False) as source:
        assert len(read_frames(source, 12)) == 5
        assert source.read() == (False, None)


def test_mp4_files_open_too(tmp_path):
    path = tmp_path / "clip.mp4"
    write_clip(path, FACES[:1], frames=3, fps=10)
    with open_source(path, loop=False) as source:
        assert source.fps == pytest.approx(10)
        assert len(read_frames(source, 10)) == 3


@pytest.fixture
def image_folder(tmp_path):
    """Three images named out of order, plus a file that is not an image."""
    folder = tmp_path / "images"
    folder.mkdir()
    for index, name in enumerate(["b.png", "c.jpg", "a.png"]):
        cv2.imwrite(str(folder / name), np.full((60, 80, 3), 50 * (index + 1), np.uint8))
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_folder_source_reads_images_in_name_order_and_loops(image_folder):
    with open_source(str(image_folder)) as source:
        assert not source.is_live and source.fps == DEFAULT_FPS
        frames = read_frames(source, 7)
    assert len(frames) == 7
    assert [int(frame[0, 0, 0]) for frame in frames[:3]] == [150, 50, 100]  # a.png, b.png, c.jpg
    assert [int(frame[0, 0, 0]) for frame in frames[3:6]] == [150, 50, 100]


def test_folder_source_without_loop_ends(image_folder):
    with open_source(image_folder, loop=False) as source:
        assert len(read_frames(source, 10)) == 3


def test_folder_source_skips_unreadable_images(image_folder):
    (image_folder / "b.png").write_bytes(b"not a png")
    with open_source(image_folder, loop=False) as source:
        assert len(read_frames(source, 10)) == 2


def test_folder_without_images_is_refused(tmp_path):
    (tmp_path / "readme.txt").write_text("hello")
    with pytest.raises(SourceError, match="holds no images"):
        open_source(tmp_path)


def assert_fails_fast(spec, match, seconds=10.0):
    started = time.monotonic()
    with pytest.raises(SourceError, match=match):
        open_source(spec)
    assert time.monotonic() - started < seconds


def test_missing_file_fails_fast(tmp_path):
    assert_fails_fast(str(tmp_path / "missing.mp4"), "no such file or folder")


def test_bad_webcam_index_fails_fast():
    assert_fails_fast(99, "cannot open webcam 99")
    assert_fails_fast("98", "cannot open webcam 98")
    assert_fails_fast(-1, "webcam indices start at 0")


def test_file_that_is_not_a_video_fails_fast(tmp_path):
    fake = tmp_path / "fake.mp4"
    fake.write_text("this is not a video")
    assert_fails_fast(str(fake), "fake.mp4")


def test_unreachable_stream_fails_fast():
    with socket.socket() as probe:  # a local port with nobody listening: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert_fails_fast(f"http://127.0.0.1:{port}/video.mjpg", "cannot open stream")


def test_empty_spec_is_refused():
    with pytest.raises(SourceError, match="no source given"):
        open_source("  ")


def test_source_error_is_a_runtime_error():
    assert issubclass(SourceError, RuntimeError)
