import pytest

from fer.labels import EMOTIONS, parse_classes


def test_fer_order():
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_subset_comes_back_in_fer_order():
    assert parse_classes("neutral, Happy,sad") == ("happy", "sad", "neutral")
    assert parse_classes(None) == EMOTIONS


@pytest.mark.parametrize("spec", ["happy,joy", "happy", "happy,happy"])
def test_bad_subsets_are_refused(spec):
    with pytest.raises(ValueError):
        parse_classes(spec)
