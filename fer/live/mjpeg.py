"""Motion JPEG over HTTP: frames encoded as JPEG, each sent as one part of a multipart response.

``/video_feed`` answers ``multipart/x-mixed-replace; boundary=frame``: the browser shows each
part as it arrives, replacing the one before.
"""

import contextlib
import json

import cv2
import numpy as np

BOUNDARY = "frame"
"""Multipart boundary of the MJPEG stream (``multipart/x-mixed-replace; boundary=frame``)."""


def encode_jpeg(image, quality=80):
    """Encode a BGR image as JPEG bytes."""
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"cannot encode an image of shape {np.shape(image)} as JPEG")
    return buffer.tobytes()


def mjpeg_part(jpeg, number=0, info=None):
    """One part of a ``multipart/x-mixed-replace`` MJPEG stream, numbered in a header.

    ``info`` (plain data) travels in an ``X-Frame-Info`` header as one line of ASCII JSON, so a
    page that reads the stream itself shows the faces of the very frame on screen.
    """
    header = (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
              f"X-Frame-Number: {number}\r\n")
    if info is not None:
        header += f"X-Frame-Info: {json.dumps(info, separators=(',', ':'))}\r\n"
    return (header + "\r\n").encode("ascii") + jpeg + b"\r\n"


def mjpeg(frames):
    """Turn a viewer's frames into the bytes of an MJPEG response.

    Closing this generator (the server does when the viewer goes) closes ``frames`` too,
    so the viewer leaves the broadcaster's table at once.
    """
    with contextlib.closing(frames):
        for frame in frames:
            yield frame.part
