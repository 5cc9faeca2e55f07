"""Models, architectures and dataset revisions over HTTP."""

import io
import zipfile
from pathlib import Path
from uuid import UUID

import falcon

from application.errors import NotFoundError
from application.ports.media import MediaStore
from application.ports.training import ArchitectureCatalog
from application.queries import models as q
from entrypoints.http import params
from entrypoints.http.resources import CommandResource, ReadYourWrites
from entrypoints.http.resources.dataset import DatasetItemMedia

TASK_TYPES = ("classification", "detection", "instance_segmentation")
MODEL_README = """# {name}

Architecture {architecture}, task {task_type}, trained by Viewfinder.

    import cv2, openvino as ov
    model = ov.Core().compile_model("model.xml", "CPU", {{"INFERENCE_PRECISION_HINT": "f32"}})
    image = cv2.imread("frame.jpg")                        # uint8 BGR, any size
    outputs = model(image[None])                           # input "image": [1, H, W, 3]

Outputs: classification "probs" [1, C]; detection "boxes" [N, 4] (x1, y1, x2, y2 in input pixels),
"scores" [N], "labels" [N] (indices into the labels below). The labels, task and preprocessing are
also in the model's runtime info (model.get_rt_info()).

Labels, in output order: {label_names}
"""


class ModelArchitectures:
    """/api/model_architectures[?task_type=]"""

    def __init__(self, catalog: ArchitectureCatalog) -> None:
        self.catalog = catalog

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        task_type = req.get_param("task_type")
        if task_type is not None and task_type not in TASK_TYPES:
            raise falcon.HTTPBadRequest(description=f"task_type must be one of {', '.join(TASK_TYPES)}.")
        resp.media = q.architectures(self.catalog, task_type)


class Models(CommandResource):
    """/api/projects/{project_id}/models[/{model_id}[/labels|/binary]]"""

    def __init__(self, commands: object, read: object, consistency: ReadYourWrites, models_dir: Path) -> None:
        super().__init__(commands, read, consistency)
        self.models_dir = models_dir

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        resp.media = q.list_models(self.read, project_id)

    def on_get_model(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, model_id: UUID) -> None:
        resp.media = q.get_model(self.read, project_id, model_id)

    def on_get_labels(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, model_id: UUID) -> None:
        resp.media = q.get_model(self.read, project_id, model_id)["labels"]

    def on_delete_model(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, model_id: UUID) -> None:
        weights_only = bool(params.boolean(req, "weights_only"))
        written = self.commands.delete(project_id, model_id, weights_only, req.context.user)
        self.consistency.respond(resp, written, dict, falcon.HTTP_204)

    def on_get_binary(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, model_id: UUID) -> None:
        model = q.get_model(self.read, project_id, model_id)
        folder = self.models_dir / str(model_id)
        files = [folder / "model.xml", folder / "model.bin"]
        if model["status"] != "trained" or not all(f.exists() for f in files):
            raise NotFoundError(f"Model {model_id} has no weights to download ({model['status']}).")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                archive.write(file, file.name)
            names = ", ".join(label["name"] for label in model["labels"])
            archive.writestr("README.md", MODEL_README.format(label_names=names, **model))
        resp.content_type = "application/zip"
        resp.downloadable_as = f"model-{model_id}.zip"
        resp.data = buffer.getvalue()


class DatasetRevisions(CommandResource):
    """/api/projects/{project_id}/dataset_revisions[/{revision_id}][/items[/{item_id}[/binary|/thumbnail]]]
    (without {revision_id}: the latest revision)."""

    def __init__(self, commands: object, read: object, consistency: ReadYourWrites, media: MediaStore) -> None:
        super().__init__(commands, read, consistency)
        self.media = DatasetItemMedia(read, media)

    def _rid(self, project_id: UUID, revision_id: UUID | None) -> UUID:
        return q.revision_id_or_latest(self.read, project_id, revision_id)

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        resp.media = q.list_revisions(self.read, project_id)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: UUID,
                  revision_id: UUID | None = None) -> None:
        written = self.commands.delete_revision_files(project_id, self._rid(project_id, revision_id), req.context.user)
        self.consistency.respond(resp, written, dict, falcon.HTTP_204)

    def on_delete_one(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, revision_id: UUID) -> None:
        self.on_delete(req, resp, project_id, revision_id)

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, revision_id: UUID) -> None:
        rid = self._rid(project_id, revision_id)
        resp.media = next(r for r in q.list_revisions(self.read, project_id) if r["id"] == str(rid))

    def on_get_items(self, req: falcon.Request, resp: falcon.Response, project_id: UUID,
                     revision_id: UUID | None = None) -> None:
        resp.media = q.revision_items(self.read, project_id, self._rid(project_id, revision_id), params.page(req),
                                      bool(params.boolean(req, "with_annotations")))

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID,
                    revision_id: UUID | None = None) -> None:
        resp.media = q.revision_item_json(self.read, project_id, self._rid(project_id, revision_id), item_id)

    def _media(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID,
               revision_id: UUID | None, thumbnail: bool) -> None:
        row = q.revision_item(self.read, project_id, self._rid(project_id, revision_id), item_id)
        sha256 = row["thumbnail_sha256"] if thumbnail else row["media_sha256"]
        if row["files_deleted"] or not self.media.media.exists(sha256):
            raise NotFoundError("The files of this dataset revision were deleted.")
        self.media.send(req, resp, sha256, "image/jpeg" if thumbnail else row["content_type"])

    def on_get_binary(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID,
                      revision_id: UUID | None = None) -> None:
        self._media(req, resp, project_id, item_id, revision_id, thumbnail=False)

    def on_get_thumbnail(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID,
                         revision_id: UUID | None = None) -> None:
        self._media(req, resp, project_id, item_id, revision_id, thumbnail=True)
