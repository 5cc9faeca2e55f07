"""Instance-segmentation benchmark: `python -m benchmarks.training.bench_segmentation`.

Trains the default segmenter on generated 320x240 scenes (textured backgrounds, 1-5 filled
circles/squares/triangles, polygon annotations), then prints COCO segm/bbox mAP of the exported
IR on the testing subset (computed by the trainer), the mean mask IoU of the true objects,
training seconds and inference images/s at 320x240.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from adapters.inference.openvino_model import AsyncOpenVINOModel, OpenVINOModel
from adapters.inference.openvino_runtime import compile_on_cpu, core
from adapters.training.images import decode_bgr
from adapters.training.segmentation import CellSegmentationTrainer
from application.ports.training import TrainingRequest, TrainingSample
from benchmarks.training.bench_training import PrintingReporter, metrics_of, rate
from benchmarks.training.synthetic import labels_for, polygon_mask, segmentation_samples


class QuietReporter(PrintingReporter):
    """Prints nothing."""

    def log(self, line: str) -> None:
        """Ignore the line."""


def outline(points: list[dict], height: int, width: int) -> np.ndarray:
    """Pixels inside an API polygon."""
    return polygon_mask(np.array([[p["x"], p["y"]] for p in points]), height, width)


def mask_iou(model: OpenVINOModel, testing: list[TrainingSample]) -> tuple[float, float]:
    """Mean IoU of each true object with its best predicted polygon (0 if none), and the share of
    objects whose best polygon has the right label; predictions with confidence >= 0.3."""
    ious, right = [], []
    for sample in testing:
        image = decode_bgr(sample)
        h, w = image.shape[:2]
        found = [(p["labels"][0]["id"], outline(p["shape"]["points"], h, w)) for p in model.infer(image)]
        for annotation in sample.annotations:
            truth = outline(annotation["shape"]["points"], h, w)
            scores = [float((m & truth).sum() / max((m | truth).sum(), 1)) for _, m in found]
            best = int(np.argmax(scores)) if scores else -1
            ious.append(scores[best] if scores else 0.0)
            right.append(bool(scores) and found[best][0] == annotation["labels"][0]["id"])
    return float(np.mean(ious)), float(np.mean(right))


def bench_speed(xml: Path, images: list[np.ndarray], frames: int) -> str:
    """Images/s of the exported segmenter at the images' size."""
    f32 = compile_on_cpu(core().read_model(xml), f32=True)
    default = compile_on_cpu(core().read_model(xml), f32=False)
    f32_rate = rate(lambda im: f32(im[None]), images, frames)
    default_rate = rate(lambda im: default(im[None]), images, frames)
    model = OpenVINOModel(xml, f32=False)
    decoded_rate = rate(model.infer, images, frames)
    stream = AsyncOpenVINOModel(model, jobs=2)
    t0 = time.perf_counter()
    for i in range(frames):
        stream.submit(images[i % len(images)], lambda _: None)
    stream.wait()
    async_rate = frames / (time.perf_counter() - t0)
    single = core().compile_model(core().read_model(xml), "CPU", {"INFERENCE_NUM_THREADS": 1})
    request = single.create_infer_request()
    request.infer({"image": images[0][None]})
    c0 = time.process_time()
    for i in range(frames):
        request.infer({"image": images[i % len(images)][None]})
    cpu_ms = (time.process_time() - c0) / frames * 1e3
    return (f"OpenVINO sync f32 {f32_rate:.0f} img/s, sync default precision {default_rate:.0f} "
            f"img/s, sync + polygons {decoded_rate:.0f} img/s, async 2 requests + polygons "
            f"{async_rate:.0f} img/s; one inference thread: {cpu_ms:.2f} ms CPU per image "
            f"(default precision, less sensitive to a busy machine)")


def bench_mask_cost(request: TrainingRequest, tmp: Path, images: list[np.ndarray], frames: int) -> str:
    """The mask branch's cost: the same network exported with and without it, timed in turns
    (speed does not depend on the weights, so a 1-epoch fit on 30 images will do)."""
    small = TrainingRequest(request.task_type, request.labels, request.samples[:30], tmp,
                            parameters={"epochs": 1}, seed=0)
    segmenter = CellSegmentationTrainer().fit(small, QuietReporter())
    info = {"architecture": "x"}
    paths = {"detector only": segmenter.detector.export(tmp / "d" / "model.xml", info)[0],
             "segmenter": segmenter.export(tmp / "s" / "model.xml", info)[0]}
    compiled = {k: compile_on_cpu(core().read_model(v), f32=False) for k, v in paths.items()}
    rates: dict[str, list[float]] = {k: [] for k in paths}
    for _ in range(3):
        for k, c in compiled.items():
            rates[k].append(rate(lambda im, c=c: c(im[None]), images, frames // 4))
    best = {k: max(v) for k, v in rates.items()}
    return (f"same network with and without the mask branch, default precision, sync, best of 3 "
            f"turns: detector only {best['detector only']:.0f} img/s, segmenter "
            f"{best['segmenter']:.0f} img/s ({best['segmenter'] / best['detector only']:.0%})")


def main() -> None:
    """Train, evaluate, time."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenes", type=int, default=520)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--frames", type=int, default=400)
    args = parser.parse_args()
    t0 = time.perf_counter()
    samples = segmentation_samples(args.scenes, 320, 240, seed=11, fractions=(0.75, 0.05))
    counts = {s: sum(x.subset == s for x in samples) for s in ("training", "validation", "testing")}
    print(f"instance segmentation: 3 classes, 320x240, {counts}, generated in "
          f"{time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        request = TrainingRequest("instance_segmentation", labels_for(["circle", "square", "triangle"]),
                                  samples, Path(tmp), parameters={"epochs": args.epochs}, seed=0)
        t0, c0 = time.perf_counter(), time.process_time()
        model = CellSegmentationTrainer().train(request, PrintingReporter(every=5))
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        m = metrics_of(model)
        testing = [s for s in samples if s.subset == "testing"]
        iou, labelled = mask_iou(OpenVINOModel(model.xml_path), testing)
        print(f"  segm mAP@0.5 {m['map_50']:.4f}, segm mAP@0.5:0.95 {m['map_50_95']:.4f}, bbox mAP@0.5 "
              f"{m['box_map_50']:.4f}, bbox mAP@0.5:0.95 {m['box_map_50_95']:.4f}")
        print(f"  mask IoU of the true objects {iou:.4f} (best polygon, confidence >= 0.3; its label "
              f"right for {labelled:.1%}), training incl. export and evaluation {seconds:.1f} s "
              f"({cpu:.1f} s CPU), IR {model.size / 1e6:.2f} MB")
        images = [decode_bgr(s) for s in testing][:20]
        print(f"  320x240 segmenter: {bench_speed(model.xml_path, images, args.frames)}")
        print(f"  {bench_mask_cost(request, Path(tmp), images, args.frames)}")


if __name__ == "__main__":
    main()
