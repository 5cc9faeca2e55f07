"""Baseline for the API benchmark: a bare Falcon endpoint returning a fixed JSON document."""

import json
import os

import falcon


class Fixed:
    def __init__(self, document: object) -> None:
        self.document = document

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.document


def create() -> falcon.App:
    app = falcon.App()
    with open(os.environ["BARE_FALCON_DOCUMENT"]) as handle:
        app.add_route("/api/projects", Fixed(json.load(handle)))
    return app
