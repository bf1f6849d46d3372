"""The face-detection options shared by ``camera``, ``serve``, ``analyze`` and ``explain``.

``--detector`` picks the detector by name (:mod:`fer.live.detectors`), ``--detect-width`` the
width frames are shrunk to before detection, and ``--no-align`` scores faces as found instead
of setting them upright by their eyes (YuNet finds the eyes; Haar does not, so with Haar the
option changes nothing). ``--float32`` (not for ``explain``, which runs Keras itself) scores
faces with the float32 model even where the model directory ships an int8 file that passed
its check.
"""

DETECTOR_NAMES = ("haar", "yunet")
"""The names of :data:`fer.live.detectors.DETECTORS`, here so that ``--help`` needs no OpenCV."""


def add_detector_arguments(parser, detect_width=True, scoring=True):
    """Add ``--detector``, ``--no-align``, and unless told not to ``--detect-width`` and ``--float32``."""
    group = parser.add_argument_group("face detection")
    group.add_argument("--detector", default="haar", choices=DETECTOR_NAMES,
                       help="haar: OpenCV's frontal-face cascade, the classic; yunet: a small network that "
                       "also finds turned, tilted and partly covered faces, and their eyes [default: haar]")
    group.add_argument("--no-align", dest="align", action="store_false",
                       help="score each face as found instead of turning it upright by its eye line "
                       "(only YuNet finds the eyes)")
    if detect_width:
        group.add_argument("--detect-width", type=int, default=320, metavar="W",
                           help="shrink frames to W pixels across for face detection (faster; 0: full "
                           "resolution; raise it when faces are under ~100 px) [default: 320]")
    if scoring:
        parser.add_argument_group("emotion model").add_argument(
            "--float32", dest="int8", action="store_false",
            help="score with the float32 model even where the model directory ships an int8 file "
            "(model-int8.tflite) that passed its parity check, which the live path otherwise runs")


def detection_problems(args):
    """Reasons the detection options cannot work (empty: fine)."""
    width = getattr(args, "detect_width", 320)
    if width < 0 or 0 < width < 32:
        return [f"--detect-width must be 0 (full resolution) or at least 32, got {width}"]
    return []


def detector_from(args):
    """The detector the options ask for."""
    from ..live.detectors import make_detector

    return make_detector(args.detector, getattr(args, "detect_width", 320))


def recognizer_from(args):
    """An :class:`~fer.live.recognizer.EmotionRecognizer` of ``--model`` with the detection options."""
    # Imported here so that --help and bad options answer at once, without loading Keras.
    from ..live.recognizer import EmotionRecognizer
    from ..locations import DEFAULT_MODEL_DIR

    return EmotionRecognizer(args.model or DEFAULT_MODEL_DIR, detector=detector_from(args), align=args.align,
                             int8=args.int8)
