from __future__ import annotations

import datetime as dt

import pytest

from autocrm.tickets.query import QuerySyntaxError, parse_query


def test_parses_the_agent_syntax() -> None:
    f = parse_query(
        'status:open,pending priority:high tag:billing -tag:spam "exact phrase" '
        "assignee:me login fails cf.plan:pro sort:priority team:7"
    )
    assert f.statuses == ["open", "pending"] and f.priorities == [2]
    assert f.tags_all == ["billing"] and f.tags_none == ["spam"]
    assert f.phrases == ["exact phrase"] and f.words == ["login", "fails"]
    assert f.assignee == "me" and f.team == 7 and f.custom_fields == {"plan": "pro"}
    assert f.sort == "priority"


def test_date_terms_cover_whole_days() -> None:
    day = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert parse_query("created:2025-01-01").date_ranges == [
        ("created_at", "gte", day),
        ("created_at", "lt", day + dt.timedelta(days=1)),
    ]
    assert parse_query("created>2025-01-01").date_ranges == [
        ("created_at", "gte", day + dt.timedelta(days=1))
    ]
    assert parse_query("updated<=2025-01-01").date_ranges == [
        ("updated_at", "lt", day + dt.timedelta(days=1))
    ]


@pytest.mark.parametrize(
    "query",
    [
        "status:archived",
        "priority:extreme",
        "colour:red",
        "created>yesterday",
        "-status:open",
        'oops "unbalanced',
        "team:abc",
        "sort:random",
    ],
)
def test_bad_terms_raise_naming_the_term(query: str) -> None:
    with pytest.raises(QuerySyntaxError):
        parse_query(query)


def test_a_quoted_single_word_is_a_phrase_and_free_words_stay_words() -> None:
    f = parse_query('"refund" invoice')
    assert f.phrases == ["refund"] and f.words == ["invoice"]
