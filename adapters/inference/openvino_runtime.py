"""One place that imports OpenVINO: telemetry off, one Core, rt_info helpers."""

from __future__ import annotations

import json
import sys
from functools import cache
from types import ModuleType
from typing import Any

RT_SECTION = "viewfinder"


def openvino() -> ModuleType:
    """Import openvino with its usage telemetry disabled, and return the module."""
    # `import openvino` imports openvino.tools.ovc, which starts openvino_telemetry and
    # writes a client id and stats under ~/intel. ovc falls back to its own no-op stub
    # when openvino_telemetry cannot be imported, so we make that import fail.
    if "openvino" not in sys.modules:
        sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
    import openvino as ov

    return ov


@cache
def core() -> Any:
    """Return the process-wide OpenVINO Core."""
    return openvino().Core()


def compile_on_cpu(model: Any, f32: bool = True) -> Any:
    """Compile for the CPU; f32 keeps results equal to a NumPy reference (default is bf16)."""
    config = {"INFERENCE_PRECISION_HINT": "f32"} if f32 else {}
    return core().compile_model(model, "CPU", config)


def write_rt_info(model: Any, info: dict[str, Any]) -> None:
    """Store each value as JSON under the model's `viewfinder` runtime-info section."""
    for key, value in info.items():
        model.set_rt_info(json.dumps(value), [RT_SECTION, key])


def read_rt_info(model: Any) -> dict[str, Any]:
    """Read back what write_rt_info stored; KeyError when the model has none."""
    if not model.has_rt_info([RT_SECTION]):
        raise KeyError(RT_SECTION)
    keys = model.get_rt_info()[RT_SECTION].keys()
    return {key: json.loads(model.get_rt_info([RT_SECTION, key]).astype(str)) for key in keys}
