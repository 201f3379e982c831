"""The model directory format, above all: a course-trained `model.pth` alone loads and serves."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn
from torchvision import models

import inference
from classifier.artifacts import ModelDirError, default_class_names, load_model_dir
from classifier.contract import LABELS
from classifier.data import display_label
from classifier.model import build_model
from conftest import colour_image, image_bytes


def course_network() -> nn.Module:
    """The course notebook's model, written out independently of classifier.model."""
    model = models.resnet50(weights=None)
    for parameter in model.parameters():
        parameter.requires_grad = False
    model.fc = nn.Sequential(nn.Linear(2048, 128), nn.ReLU(inplace=True), nn.Linear(128, 133))
    return model


@pytest.fixture(scope="module")
def course_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("course-model")
    torch.manual_seed(1)
    torch.save(course_network().state_dict(), directory / "model.pth")
    return directory


def test_a_trained_model_labels_the_course_folders_as_the_contract_does() -> None:
    # The dataset's own folder names: what ImageFolder hands train.py.
    for folder in ("001.Affenpinscher", "002.Afghan_hound", "050.Chinese_shar-pei", "096.Labrador_retriever",
                   "133.Yorkshire_terrier"):
        assert display_label(folder) == LABELS[int(folder[:3]) - 1]


def test_a_course_model_gets_the_course_classes() -> None:
    breeds = default_class_names(133)
    assert len(breeds) == 133 == len(set(breeds))
    assert breeds[0] == "Affenpinscher" and breeds[14] == "Basset hound" and breeds[-1] == "Yorkshire terrier"
    # ImageFolder orders the course's "001.Affenpinscher"... folders by name, i.e. by number.
    assert breeds.index("Labrador retriever") == 95


def test_course_model_pth_alone_serves(course_model_dir: Path) -> None:
    loaded = inference.model_fn(str(course_model_dir))
    assert loaded.config.model_name == "resnet50" and loaded.config.image_size == 224
    assert loaded.preparation.method == "torchscript", loaded.preparation.fallback_reason
    request = inference.input_fn(image_bytes(colour_image((120, 90, 60), 3, 64), "JPEG"), "image/jpeg")
    response = json.loads(inference.output_fn(inference.predict_fn(request, loaded), "application/json"))
    predictions = response["predictions"]
    assert len(predictions) == 5
    breeds = default_class_names(133)
    for prediction in predictions:
        assert prediction["label"] == breeds[prediction["index"]]
    # The course network and ours agree on the same weights, so the head really is the course's.
    reference = course_network()
    reference.load_state_dict(torch.load(course_model_dir / "model.pth"))
    reference.eval()
    config = loaded.config
    tensor = inference.eval_transform(config.image_size, config.mean, config.std)(request.image).unsqueeze(0)
    with torch.inference_mode():
        expected = torch.softmax(reference(tensor), dim=1)[0]
    assert predictions[0]["index"] == int(expected.argmax())
    assert abs(predictions[0]["probability"] - float(expected.max())) < 1e-5


def test_resnet_heads_have_the_course_shape() -> None:
    resnet50 = build_model("resnet50", 133, pretrained=False)
    shapes = {key: tuple(value.shape) for key, value in resnet50.state_dict().items() if key.startswith("fc.")}
    assert shapes == {"fc.0.weight": (128, 2048), "fc.0.bias": (128,), "fc.2.weight": (133, 128), "fc.2.bias": (133,)}
    resnet18 = build_model("resnet18", 4, pretrained=False)
    assert resnet18(torch.zeros(2, 3, 64, 64)).shape == (2, 4)
    assert tuple(resnet18.fc[0].weight.shape) == (128, 512)


def test_wrong_weights_and_bad_config_are_named(course_model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "model.pth").write_bytes((course_model_dir / "model.pth").read_bytes())
    (tmp_path / "model_config.json").write_text(json.dumps(
        {"model_name": "resnet18", "num_classes": 133, "image_size": 224, "mean": [0.5] * 3, "std": [0.2] * 3}))
    with pytest.raises(ModelDirError, match="does not match model 'resnet18'"):
        load_model_dir(str(tmp_path))

    (tmp_path / "model_config.json").write_text(json.dumps(
        {"model_name": "resnet50", "num_classes": "133", "image_size": 224, "mean": [0.5] * 3, "std": [0.2] * 3}))
    with pytest.raises(ModelDirError, match="model_config.json: field 'num_classes' must be an integer"):
        load_model_dir(str(tmp_path))

    (tmp_path / "model_config.json").write_text(json.dumps(
        {"model_name": "resnet50", "num_classes": 133, "image_size": 224, "mean": [0.5] * 3, "std": [0.2] * 3}))
    (tmp_path / "class_names.json").write_text(json.dumps(["a", "b"]))
    with pytest.raises(ModelDirError, match="class_names.json lists 2 names but the model has 133 classes"):
        load_model_dir(str(tmp_path))

    with pytest.raises(ModelDirError, match="model weights .*model.pth not found"):
        load_model_dir(str(tmp_path / "empty"))


def test_training_keeps_a_frozen_backbone_frozen(dataset_dir: Path) -> None:
    """With pretrained=True the backbone's weights and batch-norm statistics must not move."""
    from classifier.data import load_data
    from classifier.engine import fit
    from classifier.model import IMAGENET_MEAN, IMAGENET_STD, _freeze, _head

    model = models.resnet18(weights=None)
    _freeze(model)  # what pretrained=True does, without downloading ImageNet weights
    model.fc = _head(512, 3)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    data = load_data(str(dataset_dir), 32, IMAGENET_MEAN, IMAGENET_STD, batch_size=8, num_workers=0)
    fit(model, data.train, data.valid, epochs=1, lr=0.01, device=torch.device("cpu"))
    after = model.state_dict()
    backbone = [key for key in before if not key.startswith("fc.")]
    assert any(key.endswith("running_mean") for key in backbone)
    assert all(torch.equal(before[key], after[key]) for key in backbone)
    assert not torch.equal(before["fc.0.weight"], after["fc.0.weight"])  # while the head did train
