"""fer.live.inference: the LiteRT export scores faces exactly as Keras does, whatever the batch size."""

import numpy as np
import pytest

from fer.training.artifacts import load_model
from clips import load_faces
from fer.live.inference import KerasScorer, LiteRTScorer, make_scorer
from fer.preprocessing import faces_to_batch

FACES = faces_to_batch([gray_face for _, gray_face in load_faces()]).astype(np.float32)


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return load_model(tiny_model_dir).model


def test_litert_scores_equal_keras_scores_for_every_batch_size(model):
    litert, keras_scorer = make_scorer(model, "litert"), make_scorer(model, "keras")
    assert isinstance(litert, LiteRTScorer) and isinstance(keras_scorer, KerasScorer)
    for size in (1, 3, len(FACES), 2, 1):  # the interpreter resizes both ways
        batch = FACES[:size]
        scores = litert(batch)
        assert scores.shape == (size, model.output_shape[-1]) and scores.dtype == np.float32
        np.testing.assert_allclose(scores, keras_scorer(batch), rtol=1e-5, atol=1e-6)


def test_litert_results_are_copies_not_the_reused_buffer(model):
    litert = LiteRTScorer.exported(model, threads=1)
    first = litert(FACES[:2])
    kept = first.copy()
    litert(FACES[2:4])
    np.testing.assert_array_equal(first, kept)


def test_unknown_engine_is_refused(model):
    with pytest.raises(ValueError, match="unknown engine"):
        make_scorer(model, "onnx")
