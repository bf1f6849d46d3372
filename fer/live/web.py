"""The live demo's web app: ``create_app(...)`` builds a Flask app around one recognizer.

Routes: ``/`` (the page), ``/video_feed`` (the MJPEG stream of the source, shared by every
viewer through one :class:`fer.live.stream.Broadcaster`), ``/api/faces`` (what the stream sees
now), ``/api/predict`` (faces in an uploaded picture), ``/gallery/<emotion>`` (sample faces
with the model's predictions, each picture at ``/gallery/<emotion>/<name>.png``) and ``/healthz``.
Templates and static files live in the repository's ``templates/`` and ``static/`` folders.
Who may reach any route (token, Host names) and the security headers are :mod:`fer.live.access`'s.
"""

import base64
import binascii
import dataclasses
import io
import json
import logging
import threading

import flask
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from ..labels import EMOTIONS
from ..locations import DEFAULT_MODEL_DIR, ROOT
from . import access as access_rules
from .boxes import BoxError, checked_boxes
from .gallery import GALLERY_ROOT, Gallery
from .memory import release_free_memory
from .mjpeg import BOUNDARY, mjpeg
from .recognizer import EmotionRecognizer
from .stream import DEFAULT_MAX_VIEWERS, Broadcaster

log = logging.getLogger(__name__)

TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""Largest accepted upload (``MAX_CONTENT_LENGTH``); bigger ones get a 413."""

MAX_UPLOAD_PIXELS = 40_000_000
"""Largest accepted picture, in pixels: a small file can still unpack into a huge image."""

MAX_ANALYSIS_SIDE = 1600
"""Longest side a picture is analysed at: enough for faces of 30 px and up in most photos, and
bounded memory whatever the upload (boxes are reported in the upload's own pixels)."""

UPLOAD_SLOTS = 2
"""Uploads analysed at once; more wait up to :data:`UPLOAD_WAIT` seconds, then get a 503."""
UPLOAD_WAIT = 10.0


class UploadError(ValueError):
    """An upload that is not a usable picture; the message says why (sent back with a 400)."""


@dataclasses.dataclass
class Picture:
    """An upload decoded for analysis: upright BGR pixels, shrunk by ``scale`` if it was large."""

    image: np.ndarray
    scale: float = 1.0
    """Upload pixels per analysed pixel (1: not shrunk)."""

    def to_upload(self, box):
        """A box ``[x, y, w, h]`` of :attr:`image` in the upload's own pixels."""
        return [int(round(value * self.scale)) for value in box]

    def to_analysis(self, box):
        """A box in the upload's own pixels as a box of :attr:`image`."""
        return [value / self.scale for value in box]

    @property
    def upload_size(self):
        """``(width, height)`` of the upload, upright."""
        return round(self.image.shape[1] * self.scale), round(self.image.shape[0] * self.scale)


def read_upload(request):
    """``(picture bytes, boxes or None)`` of an ``/api/predict`` request; :class:`UploadError` if malformed."""
    boxes_text = None
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("image")
        if upload is None:
            raise UploadError("multipart upload without an 'image' field")
        data, boxes_text = upload.read(), request.form.get("boxes")
    elif request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("image"), str):
            raise UploadError('a JSON body must be {"image": "<base64 picture>", "boxes": [[x, y, w, h], ...]}')
        try:
            data = base64.b64decode(body["image"], validate=True)
        except binascii.Error:
            raise UploadError("the JSON 'image' field is not base64") from None
        return data, body.get("boxes")
    else:  # the picture is the body itself (curl --data-binary @face.jpg)
        data = request.get_data(cache=False)
    if boxes_text is None:
        return data, None
    try:
        return data, json.loads(boxes_text)
    except ValueError:
        raise UploadError("the 'boxes' field is not JSON: send [[x, y, w, h], ...]") from None


def decode_image(data, max_pixels=MAX_UPLOAD_PIXELS, max_side=MAX_ANALYSIS_SIDE):
    """Decode uploaded bytes into a :class:`Picture`, upright by its EXIF orientation.

    A picture longer than ``max_side`` is shrunk to it (JPEGs already while decoding, so a
    large photo never unpacks at full size). Raises :class:`UploadError` for an empty,
    non-image, truncated or oversized picture.
    """
    if not data:
        raise UploadError("empty upload: send a JPEG or PNG picture as the 'image' form field or the body")
    try:
        picture = Image.open(io.BytesIO(data))  # reads the header only
    except UnidentifiedImageError:
        raise UploadError("not an image: send a JPEG, PNG, BMP, GIF or WebP picture") from None
    except Image.DecompressionBombError as error:
        raise UploadError(f"picture too large: {error}") from None
    with picture:
        width, height = picture.size
        if width * height > max_pixels:
            raise UploadError(f"picture too large: {width} x {height} pixels (at most {max_pixels:,})")
        try:
            picture.draft("RGB", (max_side, max_side))  # JPEG: decode at 1/2, 1/4 or 1/8 size
            picture.load()
            upright = ImageOps.exif_transpose(picture)
            upright_width = upright.width * width / picture.width  # the upload's size, upright
            upright.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
            rgb = upright.convert("RGB")
        except (OSError, SyntaxError, ValueError) as error:  # how Pillow reports truncated or corrupt data
            raise UploadError(f"unreadable or truncated image ({error})") from None
    return Picture(np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1]), upright_width / rgb.width)


def create_app(recognizer=None, source="0", model_dir=None, gallery_root=GALLERY_ROOT,
               max_upload_bytes=MAX_UPLOAD_BYTES, stream_options=None, max_viewers=DEFAULT_MAX_VIEWERS,
               upload_slots=UPLOAD_SLOTS, upload_wait=UPLOAD_WAIT, access=None, detector="haar", align=True,
               int8=True):
    """Build the demo app around ``recognizer`` (or one loaded from ``model_dir`` with ``detector``,
    ``align`` and ``int8``: see :class:`~fer.live.recognizer.EmotionRecognizer`) and ``source``.

    ``source`` is anything :func:`fer.live.sources.open_source` takes; ``stream_options`` are
    keyword arguments of :class:`fer.live.stream.Broadcaster` (``idle_timeout``, ``keepalive``, ...).
    The capture thread starts with the first viewer of ``/video_feed``; past ``max_viewers``
    open streams, and past ``upload_slots`` uploads in analysis for ``upload_wait`` seconds,
    requests get a 503 with ``Retry-After``. ``access`` is a :class:`fer.live.access.AccessPolicy`
    (default: no token, Host names of this machine only).
    """
    if recognizer is None:
        recognizer = EmotionRecognizer(model_dir or DEFAULT_MODEL_DIR, detector=detector, align=align, int8=int8)
    broadcaster = Broadcaster(source, recognizer, max_viewers=max_viewers, **(stream_options or {}))
    gallery = Gallery(gallery_root)

    app = flask.Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(STATIC))
    app.config.update(DEBUG=False, MAX_CONTENT_LENGTH=max_upload_bytes)
    app.json.sort_keys = False  # keep each face's keys in the order box, emotion, confidence, scores
    app.extensions["fer"] = {"recognizer": recognizer, "broadcaster": broadcaster, "gallery": gallery}
    app.context_processor(lambda: {"emotions": EMOTIONS, "labels": recognizer.labels, **recognizer.detection})
    access_rules.install(app, access or access_rules.AccessPolicy())
    _add_page_routes(app, recognizer, broadcaster, gallery)
    _add_api_routes(app, recognizer, broadcaster, threading.BoundedSemaphore(upload_slots), upload_wait)
    _add_error_handlers(app)
    return app


def _add_page_routes(app, recognizer, broadcaster, gallery):
    """The HTML pages and the video stream."""
    @app.get("/")
    def index():
        """The live page: stream, faces in view, webcam mode, links to the galleries."""
        return flask.render_template("index.html", source=broadcaster.latest()["description"])

    @app.get("/video_feed")
    def video_feed():
        """The annotated video as MJPEG; every viewer shares one capture thread."""
        viewer = broadcaster.join()  # the place is taken now, so two requests at once cannot both pass
        if viewer is None:
            raise ServiceUnavailable(f"{broadcaster.max_viewers} video streams are open, the most this server "
                                     "allows (main.py --max-viewers raises it); try again shortly", retry_after=2)
        response = flask.Response(mjpeg(broadcaster.frames(viewer)),
                                  mimetype=f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        response.call_on_close(lambda: broadcaster.leave(viewer))  # even if the stream never started
        response.headers["Cache-Control"] = "no-store, no-cache, must-revalidate"
        response.headers["X-Accel-Buffering"] = "no"  # let a reverse proxy pass frames straight on
        return response

    @app.get("/gallery/<emotion>")
    def gallery_page(emotion):
        """Sample faces of one emotion with the model's prediction beneath each."""
        if emotion not in EMOTIONS:
            flask.abort(404, description=f"No emotion called {emotion!r}; choose from {', '.join(EMOTIONS)}")
        faces = gallery.faces(emotion, recognizer)
        agreed = sum(face.correct for face in faces)
        return flask.render_template("gallery.html", emotion=emotion, faces=faces, agreed=agreed)

    @app.get("/gallery/<emotion>/<name>")
    def gallery_image(emotion, name):
        """One sample face; ``send_from_directory`` refuses names that leave the folder."""
        if emotion not in EMOTIONS or not name.endswith(".png"):
            flask.abort(404)
        return flask.send_from_directory(gallery.root / emotion, name, max_age=3600)


def _add_api_routes(app, recognizer, broadcaster, upload_slots, upload_wait):
    """The JSON endpoints."""
    @app.get("/api/faces")
    def faces_now():
        """What the stream sees now: faces, state, message, counters and the face detector."""
        return flask.jsonify(dict(broadcaster.latest(), **recognizer.detection))

    @app.post("/api/predict")
    def predict():
        """Faces in an uploaded picture: multipart field ``image`` (and optionally ``boxes``, JSON),
        a JSON body ``{"image": base64, "boxes": [...]}``, or the raw picture as the body."""
        try:
            data, boxes = read_upload(flask.request)
        except UploadError as error:
            return flask.jsonify(error=str(error)), 400
        if not upload_slots.acquire(timeout=upload_wait):
            raise ServiceUnavailable("busy analysing other pictures; try again shortly", retry_after=2)
        try:
            picture = decode_image(data)
            del data
            if boxes is None:
                faces = recognizer.analyze(picture.image)  # each upload stands alone
                return flask.jsonify([dict(face, box=picture.to_upload(face["box"])) for face in faces])
            width, height = picture.upload_size
            checked_boxes(boxes, width, height)  # the caller's errors, in the caller's pixels
            faces = recognizer.analyze(picture.image, boxes=[picture.to_analysis(box) for box in boxes])
            return flask.jsonify([dict(face, box=[int(round(value)) for value in box])
                                  for face, box in zip(faces, boxes)])
        except (UploadError, BoxError) as error:
            return flask.jsonify(error=str(error)), 400
        finally:
            upload_slots.release()
            release_free_memory()

    @app.get("/healthz")
    def healthz():
        """Whether the model is loaded, its labels, what runs it, the face detector, and the state of the source."""
        stream = broadcaster.latest()
        return flask.jsonify(status="ok", model_loaded=True, labels=list(recognizer.labels),
                             engine=recognizer.scorer.engine, model_calls=recognizer.model_calls,
                             **recognizer.detection,
                             source={key: stream[key] for key in ("source", "description", "state", "message",
                                                                  "running", "viewers", "frames_analysed",
                                                                  "analyses_per_frame", "error_frames")})


def _add_error_handlers(app):
    """One handler for every HTTP error."""
    @app.errorhandler(HTTPException)
    def http_error(error):
        """HTTP errors as JSON under ``/api/``, as a page elsewhere, with the error's own headers (Retry-After)."""
        description = error.description
        if error.code == 413:
            description = f"upload too large: at most {app.config['MAX_CONTENT_LENGTH'] / 2 ** 20:g} MB"
        if flask.request.path.startswith("/api/"):
            response = flask.jsonify(error=description, status=error.code)
        else:
            response = flask.make_response(flask.render_template(
                "error.html", code=error.code, name=error.name, description=description))
        response.status_code = error.code
        response.headers.extend((name, value) for name, value in error.get_headers() if name != "Content-Type")
        return response
