"""OpenVINO graph-building helpers shared by the exporters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from adapters.inference.openvino_runtime import openvino, write_rt_info

Node = Any


def ops() -> Any:
    """Return the opset module used by every exporter."""
    openvino()
    import openvino.opset16 as opset

    return opset


def const(value: Any, dtype: Any = np.float32) -> Node:
    """A constant node."""
    return ops().constant(np.asarray(value, dtype=dtype))


def image_input() -> tuple[Node, Node]:
    """Return the `image` u8 [1,H,W,3] BGR parameter and its f32 [1,3,H,W] view."""
    ov, op = openvino(), ops()
    image = op.parameter([1, -1, -1, 3], ov.Type.u8, name="image")
    image.output(0).get_tensor().set_names({"image"})
    nchw = op.transpose(op.convert(image, "f32"), const([0, 3, 1, 2], np.int64))
    return image, nchw


def resize(node: Node, sizes: Node) -> Node:
    """Bilinear resize of the last two axes to `sizes` (i64 [2]), as cv2.INTER_LINEAR."""
    return ops().interpolate(
        node, sizes, "linear_onnx", "sizes", coordinate_transformation_mode="half_pixel",
        axes=const([2, 3], np.int64),
    )


def resize_longest_side(image: Node, nchw: Node, size: int) -> tuple[Node, Node]:
    """Resize [1,3,H,W] so the longest side becomes `size`; return it and f32 [2] (sy, sx)."""
    op = ops()
    hw = op.gather(op.shape_of(image), const([1, 2], np.int64), const(0, np.int64))
    longest = op.reduce_max(hw, const([0], np.int64), True)
    # Integer round-half-up. A float version (floor(hw * size / max + 0.5)) came out inverted
    # once the IR was saved and read back (OpenVINO 2026.4 CPU), so keep this integer form.
    sizes = op.divide(op.add(op.multiply(hw, const(2 * size, np.int64)), longest),
                      op.multiply(longest, const(2, np.int64)))
    resized = resize(nchw, sizes)
    new_hw = op.gather(op.shape_of(resized), const([2, 3], np.int64), const(0, np.int64))
    return resized, op.divide(op.convert(new_hw, "f32"), op.convert(hw, "f32"))


def conv(node: Node, weights: np.ndarray, dilation: int = 1, reflect: int = 0) -> Node:
    """Stride-1 convolution, optionally after reflect padding (= BORDER_REFLECT_101)."""
    op = ops()
    if reflect:
        pads = const([0, 0, reflect, reflect], np.int64)
        node = op.pad(node, pads, pads, "reflect")
    return op.convolution(node, const(weights), [1, 1], [0, 0], [0, 0], [dilation, dilation])


def avg_pool(node: Node, kernel: int, stride: int) -> Node:
    """Average pooling without padding."""
    return ops().avg_pool(
        node, [stride, stride], [0, 0], [0, 0], [kernel, kernel], True, dilations=[1, 1]
    )


def dense_stack(node: Node, weights: list[np.ndarray], biases: list[np.ndarray]) -> Node:
    """`x @ W + b` layers with ReLU between them, on a [1, D] node."""
    op = ops()
    for i, (w, b) in enumerate(zip(weights, biases)):
        node = op.add(op.matmul(node, const(w), False, False), const(b[None, :]))
        if i < len(weights) - 1:
            node = op.relu(node)
    return node


def name_output(node: Node, name: str) -> Node:
    """Give a node's first output a stable tensor name."""
    node.output(0).get_tensor().set_names({name})
    return node


def save_ir(outputs: list[Node], image: Node, path: Path, info: dict[str, Any]) -> tuple[Path, Path]:
    """Write the model as IR (fp32 weights) with `info` in its rt_info; return (xml, bin)."""
    ov = openvino()
    model = ov.Model(outputs, [image], str(info.get("architecture", "model")))
    write_rt_info(model, info)
    path.parent.mkdir(parents=True, exist_ok=True)
    xml = path.with_suffix(".xml")
    ov.save_model(model, str(xml), compress_to_fp16=False)
    return xml, xml.with_suffix(".bin")
