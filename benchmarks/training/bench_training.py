"""Training benchmark: `python -m benchmarks.training.bench_training` prints the figures."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from adapters.inference.openvino_model import AsyncOpenVINOModel, OpenVINOModel
from adapters.inference.openvino_runtime import compile_on_cpu, core
from adapters.training.classification import SoftHogClassificationTrainer
from adapters.training.detection import CellDetectionTrainer
from adapters.training.images import decode_bgr
from application.ports.training import TrainingReporter, TrainingRequest
from benchmarks.training.synthetic import SHAPES, classification_samples, detection_samples, labels_for


class PrintingReporter(TrainingReporter):
    """Prints every n-th log line."""

    def __init__(self, every: int = 10) -> None:
        self.every, self.count = every, 0

    def progress(self, percent: float, message: str) -> None:
        """Ignore progress."""

    def log(self, line: str) -> None:
        """Print some epoch lines and every other line."""
        self.count += 1
        if not line.startswith("epoch") or self.count % self.every == 0:
            print("   ", line, flush=True)

    def should_stop(self) -> bool:
        """Never stop."""
        return False


def metrics_of(model: object) -> dict[str, float]:
    """Metric name -> value."""
    return {m["name"]: m["value"] for m in model.metrics}  # type: ignore[attr-defined]


def bench_classification(per_class: int, epochs: int) -> None:
    """10 classes of generated 64x64 images."""
    t0 = time.perf_counter()
    samples = classification_samples(10, per_class, size=64, seed=7)
    counts = {s: sum(x.subset == s for x in samples) for s in ("training", "validation", "testing")}
    print(f"classification: 10 classes, 64x64, {counts}, generated in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        request = TrainingRequest("classification", labels_for(SHAPES), samples, Path(tmp),
                                  parameters={"epochs": epochs}, seed=0)
        t0 = time.perf_counter()
        model = SoftHogClassificationTrainer().train(request, PrintingReporter())
        seconds = time.perf_counter() - t0
    m = metrics_of(model)
    print(f"  held-out accuracy {m['accuracy']:.4f} (target >= 0.98), training incl. export and "
          f"evaluation {seconds:.1f} s (target <= 60 s)")


def bench_detection(scenes: int, epochs: int, frames: int) -> None:
    """3 classes of shapes in generated 320x240 textured scenes."""
    t0 = time.perf_counter()
    samples = detection_samples(scenes, 320, 240, seed=11, fractions=(0.75, 0.05))
    counts = {s: sum(x.subset == s for x in samples) for s in ("training", "validation", "testing")}
    print(f"detection: 3 classes, 320x240, {counts}, generated in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        request = TrainingRequest("detection", labels_for(["circle", "square", "triangle"]),
                                  samples, Path(tmp), parameters={"epochs": epochs}, seed=0)
        trainer = CellDetectionTrainer()
        t0 = time.perf_counter()
        model = trainer.train(request, PrintingReporter())
        seconds = time.perf_counter() - t0
        m = metrics_of(model)
        print(f"  mAP@0.5 {m['map_50']:.4f} (target >= 0.85), mAP@0.5:0.95 {m['map_50_95']:.4f}, "
              f"training incl. export and evaluation {seconds:.1f} s (target <= 90 s)")
        images = [decode_bgr(s) for s in samples if s.subset == "testing"][:20]
        reference = trainer.fit(TrainingRequest("detection", request.labels, samples[:30], Path(tmp),
                                                parameters={"epochs": 1}), PrintingReporter(10**9))
        bench_speed(model.xml_path, images, frames, reference)


def rate(run: object, images: list, frames: int) -> float:
    """Images per second of run(image) over `frames` calls."""
    run(images[0])  # type: ignore[operator]
    t0 = time.perf_counter()
    for i in range(frames):
        run(images[i % len(images)])  # type: ignore[operator]
    return frames / (time.perf_counter() - t0)


def bench_speed(xml: Path, images: list, frames: int, reference: object) -> None:
    """Images/s of the exported detector against the NumPy reference of the same network."""
    numpy_rate = rate(reference.predict, images, max(frames // 10, 20))  # type: ignore[attr-defined]
    f32 = compile_on_cpu(core().read_model(xml), f32=True)
    default = compile_on_cpu(core().read_model(xml), f32=False)
    f32_rate = rate(lambda im: f32(im[None]), images, frames)
    default_rate = rate(lambda im: default(im[None]), images, frames)
    stream = AsyncOpenVINOModel(OpenVINOModel(xml, f32=False), jobs=2)
    t0 = time.perf_counter()
    for i in range(frames):
        stream.submit(images[i % len(images)], lambda _: None)
    stream.wait()
    async_rate = frames / (time.perf_counter() - t0)
    print(f"  320x240 detector: baseline NumPy reference {numpy_rate:.0f} img/s; OpenVINO sync "
          f"f32 {f32_rate:.0f} img/s, sync default precision {default_rate:.0f} img/s, async "
          f"2 requests + decoding {async_rate:.0f} img/s (target >= 100)")


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-class", type=int, default=800)
    parser.add_argument("--classification-epochs", type=int, default=40)
    parser.add_argument("--scenes", type=int, default=520)
    parser.add_argument("--detection-epochs", type=int, default=40)
    parser.add_argument("--frames", type=int, default=400)
    args = parser.parse_args()
    bench_classification(args.per_class, args.classification_epochs)
    bench_detection(args.scenes, args.detection_epochs, args.frames)


if __name__ == "__main__":
    main()
