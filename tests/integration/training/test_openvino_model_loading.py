"""Stories about loading model files for inference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adapters.inference.openvino_model import InvalidModelError, OpenVINOModel
from adapters.training import graph
from application.errors import InvalidInputError


def test_an_ir_without_viewfinder_runtime_info_is_refused(tmp_path: Path) -> None:
    image, nchw = graph.image_input()
    xml, _ = graph.save_ir([graph.name_output(graph.avg_pool(nchw, 2, 2), "probs")], image,
                           tmp_path / "plain.xml", {})
    with pytest.raises(InvalidModelError, match="plain.xml"):
        OpenVINOModel(xml)


def test_a_frame_that_is_not_a_bgr_image_is_refused(tmp_path: Path) -> None:
    image, nchw = graph.image_input()
    info = {"labels": [], "task_type": "classification", "architecture": "x"}
    xml, _ = graph.save_ir([graph.name_output(graph.avg_pool(nchw, 2, 2), "probs")], image,
                           tmp_path / "m.xml", info)
    with pytest.raises(InvalidInputError):
        OpenVINOModel(xml).infer(np.zeros((4, 4), np.uint8))
