"""The seven FER-2013 emotions and helpers to choose a subset of them."""

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""FER-2013 label order: the CSV's ``emotion`` column indexes this tuple."""


def parse_classes(spec):
    """Turn ``"happy,sad"`` (or a list of names) into a tuple of emotions in FER order.

    ``None`` or an empty value means all seven. Unknown names raise ``ValueError``.
    """
    if not spec:
        return EMOTIONS
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [name.strip().lower() for name in names if name.strip()]
    unknown = [name for name in names if name not in EMOTIONS]
    if unknown:
        raise ValueError(f"unknown emotion(s) {', '.join(unknown)}; choose from {', '.join(EMOTIONS)}")
    if len(set(names)) < 2:
        raise ValueError("choose at least two different emotions")
    return tuple(emotion for emotion in EMOTIONS if emotion in names)
