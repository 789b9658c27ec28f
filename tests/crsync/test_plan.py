"""The sync plan: which way a REC/REDB custom resource and its stored row are brought in step."""
from __future__ import annotations

import pytest

from kube.crsync.plan import (
    ADOPT,
    CONFLICT,
    DELETE_RESOURCE,
    NOTHING,
    PULL,
    PUSH,
    RECORD,
    RELEASE,
    REQUEST_DELETION,
    ResourceView,
    RowView,
    plan,
)

SPEC = {"memorySize": "100MB", "databasePort": 10000}
CHANGED = {"memorySize": "200MB", "databasePort": 10000}


def in_step(**changes) -> ResourceView:
    """A custom resource last in step at CR generation 2 / row generation 5, with our finalizer."""
    values = {"generation": 2, "spec": SPEC, "observed_generation": 2, "synced_generation": 5,
              "has_finalizer": True}
    return ResourceView(**{**values, **changes})


ROW = RowView(generation=5, spec=SPEC)


def test_nothing_when_in_step():
    assert plan(in_step(), ROW).action == NOTHING


def test_a_kubectl_change_is_pulled():
    assert plan(in_step(generation=3, spec=CHANGED), ROW).action == PULL


def test_an_api_change_is_pushed():
    assert plan(in_step(), RowView(generation=6, spec=CHANGED)).action == PUSH


def test_own_echo_with_equal_specs_only_records():
    """Our push came back through the watch before the bookkeeping did: specs agree, nothing is pulled."""
    echo = in_step(generation=3, spec=CHANGED, observed_generation=2, synced_generation=6)
    assert plan(echo, RowView(generation=6, spec=CHANGED)).action == RECORD


def test_both_changed_is_a_conflict_not_a_silent_overwrite():
    move = plan(in_step(generation=3, spec={"memorySize": "300MB"}), RowView(generation=6, spec=CHANGED))
    assert move.action == CONFLICT
    assert "both changed" in move.reason


def test_refused_spec_is_not_pulled_again():
    """A spec the validator refused keeps its Invalid status; it is not retried until it changes."""
    refused = in_step(generation=3, spec={"memorySize": "-1"}, observed_generation=3)
    assert plan(refused, ROW).action == NOTHING
    assert plan(ResourceView(generation=1, spec={"x": 1}, rejected=True, observed_generation=1), None).action \
        == NOTHING


def test_a_missing_finalizer_is_recorded():
    assert plan(in_step(has_finalizer=False), ROW).action == RECORD


@pytest.mark.parametrize(("resource", "row", "action"), [
    (None, ROW, PUSH),  # made through the API or dashboard: written as a custom resource
    (None, RowView(generation=5, spec=SPEC, deleting=True), NOTHING),
    (None, None, NOTHING),
    (ResourceView(generation=1, spec=SPEC), None, ADOPT),  # made with kubectl
    (ResourceView(generation=1, spec=SPEC), ROW, RECORD),  # made with kubectl for an existing row, same spec
    (ResourceView(generation=1, spec=CHANGED), ROW, PULL),
])
def test_creation_either_side(resource, row, action):
    assert plan(resource, row).action == action


def test_kubectl_delete_requests_deletion_then_waits_then_releases():
    deleting = in_step(deleting=True)
    assert plan(deleting, ROW).action == REQUEST_DELETION
    assert plan(deleting, RowView(generation=5, spec=SPEC, deleting=True)).action == NOTHING
    assert plan(deleting, None).action == RELEASE
    assert plan(in_step(deleting=True, has_finalizer=False), None).action == NOTHING


def test_deletion_through_the_control_plane_deletes_the_custom_resource():
    assert plan(in_step(), RowView(generation=5, spec=SPEC, deleting=True)).action == DELETE_RESOURCE
    assert plan(in_step(), None).action == DELETE_RESOURCE
