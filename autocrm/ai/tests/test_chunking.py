from __future__ import annotations

import itertools

from autocrm.ai.chunking import MAX_CHARS, chunk_conversation, chunk_markdown


def test_headings_start_new_passages_and_label_them() -> None:
    passages = chunk_markdown(
        "Intro paragraph.\n\n## Refunds\n\nRefunds take five days.\n\n## Shipping\n\nWe ship daily."
    )
    assert [(p.heading, p.text) for p in passages] == [
        ("", "Intro paragraph."),
        ("Refunds", "Refunds take five days."),
        ("Shipping", "We ship daily."),
    ]


def test_long_sections_are_packed_by_paragraph_with_overlap() -> None:
    paragraphs = [f"Paragraph {i} says something useful about topic {i}." * 4 for i in range(12)]
    passages = chunk_markdown("\n\n".join(paragraphs))
    assert len(passages) > 2
    for before, after in itertools.pairwise(passages):
        # The next passage starts with the end of the previous one.
        last_sentence = before.text.split("\n\n")[-1].split(". ")[-1]
        assert last_sentence in after.text
    assert all(len(p.text) <= 2 * MAX_CHARS for p in passages)
    joined = " ".join(p.text for p in passages)
    assert all(p in joined for p in paragraphs)


def test_a_run_on_paragraph_is_cut_at_sentences() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(200))
    passages = chunk_markdown(text)
    assert len(passages) > 3
    assert all(len(p.text) <= MAX_CHARS + 250 for p in passages)


def test_a_conversation_names_its_speakers() -> None:
    passages = chunk_conversation(
        [("Customer", "My parcel is late."), ("Agent", "It ships today.")]
    )
    assert passages[0].text == "Customer: My parcel is late.\n\nAgent: It ships today."


def test_passages_are_plain_text_not_markdown() -> None:
    """Passages are quoted to customers as plain text: no asterisks, link targets or
    quote markers."""
    body = (
        "# Reset **your** password\n\n"
        "On the sign-in page choose **Forgot your password?** and see [the guide](/g).\n\n"
        "> Note: the link is valid for *three days*.\n\n"
        "- open the e-mail\n- click `Reset`\n"
    )
    [passage] = chunk_markdown(body)
    assert passage.heading == "Reset your password"
    assert passage.text == (
        "On the sign-in page choose Forgot your password? and see the guide.\n\n"
        "Note: the link is valid for three days.\n\n"
        "• open the e-mail • click Reset"
    )
