"""The vocabulary of the benchmark data and its text pieces (bench/generators.py uses them).

Words in rank order with Zipf-like frequencies: English stop words first, then support
words, then a long tail of synthetic words. Each word's English lexeme is asked from
PostgreSQL once; ``TextTables`` and ``tsvector_pieces`` then assemble message text and the
matching ``search_vector`` literal without PostgreSQL (see bench/generators.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

TEXT_SEARCH_CONFIG = "english"
MAX_POSITION = 16383  # tsvector positions saturate here (MAXENTRYPOS - 1)
TAIL_WORDS = 12_000

IntArray = npt.NDArray[np.int64]


def words_of(text: str) -> tuple[str, ...]:
    return tuple(text.split())


STOP_WORDS = words_of(
    "the to i and a you it is of for in my that this we on with have be not can your but are "
    "was me at do if so our as an or from will just there what when been has all would they "
    "any about some no"
)

SUPPORT_WORDS = words_of(
    "please thanks help account order error issue problem email login password update "
    "payment invoice refund customer support team working access page app service data "
    "reset time today new plan billing user setting feature request report number again "
    "since still week month screen message phone link button system change problem "
    "receive sent send shipping delivery address card charge subscription cancel renew "
    "upgrade downgrade price product item return exchange replace broken damaged missing "
    "package tracking status delay late urgent asap soon quickly manager contact call "
    "chat reply response question answer information detail details attached screenshot "
    "file upload download export import sync integration api key token webhook server "
    "outage slow crash freeze bug fix version release mobile desktop browser chrome "
    "firefox safari android iphone windows mac install uninstall notification alert "
    "dashboard profile name company organization admin permission role invite member "
    "license seat trial discount coupon code promotion tax receipt statement balance "
    "credit debit bank transfer wallet checkout cart basket stock available size color "
    "warranty repair technician appointment schedule booking reservation confirm "
    "confirmation verify verification security twofactor locked blocked suspended "
    "deleted restore backup migration database report analytics chart metric export "
    "spreadsheet document pdf print printer scanner network wifi connection router "
    "internet speed timeout certificate domain website hosting storage quota limit "
    "exceeded usage overage contract renewal quote proposal meeting demo onboarding "
    "training tutorial guide documentation article feedback suggestion complaint "
    "escalate supervisor priority ticket case reference previous earlier yesterday "
    "morning afternoon evening weekend holiday office hours business region country "
    "language translation currency euro dollar pound shipment courier warehouse "
    "pickup dropoff label customs duty fee charged twice double incorrect wrong amount "
    "missing expected received working stopped started failed failing successful "
    "unable cannot possible appreciate sorry understand frustrated disappointed happy "
    "great good bad terrible quick simple complex original current recent latest"
)


def synthetic_words(count: int) -> list[str]:
    """The long tail: deterministic pronounceable words (product names, jargon, typos...)."""
    onsets = [
        "b",
        "c",
        "d",
        "f",
        "g",
        "k",
        "l",
        "m",
        "n",
        "p",
        "r",
        "s",
        "t",
        "v",
        "z",
        "br",
        "cr",
        "dr",
        "gr",
        "pl",
        "st",
        "tr",
        "sk",
        "sl",
        "fl",
    ]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]
    codas = ["", "n", "r", "s", "x", "l", "m", "nd", "rt", "ck"]
    rng = np.random.default_rng(20261123)
    seen = set(STOP_WORDS) | set(SUPPORT_WORDS)
    words: list[str] = []
    while len(words) < count:
        syllables = int(rng.integers(2, 4))
        word = (
            "".join(
                onsets[int(rng.integers(len(onsets)))] + vowels[int(rng.integers(len(vowels)))]
                for _ in range(syllables)
            )
            + codas[int(rng.integers(len(codas)))]
        )
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def vocabulary_words() -> list[str]:
    """Every word in rank order (rank 1 = most frequent)."""
    support = list(dict.fromkeys(SUPPORT_WORDS))
    return [*STOP_WORDS, *support, *synthetic_words(TAIL_WORDS)]


@dataclass
class Vocabulary:
    """Words, their Zipf-Mandelbrot frequencies and their English lexemes."""

    words: list[str]
    lexeme_of_word: npt.NDArray[np.int32]  # index into ``lexemes``; -1 = stop word
    lexemes: list[str]
    cdf_all: npt.NDArray[np.float64]  # message text: every word
    cdf_subject: npt.NDArray[np.float64]  # subjects: no stop words
    frequency: npt.NDArray[np.float64] = field(repr=False)

    @classmethod
    def build(cls, lexeme_lookup: Callable[[list[str]], list[str | None]]) -> Vocabulary:
        words = vocabulary_words()
        looked_up = lexeme_lookup(words)
        index: dict[str, int] = {}
        lexemes: list[str] = []
        lexeme_of_word = np.full(len(words), -1, dtype=np.int32)
        for i, lexeme in enumerate(looked_up):
            if lexeme is None:
                continue
            if lexeme not in index:
                index[lexeme] = len(lexemes)
                lexemes.append(lexeme)
            lexeme_of_word[i] = index[lexeme]
        ranks = np.arange(1, len(words) + 1, dtype=np.float64)
        frequency = 1.0 / (ranks + 2.7)  # Zipf-Mandelbrot, s = 1
        frequency /= frequency.sum()
        subject = np.where(lexeme_of_word >= 0, frequency, 0.0)
        return cls(
            words=words,
            lexeme_of_word=lexeme_of_word,
            lexemes=lexemes,
            cdf_all=_cdf(frequency),
            cdf_subject=_cdf(subject / subject.sum()),
            frequency=frequency,
        )

    def common_words(self, count: int = 3) -> list[str]:
        """The most frequent words that are not stop words (what a search benchmark wants)."""
        order = np.argsort(-self.frequency, kind="stable")
        stop = set(STOP_WORDS)
        return [
            self.words[i]
            for i in order
            if self.lexeme_of_word[i] >= 0 and self.words[i] not in stop
        ][:count]


def _cdf(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    cdf = np.cumsum(p)
    cdf[-1] = 1.0
    return cdf


def lexemes_via_sql(
    cursor: Any, config: str = TEXT_SEARCH_CONFIG
) -> Callable[[list[str]], list[str | None]]:
    """A lookup asking PostgreSQL for each word's lexeme (None for a stop word). Refuses a
    word that would not be exactly one token, so positions stay one per word."""

    def lookup(words: list[str]) -> list[str | None]:
        cursor.execute(
            "SELECT w, array(SELECT lexeme FROM unnest(to_tsvector(%s::regconfig, w))), "
            "array(SELECT unnest(positions) FROM unnest(to_tsvector(%s::regconfig, w))), "
            "(SELECT count(*) FROM ts_parse('default', w) WHERE tokid <> 12) "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(w, i) ORDER BY i",
            [config, config, words],
        )
        result: list[str | None] = []
        for word, lexemes, positions, tokens in cursor.fetchall():
            if tokens != 1 or len(lexemes) > 1 or (lexemes and list(positions) != [1]):
                raise ValueError(f"vocabulary word {word!r} is not a single token")
            lexeme = lexemes[0] if lexemes else None
            if lexeme is not None and not lexeme.isalpha():
                raise ValueError(f"lexeme {lexeme!r} would need escaping")
            result.append(lexeme)
        return result

    return lookup


# --- text tables -----------------------------------------------------------------------------

# Token variants: capitalised (sentence start) x what follows the word.
_ENDINGS = (" ", ". ", "? ", ", ")


@dataclass
class TextTables:
    """Pieces indexed by ``variant * V + word`` (text, str) and by lexeme/position
    (binary tsvector, bytes), so a whole chunk is assembled with one ``join`` over a
    ``map``."""

    pieces: list[str]
    piece_len: IntArray
    vocab_size: int
    tsv_pieces: list[bytes]
    tsv_len: IntArray
    lexeme_rank: IntArray  # lexeme id -> rank in PostgreSQL's lexeme order
    n_lexemes: int

    # binary tsvector piece layout: [lexeme+NUL by rank][npos uint16][position uint16]
    # [lexeme count int32]
    NPOS_SLOTS = 4096
    POS_SLOTS = 1 << 16
    COUNT_SLOTS = 1 << 14

    @classmethod
    def build(cls, vocab: Vocabulary) -> TextTables:
        pieces: list[str] = []
        for ending in _ENDINGS:
            for capital in (False, True):
                pieces.extend((w.capitalize() if capital else w) + ending for w in vocab.words)
        encoded = [lex.encode() for lex in vocab.lexemes]
        # tsvector lexemes are ordered bytewise, a prefix before its extensions
        by_rank = sorted(range(len(encoded)), key=encoded.__getitem__)
        rank = np.empty(len(encoded), dtype=np.int64)
        rank[by_rank] = np.arange(len(encoded))
        tsv: list[bytes] = [encoded[i] + b"\0" for i in by_rank]
        tsv += [n.to_bytes(2, "big") for n in range(cls.NPOS_SLOTS)]
        tsv += [n.to_bytes(2, "big") for n in range(cls.POS_SLOTS)]
        tsv += [n.to_bytes(4, "big") for n in range(cls.COUNT_SLOTS)]
        return cls(
            pieces=pieces,
            piece_len=np.array([len(p) for p in pieces], dtype=np.int64),
            vocab_size=len(vocab.words),
            tsv_pieces=tsv,
            tsv_len=np.array([len(p) for p in tsv], dtype=np.int64),
            lexeme_rank=rank,
            n_lexemes=len(encoded),
        )

    def piece_ids(
        self, words: IntArray, capital: npt.NDArray[np.bool_], ending: IntArray
    ) -> IntArray:
        return (ending * 2 + capital.astype(np.int64)) * self.vocab_size + words

    def join(self, ids: IntArray, lengths: IntArray, groups: IntArray) -> list[str]:
        """Concatenate pieces ``ids``; split into consecutive groups of ``groups`` pieces,
        each without its trailing separator character."""
        text = "".join(map(self.pieces.__getitem__, ids.tolist()))
        bounds = _bounds(lengths, groups)
        return [text[start : end - 1] if end > start else "" for start, end in bounds]

    def join_tsv(self, ids: IntArray, groups: IntArray) -> list[bytes]:
        data = b"".join(map(self.tsv_pieces.__getitem__, ids.tolist()))
        return [data[start:end] for start, end in _bounds(self.tsv_len[ids], groups)]


def _bounds(lengths: IntArray, groups: IntArray) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of consecutive groups of ``groups`` pieces of ``lengths``."""
    ends_of_pieces = np.concatenate(([0], np.cumsum(lengths)))
    bounds = ends_of_pieces[np.concatenate(([0], np.cumsum(groups)))].tolist()
    return itertools.pairwise(bounds)


def gather_ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Indices ``starts[0]..starts[0]+lengths[0]-1, starts[1]..``, concatenated."""
    total = int(lengths.sum())
    out_start = np.cumsum(lengths) - lengths
    return np.repeat(starts - out_start, lengths) + np.arange(total)


WEIGHT_A, WEIGHT_B = 3, 2  # tsvector weight codes in the top two bits of a position


def tsvector_pieces(
    tables: TextTables,
    *,
    words: IntArray,
    seg_lengths: IntArray,
    seg_owner: IntArray,
    seg_weight_b: npt.NDArray[np.bool_],
    n_owners: int,
    lexeme_of_word: npt.NDArray[np.int32],
) -> tuple[IntArray, IntArray]:
    """Piece ids of each owner's tsvector in binary (send/recv) format, and the piece
    count per owner.

    Segments (subject, message 1, message 2, ...) are consecutive per owner and each
    becomes ``setweight(to_tsvector(segment), w)``, concatenated left to right with ``||``
    (the right side's positions shift by the left side's largest position; a stop word
    takes a position but leaves no lexeme)."""
    n_seg = len(seg_lengths)
    seg_start = np.concatenate(([0], np.cumsum(seg_lengths)[:-1]))
    seg_of_tok = np.repeat(np.arange(n_seg), seg_lengths)
    pos_in_seg = np.arange(len(words)) - seg_start[seg_of_tok] + 1
    lex = lexeme_of_word[words].astype(np.int64)
    keep = lex >= 0
    # largest position with a lexeme in each segment (0 when it holds only stop words)
    kept_pos = np.where(keep, pos_in_seg, 0)
    seg_max = np.maximum.reduceat(kept_pos, seg_start) if n_seg else np.zeros(0, np.int64)
    seg_max = np.minimum(seg_max, MAX_POSITION)
    excl = np.cumsum(seg_max) - seg_max
    owner_first_seg = np.searchsorted(seg_owner, np.arange(n_owners))
    offset = excl - excl[np.minimum(owner_first_seg, max(n_seg - 1, 0))][seg_owner]
    pos = np.minimum(pos_in_seg + offset[seg_of_tok], MAX_POSITION)[keep]
    rank = tables.lexeme_rank[lex[keep]]
    owner = seg_owner[seg_of_tok][keep]
    weight = np.where(seg_weight_b[seg_of_tok][keep], WEIGHT_B, WEIGHT_A)
    key = owner * tables.n_lexemes + rank
    order = np.argsort(key, kind="stable")  # stable: positions stay ascending
    key, rank, pos, weight, owner = key[order], rank[order], pos[order], weight[order], owner[order]
    n_tok = len(key)
    first = np.ones(n_tok, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    group_start = np.flatnonzero(first)
    npos = np.diff(np.append(group_start, n_tok))
    if n_tok and int(npos.max()) >= 256:
        raise ValueError("a lexeme with 256 positions would be truncated by PostgreSQL")
    groups_per_owner = np.bincount(owner[first], minlength=n_owners)
    tokens_per_owner = np.bincount(owner, minlength=n_owners)
    pieces_per_owner = 1 + 2 * groups_per_owner + tokens_per_owner
    owner_piece_start = np.cumsum(pieces_per_owner) - pieces_per_owner
    groups_before_owner = np.cumsum(groups_per_owner) - groups_per_owner
    tokens_before_owner = np.cumsum(tokens_per_owner) - tokens_per_owner
    groups_so_far = np.cumsum(first) - groups_before_owner[owner]
    slot = (
        owner_piece_start[owner]
        + 1
        + 2 * groups_so_far
        + (np.arange(n_tok) - tokens_before_owner[owner])
    )
    npos_base = tables.n_lexemes
    pos_base = npos_base + TextTables.NPOS_SLOTS
    count_base = pos_base + TextTables.POS_SLOTS
    ids = np.empty(int(pieces_per_owner.sum()), dtype=np.int64)
    ids[owner_piece_start] = count_base + groups_per_owner
    ids[slot] = pos_base + (weight << 14) + pos
    ids[slot[first] - 2] = rank[first]
    ids[slot[first] - 1] = npos_base + npos
    return ids, pieces_per_owner
