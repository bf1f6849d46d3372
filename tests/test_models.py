import pathlib

import keras
import numpy as np
import pytest

from conftest import with_distant_moving_statistics
from fer.training.models import DEFAULT_MODEL, build_model, model_names

FAST_MODELS = ["baseline", "vgg", "vgg_wide", "resnet", "mini_xception"]


def test_registry_lists_every_builder_and_the_default():
    assert set(FAST_MODELS) | {"vgg16", "resnet50"} == set(model_names())
    assert DEFAULT_MODEL in model_names()


@pytest.mark.parametrize("name", FAST_MODELS)
def test_builder_compiles_and_predicts_the_right_shape(name):
    model = build_model(name, (48, 48, 1), 5)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48, 1)).astype("float32")
    scores = model.predict(faces, verbose=0)
    assert scores.shape == (3, 5)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", FAST_MODELS)
def test_models_rescale_raw_pixels_themselves(name):
    import keras

    model = build_model(name, (48, 48, 1), 7)
    after_rescaling = keras.Model(model.get_layer("rescale").output, model.output)
    pixels = np.random.default_rng(0).integers(0, 256, (2, 48, 48, 1)).astype(np.float32)
    np.testing.assert_allclose(model.predict(pixels, verbose=0), after_rescaling.predict(pixels / 255, verbose=0),
                               rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ["vgg16", "resnet50"])
def test_transfer_builders_take_grey_input_and_warn_without_weights(name, caplog):
    model = build_model(name, (48, 48, 1), 7)
    assert model.input_shape == (None, 48, 48, 1) and model.output_shape == (None, 7)
    assert "training from scratch" in caplog.text


def test_transfer_builder_loads_a_local_weights_file(tmp_path):
    import keras

    base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(48, 48, 3))
    weights = tmp_path / "vgg16_notop.weights.h5"
    base.save_weights(weights)
    model = build_model("vgg16", (48, 48, 1), 7, weights=str(weights))
    inner = model.get_layer("vgg16")
    np.testing.assert_array_equal(inner.get_weights()[0], base.get_weights()[0])


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        build_model("nope")


def test_vgg_wide_is_the_crop_recipe_and_takes_every_vgg_option():
    from fer.training.models import builder_options

    options = builder_options("vgg_wide")
    assert options["widths"] == (64, 128, 256, 512) and options["crop"] == 40
    model = build_model("vgg_wide", widths=(4, 8, 8, 16), dropout=0.0)
    assert model.get_layer("crop").output.shape[1:3] == (40, 40)
    assert model.input_shape == (None, 48, 48, 1), "the model still takes the whole 48 x 48 face"


def test_a_plain_call_of_a_cropping_model_normalises_with_the_moving_statistics():
    """``model(x)`` is inference, as ``predict`` is: the crop must not switch BatchNorm to batch statistics."""
    model = with_distant_moving_statistics(build_model("vgg_wide", widths=(4, 8, 8, 16)))
    faces = np.random.default_rng(0).integers(0, 256, (6, 48, 48, 1)).astype(np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(faces)), model.predict(faces, verbose=0), atol=1e-5)


def test_vgg_wide_starts_its_kernels_as_the_published_recipe_does():
    wide = build_model("vgg_wide", widths=(4, 4, 4, 4))
    plain = build_model("vgg", widths=(4, 4, 4, 4))
    initializers = {type(layer.kernel_initializer).__name__
                    for layer in wide.layers if isinstance(layer, keras.layers.Conv2D)}
    assert initializers == {"GlorotUniform"}
    assert type(plain.get_layer("stage1_1_conv").kernel_initializer).__name__ == "HeNormal"


@pytest.mark.parametrize("side", [12, 5])
def test_shortcut_projection_is_a_strided_one_by_one_convolution(side):
    from fer.training.models import _projection

    inputs = keras.Input((side, side, 3))
    ours = keras.Model(inputs, _projection(inputs, 4, 2, name="p"))
    strided = keras.Sequential([keras.Input((side, side, 3)), keras.layers.Conv2D(4, 1, strides=2, use_bias=False)])
    strided.layers[0].set_weights(ours.get_layer("p_conv").get_weights())
    maps = np.random.default_rng(0).normal(size=(2, side, side, 3)).astype(np.float32)
    np.testing.assert_allclose(ours.predict(maps, verbose=0), strided.predict(maps, verbose=0), rtol=1e-5, atol=1e-6)


def test_every_from_scratch_network_trains_in_float32_without_crashing(tmp_path):
    """In a child process: a native crash (TensorFlow's oneDNN on AVX-512 CPUs) fails this test, not the run."""
    import subprocess
    import sys

    script = ("import numpy as np\nfrom fer.training.models import build_model\n"
              f"for name in {FAST_MODELS!r}:\n"
              "    model = build_model(name, (48, 48, 1), 7)\n"
              "    model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')\n"
              "    faces = np.random.default_rng(0).integers(0, 256, (8, 48, 48, 1)).astype('float32')\n"
              "    model.fit(faces, np.arange(8) % 7, batch_size=4, epochs=1, verbose=0)\n"
              "    print(name, 'trained')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            cwd=pathlib.Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr[-1500:]
    assert result.stdout.split("\n")[:-1] == [f"{name} trained" for name in FAST_MODELS]
