import pytest

from fer.labels import EMOTIONS, parse_classes


def test_csv_codes_name_emotions_in_fer_order_and_a_subset_renumbers_them(tmp_path):
    from fer.training.data import load_csv

    pixels = " ".join(["128"] * 48 * 48)
    rows = [f"{code},{pixels},{usage}" for code in (3, 4, 6, 0) for usage in ("Training", "PublicTest")]
    (tmp_path / "codes.csv").write_text("emotion,pixels,Usage\n" + "\n".join(rows) + "\n")
    assert [EMOTIONS[code] for code in (3, 4, 6, 0)] == ["happy", "sad", "neutral", "angry"]
    subset = load_csv(tmp_path / "codes.csv", classes=("happy", "sad", "neutral"))
    assert subset.labels == ("happy", "sad", "neutral")
    assert subset.train.labels.tolist() == [0, 1, 2], "FER codes 3, 4, 6 become 0, 1, 2; code 0 is left out"


def test_subset_comes_back_in_fer_order():
    assert parse_classes("neutral, Happy,sad") == ("happy", "sad", "neutral")
    assert parse_classes(None) == EMOTIONS


@pytest.mark.parametrize("spec", ["happy,joy", "happy", "happy,happy"])
def test_bad_subsets_are_refused(spec):
    with pytest.raises(ValueError):
        parse_classes(spec)
