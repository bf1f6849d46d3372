"""The one path by which a face becomes a model input.

Every caller (the CSV loader, the folder loader, the camera and the web API) turns a face
into the model's input through :func:`face_to_input`. The model rescales inside itself, so
the input stays raw grey pixels 0-255.
"""

import cv2
import numpy as np

FACE_SIZE = 48
"""Side of the square grey face the models take."""


def to_gray(image):
    """Return a 2-D uint8 grey image from a grey, BGR or BGRA array."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    elif image.ndim != 2:
        raise ValueError(f"expected a grey or BGR image, got an array of shape {image.shape}")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return image


def face_to_input(face, size=FACE_SIZE):
    """Turn a face crop (grey or BGR, any size) into a ``size x size x 1`` uint8 array.

    Larger crops shrink with area averaging, smaller ones grow bilinearly; a crop that is
    already ``size x size`` grey passes through unchanged.
    """
    gray_face = to_gray(face)
    if gray_face.shape != (size, size):
        shrinking = gray_face.shape[0] > size or gray_face.shape[1] > size
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        gray_face = cv2.resize(gray_face, (size, size), interpolation=interpolation)
    return gray_face[:, :, np.newaxis]


def faces_to_batch(faces, size=FACE_SIZE):
    """Stack face crops into one ``N x size x size x 1`` uint8 batch."""
    batch = np.empty((len(faces), size, size, 1), dtype=np.uint8)
    for index, face in enumerate(faces):
        batch[index] = face_to_input(face, size)
    return batch
