"""Name claims: one owner per normalised name; released names can be taken again."""

from uuid import uuid4

import pytest

from application.event_store import EventStore
from domain.name_claim import NameClaim, NameTakenError, name_claim_id

USER = "alice"


def test_names_that_differ_only_in_case_and_spacing_share_one_claim() -> None:
    assert NameClaim.create_id("project", "  Conveyor   Belt ") == NameClaim.create_id("project", "conveyor belt")
    assert NameClaim.create_id("project", "Conveyor") != NameClaim.create_id("project", "Conveyors")


def test_each_kind_of_resource_has_its_own_names() -> None:
    assert name_claim_id("source", "Gate") != name_claim_id("sink", "Gate")
    assert name_claim_id("label", "nut", scope="p1") != name_claim_id("label", "nut", scope="p2")


def test_a_claim_gets_the_id_derived_from_its_name() -> None:
    claim = NameClaim(kind="source", name="Gate cam", scope="", owner_id=uuid4(), user=USER)
    assert claim.id == name_claim_id("source", "GATE CAM")


def test_a_name_owned_by_another_cannot_be_claimed() -> None:
    owner, intruder = uuid4(), uuid4()
    claim = NameClaim(kind="project", name="Conveyor", scope="", owner_id=owner, user=USER)
    claim.collect_events()
    with pytest.raises(NameTakenError) as raised:
        claim.claim(intruder, "conveyor", USER)
    assert "already exists" in raised.value.detail
    assert claim.owner_id == owner and claim.pending_events == []


def test_the_owner_claiming_its_own_name_again_records_nothing() -> None:
    owner = uuid4()
    claim = NameClaim(kind="project", name="Conveyor", scope="", owner_id=owner, user=USER)
    claim.collect_events()
    claim.claim(owner, "Conveyor", USER)
    assert claim.pending_events == []


def test_only_the_owner_can_release_a_name() -> None:
    owner = uuid4()
    claim = NameClaim(kind="project", name="Conveyor", scope="", owner_id=owner, user=USER)
    claim.collect_events()
    claim.release(uuid4(), USER)
    assert claim.owner_id == owner and claim.pending_events == []
    claim.release(owner, USER)
    assert claim.owner_id is None
    assert [type(e).__name__ for e in claim.collect_events()] == ["Released"]


def test_a_released_name_is_reclaimed_by_a_new_owner_with_its_new_spelling(store: EventStore) -> None:
    first, second = uuid4(), uuid4()
    claim = NameClaim(kind="project", name="Conveyor", scope="", owner_id=first, user=USER)
    claim.release(first, USER)
    store.save(claim)

    reloaded: NameClaim = store.repository.get(claim.id)
    reloaded.claim(second, "CONVEYOR", USER)
    store.save(reloaded)

    final: NameClaim = store.repository.get(claim.id)
    assert (final.owner_id, final.name, final.version) == (second, "CONVEYOR", 3)
    with pytest.raises(NameTakenError):
        final.claim(first, "Conveyor", USER)
