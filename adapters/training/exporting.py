"""What every default trainer does around its own fitting: export one IR, evaluate it, describe it."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from adapters.training.images import subset
from application.ports.training import TrainedModel, Trainer, TrainingReporter, TrainingRequest


class ExportingTrainer(Trainer):
    """Fit a NumPy model, export it as one OpenVINO IR, evaluate the IR on the testing subset."""

    def train(self, request: TrainingRequest, reporter: TrainingReporter) -> TrainedModel:
        """Fit, export, evaluate."""
        model = self.fit(request, reporter)
        reporter.progress(90, "exporting the OpenVINO model")
        xml, bin_ = model.export(request.output_dir / "model.xml", self.model_info(request, model))
        testing = subset(request.samples, "testing")
        metrics = self.evaluate(xml, testing, request, reporter) if testing else []
        reporter.progress(100, "done")
        return TrainedModel(xml, bin_, metrics, self.architecture.id, "fp32",
                            xml.stat().st_size + bin_.stat().st_size)

    @abstractmethod
    def fit(self, request: TrainingRequest, reporter: TrainingReporter) -> Any:
        """Train; return a model with `export(xml_path, info) -> (xml, bin)`."""

    @abstractmethod
    def model_info(self, request: TrainingRequest, model: Any) -> dict[str, Any]:
        """The runtime info that makes the IR self-describing."""

    @abstractmethod
    def evaluate(self, xml: Any, testing: Any, request: TrainingRequest, reporter: TrainingReporter) -> list[Any]:
        """Metrics of the exported IR on the testing subset."""
