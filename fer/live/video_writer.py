"""Video files out: the one place that picks a codec for a file the project writes.

``camera.py --output`` writes annotated video through it, and so do the tests' clips.
"""

import pathlib

import cv2

FOURCCS = {".mp4": "mp4v", ".avi": "MJPG"}
"""The codec written for each file suffix; both work with the OpenCV wheels' FFmpeg."""


def open_video_writer(path, fps, size):
    """An open ``cv2.VideoWriter`` for ``path`` (``.mp4``: mp4v, ``.avi``: MJPG) of ``(width, height)`` frames."""
    path = pathlib.Path(path)
    fourcc = FOURCCS.get(path.suffix.lower())
    if fourcc is None:
        raise ValueError(f"{path}: video is written as {' or '.join(FOURCCS)}")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), float(fps), tuple(size))
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV cannot write {fourcc} video there")
    return writer
