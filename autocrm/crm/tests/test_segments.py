"""Segments: saved filters follow the contacts, static lists hold members; API and pages."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from autocrm.accounts.tests.factories import SYSTEM, actor_of, api_key, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import selectors
from autocrm.crm.models import Segment, SegmentMember
from autocrm.crm.services import contact_merge
from autocrm.crm.services import segments as svc
from autocrm.crm.tests.factories import contact
from autocrm.tickets.tests.api_client import Api

pytestmark = pytest.mark.django_db


def emails(tenant: Tenant, segment: Segment) -> list[str]:
    with tenant_context(tenant):
        rows = selectors.segment_contacts(tenant=tenant, actor=SYSTEM, segment=segment)
        return sorted(rows.values_list("email", flat=True))


def test_a_saved_filter_selects_whoever_matches_now(tenant_a: Tenant) -> None:
    contact(tenant_a, email="a@x.test", tags=["vip"])
    contact(tenant_a, email="b@x.test", tags=["trial"])
    with tenant_context(tenant_a):
        vip = svc.segment_create(
            tenant=tenant_a, actor=SYSTEM, name="VIP", kind="filter", filters={"tags": ["VIP"]}
        )
    assert vip.filters == {"tags": ["vip"]}
    assert emails(tenant_a, vip) == ["a@x.test"]
    contact(tenant_a, email="c@x.test", tags=["vip", "beta"])
    assert emails(tenant_a, vip) == ["a@x.test", "c@x.test"]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({}, "at least one filter"),
        ({"colour": "red"}, "Unknown filter"),
        ({"owner": "somebody"}, "owner is a user id"),
        ({"tags": "vip"}, "tags is a list"),
        ({"consent_email": "yes"}, "true or false"),
    ],
)
def test_bad_filters_are_refused(tenant_a: Tenant, filters: dict, message: str) -> None:
    with tenant_context(tenant_a), pytest.raises(ValidationError, match=message):
        svc.segment_create(tenant=tenant_a, actor=SYSTEM, name="X", kind="filter", filters=filters)


def test_a_static_list_holds_members_and_merges_keep_them(tenant_a: Tenant) -> None:
    one = contact(tenant_a, email="one@x.test")
    two = contact(tenant_a, email="two@x.test")
    dup = contact(tenant_a, email="dup@x.test")
    with tenant_context(tenant_a):
        guests = svc.segment_create(
            tenant=tenant_a, actor=SYSTEM, name="Guests", kind="static", contact_ids=[one.pk]
        )
        assert (
            svc.segment_members_add(
                tenant=tenant_a, actor=SYSTEM, segment=guests, contact_ids=[one.pk, two.pk, dup.pk]
            )
            == 2
        )
        with pytest.raises(ValidationError, match="No contact with id"):
            svc.segment_members_add(
                tenant=tenant_a, actor=SYSTEM, segment=guests, contact_ids=[999_999]
            )
        # The duplicate and the kept contact were both listed: one membership remains.
        contact_merge(tenant=tenant_a, actor=SYSTEM, keep=one, duplicate=dup)
        assert SegmentMember.objects.filter(segment=guests).count() == 2
    assert emails(tenant_a, guests) == ["one@x.test", "two@x.test"]
    with tenant_context(tenant_a):
        svc.segment_members_remove(
            tenant=tenant_a, actor=SYSTEM, segment=guests, contact_ids=[two.pk]
        )
        types = list(
            Event.objects.filter(subject_type="crm.segment").values_list("type", flat=True)
        )
    assert emails(tenant_a, guests) == ["one@x.test"]
    assert types.count("segment.members_added") == 2 and "segment.members_removed" in types


def test_names_are_unique_and_light_agents_cannot_write(tenant_a: Tenant) -> None:
    light = member(tenant_a, "light_agent")
    with tenant_context(tenant_a):
        svc.segment_create(tenant=tenant_a, actor=SYSTEM, name="Leads", kind="static")
        with pytest.raises(ValidationError, match="exists already"):
            svc.segment_create(tenant=tenant_a, actor=SYSTEM, name="leads", kind="static")
        with pytest.raises(PermissionDenied):
            svc.segment_create(
                tenant=tenant_a, actor=actor_of(tenant_a, light), name="Mine", kind="static"
            )


def test_segments_api(client: Client, tenant_a: Tenant, tenant_b: Tenant) -> None:
    api = Api(client, api_key(tenant_a, "write"))
    a = contact(tenant_a, email="a@x.test", tags=["vip"])
    theirs = contact(tenant_b, email="b@y.test")
    made = api.call(
        "post", "/segments", {"name": "VIP", "kind": "filter", "filters": {"tags": ["vip"]}}
    )
    assert made.status_code == 201, made.content
    vip = made.json()
    listed = api.call("get", f"/segments/{vip['id']}/contacts").json()
    assert [c["email"] for c in listed["items"]] == ["a@x.test"]
    static = api.call("post", "/segments", {"name": "Guests", "kind": "static"}).json()
    added = api.call("post", f"/segments/{static['id']}/members", {"contact_ids": [a.pk]})
    assert added.json() == {"changed": 1}
    # Another tenant's contact is no contact here.
    refused = api.call("post", f"/segments/{static['id']}/members", {"contact_ids": [theirs.pk]})
    assert refused.status_code in (400, 422)
    bad = api.call("post", f"/segments/{vip['id']}/members", {"contact_ids": [a.pk]})
    assert bad.status_code in (400, 422)
    renamed = api.call("patch", f"/segments/{static['id']}", {"name": "Webinar guests"})
    assert renamed.json()["name"] == "Webinar guests"
    page = api.call("get", "/segments").json()
    assert [s["name"] for s in page["items"]] == ["VIP", "Webinar guests"]
    assert api.call("delete", f"/segments/{vip['id']}").status_code == 204
    assert api.call("get", f"/segments/{vip['id']}").status_code == 404


def test_segment_pages(client: Client, tenant_a: Tenant) -> None:
    agent = member(tenant_a, "agent")
    client.force_login(agent)
    pat = contact(tenant_a, email="pat@x.test", name="Pat", tags=["vip"])
    contact(tenant_a, email="sam@x.test", name="Sam")
    # "Save as segment" from the filtered contacts list.
    listing = client.get("/acme/agent/contacts/?tag=vip").content.decode()
    assert "Save as segment" in listing
    saved = client.post("/acme/agent/segments/", {"kind": "filter", "name": "VIPs", "tag": "vip"})
    assert saved.status_code == 302
    with tenant_context(tenant_a):
        vips = Segment.objects.get(name="VIPs")
    assert vips.filters == {"tags": ["vip"]}
    page = client.get(saved["Location"]).content.decode()
    assert "pat@x.test" in page and "sam@x.test" not in page
    # A static list, and the contact page's "add to list".
    client.post("/acme/agent/segments/", {"kind": "static", "name": "Call back"})
    with tenant_context(tenant_a):
        call_back = Segment.objects.get(name="Call back")
    contact_page = client.get(f"/acme/agent/contacts/{pat.pk}/").content.decode()
    assert "Add to a list" in contact_page
    client.post(
        f"/acme/agent/segments/{call_back.pk}/edit/", {"action": "add", "contact_id": pat.pk}
    )
    assert "pat@x.test" in client.get(f"/acme/agent/segments/{call_back.pk}/").content.decode()
    overview = client.get("/acme/agent/segments/").content.decode()
    assert "VIPs" in overview and "Call back" in overview
    client.post(f"/acme/agent/segments/{call_back.pk}/edit/", {"action": "delete"})
    with tenant_context(tenant_a):
        assert not Segment.objects.filter(pk=call_back.pk).exists()
