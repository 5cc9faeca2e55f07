"""The pipeline of a project: what it points at and what it collects."""

from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidValueError
from domain.pipeline import (
    Pipeline,
    PipelineNotReadyError,
    PipelineRunningError,
    check_data_collection,
    pipeline_id_of,
)

USER = "alice"
PROJECT = UUID("7c9e6679-7425-40de-944b-e07fc1f90ae7")


def idle_pipeline() -> Pipeline:
    pipeline = Pipeline(project_id=PROJECT, user=USER)
    pipeline.collect_events()
    return pipeline


def changes_recorded(pipeline: Pipeline) -> list[dict]:
    events: list[Any] = list(pipeline.collect_events())
    return [event.changes for event in events]


def test_each_project_has_one_pipeline_whose_id_derives_from_the_project() -> None:
    assert Pipeline(project_id=PROJECT, user=USER).id == pipeline_id_of(PROJECT)
    assert pipeline_id_of(PROJECT) == Pipeline.create_id(PROJECT) == pipeline_id_of(UUID(str(PROJECT)))
    assert pipeline_id_of(uuid4()) != pipeline_id_of(PROJECT)


def test_a_new_pipeline_points_nowhere_and_collects_nothing() -> None:
    pipeline = idle_pipeline()
    assert (pipeline.source_id, pipeline.sink_id, pipeline.model_id, pipeline.enabled) == (None, None, None, False)
    assert pipeline.data_collection == {"max_dataset_size": None, "policies": []}


def test_configuring_records_only_the_fields_that_change() -> None:
    pipeline, source, sink = idle_pipeline(), uuid4(), uuid4()
    pipeline.configure(USER, source_id=source)
    pipeline.configure(USER, source_id=source, sink_id=sink)
    pipeline.configure(USER, source_id=source, sink_id=sink)
    assert changes_recorded(pipeline) == [{"source_id": source}, {"sink_id": sink}]


def test_fields_left_out_are_kept_and_none_detaches() -> None:
    pipeline, source, sink = idle_pipeline(), uuid4(), uuid4()
    pipeline.configure(USER, source_id=source, sink_id=sink)
    pipeline.configure(USER, source_id=None)
    assert (pipeline.source_id, pipeline.sink_id) == (None, sink)
    assert changes_recorded(pipeline)[-1] == {"source_id": None}


def test_collection_policies_are_replaced_only_when_different() -> None:
    pipeline = idle_pipeline()
    policies = {"max_dataset_size": 500, "policies": [{"type": "fixed_rate", "enabled": True, "rate": 0.5}]}
    pipeline.configure(USER, data_collection=policies)
    pipeline.configure(USER, data_collection=dict(policies))
    assert changes_recorded(pipeline) == [{"data_collection": policies}]
    assert pipeline.data_collection == policies


@pytest.mark.parametrize("data_collection", [
    {"max_dataset_size": 0, "policies": []},
    {"max_dataset_size": True, "policies": []},
    {"max_dataset_size": 2.5, "policies": []},
    {"max_dataset_size": None, "policies": [{"type": "every_frame"}]},
    {"max_dataset_size": None, "policies": [{"rate": 1}]},
])
def test_invalid_collection_settings_are_refused_without_an_event(data_collection: dict) -> None:
    pipeline = idle_pipeline()
    with pytest.raises(InvalidValueError):
        pipeline.configure(USER, source_id=uuid4(), data_collection=data_collection)
    assert pipeline.pending_events == [] and pipeline.source_id is None


@pytest.mark.parametrize("policy", [
    {"type": "fixed_rate", "enabled": True, "rate": 0},
    {"type": "fixed_rate", "enabled": True},
    {"type": "confidence_threshold", "enabled": True, "confidence_threshold": 1.5, "min_sampling_interval": 1.0},
])
def test_the_domain_refuses_a_policy_with_an_impossible_rate_or_threshold(policy: dict) -> None:
    with pytest.raises(InvalidValueError):
        check_data_collection({"max_dataset_size": None, "policies": [policy]})


def test_a_pipeline_runs_only_with_a_source_and_a_model() -> None:
    pipeline = idle_pipeline()
    with pytest.raises(PipelineNotReadyError):
        pipeline.enable(USER)
    pipeline.configure(USER, source_id=uuid4())
    with pytest.raises(PipelineNotReadyError):
        pipeline.enable(USER)
    assert not pipeline.enabled


def test_a_running_pipeline_cannot_be_deleted_until_it_is_disabled() -> None:
    pipeline = idle_pipeline()
    pipeline.configure(USER, source_id=uuid4(), model_id=uuid4())
    pipeline.enable(USER)
    with pytest.raises(PipelineRunningError):
        pipeline.delete(USER)
    with pytest.raises(PipelineRunningError):
        pipeline.configure(USER, source_id=None)
    pipeline.disable(USER)
    pipeline.delete(USER)
    assert pipeline.deleted
