"""Runs inference.py's predict_fn and output_fn on given logits, for the Lambda's cross-language label test.

stdin: a JSON list of {"logits": [...], "topK": k or null}; stdout: a JSON list of output_fn's answers, parsed.
The model is the course's (resnet50 config, the contract's 133 labels) with its network replaced by one that
returns the given logits, prepared for serving as model_fn does, so everything from the forward pass to the
JSON answer is inference.py's own code.
"""
from __future__ import annotations

import json
import os
import sys
from typing import List

import torch
from PIL import Image
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "training-scripts"))

import inference  # noqa: E402
from classifier.artifacts import COURSE_NUM_CLASSES, LoadedModel, course_config, default_class_names  # noqa: E402
from classifier.prepare import prepare_model  # noqa: E402


class FixedLogits(nn.Module):
    def __init__(self, logits: List[float]) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.tensor([logits], dtype=torch.float32), requires_grad=False)

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.logits.expand(batch.shape[0], -1)


def main() -> None:
    image = Image.new("RGB", (8, 8), (120, 90, 60))
    answers = []
    for case in json.load(sys.stdin):
        loaded = LoadedModel(FixedLogits(case["logits"]).eval(), course_config(), default_class_names(COURSE_NUM_CLASSES))
        # The eager model: TorchScript would only add tracing time to a network that returns constants.
        model = prepare_model(loaded, threads=1, optimise=None)
        prediction = inference.predict_fn(inference.ImageRequest(image=image, top_k=case["topK"]), model)
        answers.append(json.loads(inference.output_fn(prediction, "application/json")))
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
