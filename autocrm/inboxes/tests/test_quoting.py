import pytest

from autocrm.inboxes.quoting import new_text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("New.\n\nOn Tue, 3 Mar 2026, Pat <p@x.test> wrote:\n> old\n", "New."),
        ("New.\nOn Tue, 3 Mar 2026 at 10:02, Pat Doe <pat@x.test>\nwrote:\n> old\n", "New."),
        ("New.\n-----Original Message-----\nFrom: a\n", "New."),
        ("New.\n\nFrom: Pat <p@x.test>\nSent: Monday\nTo: us\n\nold\n", "New."),
        ("New.\n-- \nPat\nACME\n", "New."),
        ("New.\n\nSent from my iPhone\n", "New."),
        ("New.\n> old\n>\n> older\n", "New."),
        ("> only a quote\n> nothing new\n", "> only a quote\n> nothing new"),
        ("Inline answer:\n> question?\nanswer.\n", "Inline answer:\n> question?\nanswer."),
        (
            "From: here to there is a long way.\nStill new.\n",
            "From: here to there is a long way.\nStill new.",
        ),
    ],
)
def test_new_text(text: str, expected: str) -> None:
    assert new_text(text) == expected
