"""Realistic benchmark data, loaded fast (``python -m bench.seed``; docs/tickets-performance.md).

Shape of the data set (``--tickets N --tenants T``):

- tenant ``bench-big`` holds N tickets; the T-1 tenants ``bench-small-NN`` hold N/100 each;
- per tenant: ~10 teams (3 in small tenants), ~50 agents (5) created as real users and
  memberships through ``autocrm.accounts.services``, N/10 contacts, one company per 20
  contacts (70 % of contacts belong to one), 40 tags, 3 custom fields;
- tickets: created over the last two years (volume growing), statuses weighted to
  solved/closed with a real backlog (new 4 %, open 14 %, pending 6 %, on hold 2 %, solved
  24 %, closed 50 %), priorities low 20 / normal 55 / high 18 / urgent 7 %, 92 % routed to a
  team (team sizes skewed), 0-3 tags, custom field values, numbers 1..n per tenant in
  creation order, the number sequence at the maximum;
- 1 + Poisson(4) messages per ticket (mean ~5, at most 12): the requester's request, then
  agent replies and customer answers alternating, 12 % of agent messages internal notes;
- text: subjects and message bodies drawn from a ~12,000 word vocabulary with Zipf-like
  frequencies (English stop words first, then support words, then a long tail of
  synthetic words), so there are common words, rare words and everything between;
  deterministic for a given ``--seed``.

``search_vector`` is computed here, not in SQL: each vocabulary word's English lexeme is
asked from PostgreSQL once, then the vector literal is assembled exactly as
``setweight(to_tsvector(cfg, subject), 'A') || setweight(to_tsvector(cfg, message), 'B') ||
...`` builds it (stop words take a position; each ``||`` shifts the right side by the left
side's largest position). A sample is re-checked against PostgreSQL after every load.

Rows go in with COPY as the owner role; for big loads the secondary indexes and foreign
keys of the loaded tables are dropped first and rebuilt (and validated) afterwards, all in
one transaction, so a failed load leaves the schema as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.vocabulary import (
    IntArray,
    TextTables,
    Vocabulary,
    gather_ranges,
    tsvector_pieces,
    words_of,
)

BENCH_SLUG_PREFIX = "bench-"
BIG_SLUG = "bench-big"
BENCH_EMAIL_DOMAIN = "bench.autocrm.test"
SMALL_TENANT_DIVISOR = 100  # a small tenant holds N / 100 tickets
LOAD_TABLES = ("crm_company", "crm_contact", "tickets_ticket", "tickets_message")
INDEXED_LOAD_THRESHOLD = 50_000  # below this many tickets, keep indexes during the load
CHUNK_TICKETS = 10_000


FIRST_NAMES = words_of(
    "alex sam jordan taylor morgan casey riley jamie avery quinn maria john anna peter "
    "laura david sofia lucas emma noah olivia liam mia ethan chloe james lena omar yuki "
    "priya arjun chen wei fatima ali sara ivan elena marco giulia pierre claire hans greta"
)
LAST_NAMES = words_of(
    "smith johnson brown garcia miller davis martin lopez wilson anderson thomas moore "
    "jackson white harris clark lewis walker young allen king wright scott green baker "
    "adams nelson hill campbell mitchell roberts carter phillips evans turner parker "
    "collins edwards stewart morris murphy cook rogers morgan"
)
COMPANY_WORDS = words_of(
    "acme globex initech umbrella stark wayne wonka hooli vandelay soylent cyberdyne "
    "tyrell massive dynamic oscorp aperture black mesa blue sun north wind vertex nimbus "
    "orbit quantum summit harbor pioneer atlas zenith lumen cobalt ember"
)
TAG_NAMES = words_of(
    "billing refund login bug feature-request shipping urgent vip password invoice "
    "cancellation upgrade mobile api integration outage security onboarding feedback "
    "complaint returns warranty tax account-access performance data-export sso "
    "notifications pricing enterprise trial partner churn-risk escalated follow-up "
    "duplicate spam how-to documentation"
)
TEAM_NAMES = (
    "Tier 1",
    "Tier 2",
    "Billing",
    "Technical",
    "Shipping",
    "Accounts",
    "Enterprise",
    "Onboarding",
    "Returns",
    "Escalations",
)
TEAM_WEIGHTS = (0.22, 0.16, 0.13, 0.11, 0.09, 0.08, 0.07, 0.06, 0.05, 0.03)
CUSTOM_FIELDS: tuple[dict[str, Any], ...] = (
    {
        "key": "plan",
        "label": "Plan",
        "field_type": "dropdown",
        "options": ["free", "starter", "pro", "enterprise"],
    },
    {
        "key": "region",
        "label": "Region",
        "field_type": "dropdown",
        "options": ["amer", "emea", "apac"],
    },
    {"key": "vip", "label": "VIP", "field_type": "checkbox", "options": []},
)
STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
STATUS_WEIGHTS = (0.04, 0.14, 0.06, 0.02, 0.24, 0.50)
PRIORITY_WEIGHTS = (0.20, 0.55, 0.18, 0.07)  # low, normal, high, urgent
TYPES = ("question", "incident", "problem", "task", "")
TYPE_WEIGHTS = (0.40, 0.25, 0.10, 0.10, 0.15)
CHANNELS = ("email", "web", "chat", "portal", "api", "phone", "sms")
CHANNEL_WEIGHTS = (0.50, 0.15, 0.15, 0.08, 0.05, 0.04, 0.03)
SPAN_DAYS = 730
US_PER_DAY = 86_400_000_000

# --- the plan ----------------------------------------------------------------------------------


@dataclass
class TenantPlan:
    tenant_id: int
    slug: str
    n_tickets: int
    created_us: IntArray  # sorted creation times, one per ticket
    msg_counts: IntArray
    first_ticket_id: int
    first_message_id: int
    contact_ids: IntArray
    contact_company: IntArray  # company id or 0
    agent_ids: IntArray
    team_ids: IntArray
    agent_team: IntArray  # index into team_ids per agent
    tags: list[str]

    @property
    def n_messages(self) -> int:
        return int(self.msg_counts.sum())

    def chunks(self) -> Iterator[tuple[int, int]]:
        for start in range(0, self.n_tickets, CHUNK_TICKETS):
            yield start, min(self.n_tickets, start + CHUNK_TICKETS)


def ticket_times(rng: np.random.Generator, n: int, now_us: int) -> IntArray:
    """Creation times over two years, volume growing towards now; sorted."""
    u = rng.random(n) ** 0.75  # more tickets recently
    return np.sort(now_us - ((1.0 - u) * SPAN_DAYS * US_PER_DAY).astype(np.int64))


def message_counts(rng: np.random.Generator, n: int) -> IntArray:
    return np.minimum(1 + rng.poisson(4.0, n), 12).astype(np.int64)


@dataclass
class Chunk:
    tickets: bytes  # COPY binary
    messages: str
    n_tickets: int
    n_messages: int


TICKET_COLUMNS = (
    "id", "tenant_id", "number", "subject", "status", "priority", "type", "channel",
    "requester_id", "organization_id", "assignee_id", "team_id", "tags", "custom_fields",
    "metadata", "version", "created_at", "updated_at", "first_response_at", "solved_at",
    "search_vector",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "tenant_id", "ticket_id", "author_user_id", "author_contact_id", "public",
    "body_html", "body_text", "channel", "channel_message_id", "created_at",
)  # fmt: skip


# binary COPY (tickets: the tsvector goes in binary, which PostgreSQL reads far faster)
COPY_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_BINARY_TRAILER = b"\xff\xff"
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in unix microseconds
VARCHAR_OID = 1043
_NULL = b"\xff\xff\xff\xff"
_TICKET_HEAD = struct.Struct(">hiqiqiqi")  # field count, id, tenant_id, number, subject length
_TIMES = struct.Struct(">iqiq")
_EMPTY_JSONB = b"\x00\x00\x00\x03\x01{}"
_VERSION_1 = b"\x00\x00\x00\x04\x00\x00\x00\x01"


def _text_field(value: str) -> bytes:
    data = value.encode()
    return len(data).to_bytes(4, "big") + data


def _int8(value: int) -> bytes:
    return b"\x00\x00\x00\x08" + value.to_bytes(8, "big") if value else _NULL


def _timestamp(unix_us: int) -> bytes:
    if not unix_us:
        return _NULL
    return b"\x00\x00\x00\x08" + (unix_us - PG_EPOCH_US).to_bytes(8, "big", signed=True)


def _jsonb(text: str) -> bytes:
    data = b"\x01" + text.encode()
    return len(data).to_bytes(4, "big") + data


def _varchar_array(values: tuple[str, ...]) -> bytes:
    if not values:
        body = struct.pack(">iii", 0, 0, VARCHAR_OID)
    else:
        body = struct.pack(">iiiii", 1, 0, VARCHAR_OID, len(values), 1) + b"".join(
            _text_field(v) for v in values
        )
    return len(body).to_bytes(4, "big") + body


_STATUS_BIN = [_text_field(v) for v in STATUSES]
_TYPE_BIN = [_text_field(v) for v in TYPES]
_CHANNEL_BIN = [_text_field(v) for v in CHANNELS]
_PRIORITY_BIN = [b"\x00\x00\x00\x02" + p.to_bytes(2, "big") for p in range(4)]


def _timestamps(us: IntArray) -> list[str]:
    return [
        s.replace("T", " ") + "+00"
        for s in np.datetime_as_string(us.astype("datetime64[us]"), unit="us").tolist()
    ]


def _ids_or_null(values: IntArray) -> list[str]:
    return [str(v) if v else "\\N" for v in values.tolist()]


_STATE: dict[str, Any] = {}


def set_generation_state(
    vocab: Vocabulary, tables: TextTables, plans: list[TenantPlan], seed: int, now_us: int
) -> None:
    """Module state read by ``generate_chunk`` (inherited by forked worker processes)."""
    _STATE.update(vocab=vocab, tables=tables, plans=plans, seed=seed, now_us=now_us)


def generate_chunk(task: tuple[int, int, int]) -> Chunk:
    """Tickets ``start..stop`` of tenant plan ``plan_index``: deterministic per seed."""
    plan_index, start, stop = task
    vocab: Vocabulary = _STATE["vocab"]
    tables: TextTables = _STATE["tables"]
    plan: TenantPlan = _STATE["plans"][plan_index]
    now_us: int = _STATE["now_us"]
    rng = np.random.default_rng([_STATE["seed"], plan_index, start])
    n = stop - start
    created = plan.created_us[start:stop]
    counts = plan.msg_counts[start:stop]
    ticket_ids = np.arange(plan.first_ticket_id + start, plan.first_ticket_id + stop)
    numbers = np.arange(start + 1, stop + 1)
    first_msg = plan.first_message_id + int(plan.msg_counts[:start].sum())

    status = rng.choice(len(STATUSES), n, p=STATUS_WEIGHTS)
    priority = rng.choice(4, n, p=PRIORITY_WEIGHTS)
    ttype = rng.choice(len(TYPES), n, p=TYPE_WEIGHTS)
    channel = rng.choice(len(CHANNELS), n, p=CHANNEL_WEIGHTS)
    n_teams = len(plan.team_ids)
    team_p = np.array(TEAM_WEIGHTS[:n_teams]) / sum(TEAM_WEIGHTS[:n_teams])
    team_idx = rng.choice(n_teams, n, p=team_p)
    has_team = rng.random(n) < 0.92
    team_id = np.where(has_team, plan.team_ids[team_idx], 0)
    # assignee: an agent of the ticket's team (any agent without a team); new: mostly none
    agents_by_team = [np.flatnonzero(plan.agent_team == t) for t in range(n_teams)]
    pick = rng.random(n)
    assignee = np.zeros(n, dtype=np.int64)
    for t, members in enumerate(agents_by_team):
        pool = members if len(members) else np.arange(len(plan.agent_ids))
        sel = team_idx == t
        assignee[sel] = plan.agent_ids[pool[(pick[sel] * len(pool)).astype(np.int64)]]
    no_team = ~has_team
    assignee[no_team] = plan.agent_ids[(pick[no_team] * len(plan.agent_ids)).astype(np.int64)]
    unassigned = np.where(status == 0, rng.random(n) < 0.7, rng.random(n) < 0.08)
    assignee[unassigned] = 0
    # requesters: a few contacts write a lot
    contact_idx = (len(plan.contact_ids) * rng.random(n) ** 2.0).astype(np.int64)
    requester = plan.contact_ids[contact_idx]
    organization = plan.contact_company[contact_idx]

    age = now_us - created
    open_like = status < 4
    life = np.where(
        open_like,
        (age * rng.random(n) ** 3).astype(np.int64),
        np.minimum(age, rng.exponential(3.0, n) * US_PER_DAY).astype(np.int64),
    )
    updated = created + np.maximum(life, 1_000_000)
    updated = np.minimum(updated, now_us)
    updated = np.maximum(updated, created)
    solved = np.where(status >= 4, updated, 0)

    # messages: times between created and updated, first at creation
    n_msg = int(counts.sum())
    msg_ticket = np.repeat(np.arange(n), counts)
    msg_first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    msg_rank = np.arange(n_msg) - msg_first[msg_ticket]
    frac = rng.random(n_msg)
    frac[msg_first] = 0.0
    order = np.lexsort((frac, msg_ticket))
    frac = frac[order]
    msg_time = created[msg_ticket] + (frac * (updated - created)[msg_ticket]).astype(np.int64)
    by_agent = msg_rank % 2 == 1
    internal = by_agent & (rng.random(n_msg) < 0.12)
    msg_agent = np.where(
        assignee[msg_ticket] > 0,
        assignee[msg_ticket],
        plan.agent_ids[(rng.random(n_msg) * len(plan.agent_ids)).astype(np.int64)],
    )
    author_user = np.where(by_agent, msg_agent, 0)
    author_contact = np.where(by_agent, 0, requester[msg_ticket])
    replied = by_agent & ~internal
    first_reply = np.zeros(n, dtype=np.int64)
    replied_tickets, first_pos = np.unique(msg_ticket[replied], return_index=True)
    first_reply[replied_tickets] = msg_time[replied][first_pos]

    # words
    subj_len = rng.integers(3, 10, n)
    msg_len = np.clip(rng.lognormal(np.log(36.0), 0.55, n_msg), 5, 200).astype(np.int64)
    subj_words = np.searchsorted(vocab.cdf_subject, rng.random(int(subj_len.sum())))
    msg_words = np.searchsorted(vocab.cdf_all, rng.random(int(msg_len.sum())))
    subj_words = np.minimum(subj_words, len(vocab.words) - 1)
    msg_words = np.minimum(msg_words, len(vocab.words) - 1)

    subj_first = np.concatenate(([0], np.cumsum(subj_len)[:-1]))
    subj_capital = np.zeros(len(subj_words), dtype=bool)
    subj_capital[subj_first] = True
    subj_ending = np.zeros(len(subj_words), dtype=np.int64)
    subj_ending[np.cumsum(subj_len) - 1] = np.where(rng.random(n) < 0.2, 2, 0)
    subj_ids = tables.piece_ids(subj_words, subj_capital, subj_ending)
    subjects = tables.join(subj_ids, tables.piece_len[subj_ids], subj_len)

    msg_end_tok = np.cumsum(msg_len) - 1
    ending = np.where(rng.random(len(msg_words)) < 0.1, 1, 0)
    ending = np.where((ending == 0) & (rng.random(len(msg_words)) < 0.04), 3, ending)
    ending[msg_end_tok] = 1
    questions = (ending == 1) & (rng.random(len(msg_words)) < 0.2)
    ending[questions] = 2
    capital = np.zeros(len(msg_words), dtype=bool)
    capital[1:] = (ending[:-1] == 1) | (ending[:-1] == 2)
    capital[np.concatenate(([0], msg_end_tok[:-1] + 1))] = True
    msg_ids = tables.piece_ids(msg_words, capital, ending)
    bodies = tables.join(msg_ids, tables.piece_len[msg_ids], msg_len)

    # search vectors: per ticket, subject (A) then its messages in order (B)
    seg_lengths = np.empty(n + n_msg, dtype=np.int64)
    seg_owner = np.empty(n + n_msg, dtype=np.int64)
    seg_b = np.empty(n + n_msg, dtype=bool)
    # segment order: ticket 0 subject, ticket 0 messages, ticket 1 subject, ...
    seg_subject_slot = np.arange(n) + np.concatenate(([0], np.cumsum(counts)[:-1]))
    is_subject = np.zeros(n + n_msg, dtype=bool)
    is_subject[seg_subject_slot] = True
    seg_lengths[is_subject] = subj_len
    seg_lengths[~is_subject] = msg_len
    seg_owner[is_subject] = np.arange(n)
    seg_owner[~is_subject] = msg_ticket
    seg_b[:] = ~is_subject
    # tokens in segment order: each segment is a slice of subj_words or msg_words
    src = np.concatenate((subj_words, msg_words))
    src_start = np.empty(n + n_msg, dtype=np.int64)
    src_start[is_subject] = subj_first
    src_start[~is_subject] = len(subj_words) + np.concatenate(([0], msg_end_tok[:-1] + 1))
    tsv_ids, tsv_groups = tsvector_pieces(
        tables,
        words=src[gather_ranges(src_start, seg_lengths)],
        seg_lengths=seg_lengths,
        seg_owner=seg_owner,
        seg_weight_b=seg_b,
        n_owners=n,
        lexeme_of_word=vocab.lexeme_of_word,
    )
    vectors = tables.join_tsv(tsv_ids, tsv_groups)

    # tags and custom fields
    n_tags = rng.choice(4, n, p=(0.35, 0.35, 0.2, 0.1))
    tag_p = 1.0 / (np.arange(len(plan.tags)) + 2.0)
    tag_p /= tag_p.sum()
    tag_draw = rng.choice(len(plan.tags), (n, 3), p=tag_p)
    plan_opt = rng.choice(4, n, p=(0.3, 0.3, 0.3, 0.1))
    region_opt = rng.choice(3, n, p=(0.45, 0.35, 0.2))
    has_cf = rng.random(n) < 0.8
    vip = rng.random(n) < 0.05
    cf_cache: dict[tuple[int, int, bool, bool], str] = {}
    plans_opts = CUSTOM_FIELDS[0]["options"]
    region_opts = CUSTOM_FIELDS[1]["options"]

    def custom(i: int) -> str:
        key = (int(plan_opt[i]), int(region_opt[i]), bool(has_cf[i]), bool(vip[i]))
        if key not in cf_cache:
            value: dict[str, Any] = {}
            if key[2]:
                value = {"plan": plans_opts[key[0]], "region": region_opts[key[1]]}
            if key[3]:
                value["vip"] = True
            cf_cache[key] = json.dumps(value)
        return cf_cache[key]

    tenant = plan.tenant_id
    tag_cache: dict[tuple[str, ...], bytes] = {}
    ticket_rows: list[bytes] = []
    head = _TICKET_HEAD.pack
    pg_epoch = PG_EPOCH_US
    created_l = (created - pg_epoch).tolist()
    updated_l = (updated - pg_epoch).tolist()
    reply_l = first_reply.tolist()
    solved_l = solved.tolist()
    org_l, assignee_l, team_l = organization.tolist(), assignee.tolist(), team_id.tolist()
    ids_l, numbers_l, requester_l = ticket_ids.tolist(), numbers.tolist(), requester.tolist()
    status_l, priority_l, type_l = status.tolist(), priority.tolist(), ttype.tolist()
    channel_l, n_tags_l = channel.tolist(), n_tags.tolist()
    tag_rows = tag_draw.tolist()
    for i in range(n):
        names = tuple(dict.fromkeys(plan.tags[j] for j in tag_rows[i][: n_tags_l[i]]))
        tags = tag_cache.get(names)
        if tags is None:
            tags = tag_cache[names] = _varchar_array(names)
        subject = subjects[i].encode()
        vector = vectors[i]
        ticket_rows.append(
            b"".join(
                (
                    head(21, 8, ids_l[i], 8, tenant, 8, numbers_l[i], len(subject)),
                    subject,
                    _STATUS_BIN[status_l[i]],
                    _PRIORITY_BIN[priority_l[i]],
                    _TYPE_BIN[type_l[i]],
                    _CHANNEL_BIN[channel_l[i]],
                    _int8(requester_l[i]),
                    _int8(org_l[i]),
                    _int8(assignee_l[i]),
                    _int8(team_l[i]),
                    tags,
                    _jsonb(custom(i)),
                    _EMPTY_JSONB,
                    _VERSION_1,
                    _TIMES.pack(8, created_l[i], 8, updated_l[i]),
                    _timestamp(reply_l[i]),
                    _timestamp(solved_l[i]),
                    len(vector).to_bytes(4, "big"),
                    vector,
                )
            )
        )
    msg_ids_col = range(first_msg, first_msg + n_msg)
    msg_ticket_ids = ticket_ids[msg_ticket].tolist()
    author_user_s = _ids_or_null(author_user)
    author_contact_s = _ids_or_null(author_contact)
    public_s = np.where(internal, "f", "t").tolist()
    msg_channel = [CHANNELS[c] for c in channel[msg_ticket].tolist()]
    msg_time_s = _timestamps(msg_time)
    message_rows = [
        f"{mid}\t{tenant}\t{msg_ticket_ids[j]}\t{author_user_s[j]}\t{author_contact_s[j]}\t"
        f"{public_s[j]}\t<p>{bodies[j]}</p>\t{bodies[j]}\t{msg_channel[j]}\t\t{msg_time_s[j]}\n"
        for j, mid in enumerate(msg_ids_col)
    ]
    return Chunk(
        tickets=COPY_BINARY_HEADER + b"".join(ticket_rows) + COPY_BINARY_TRAILER,
        messages="".join(message_rows),
        n_tickets=n,
        n_messages=n_msg,
    )


def generate_all(tasks: list[tuple[int, int, int]], workers: int) -> Iterator[Chunk]:
    """Chunks in order, generated by ``workers`` forked processes (0: in this process)."""
    if workers <= 0:
        for task in tasks:
            yield generate_chunk(task)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes=workers) as pool:
        yield from pool.imap(generate_chunk, tasks, chunksize=1)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


# --- contacts and companies ---------------------------------------------------------------------


def people_rows(
    rng: np.random.Generator,
    *,
    tenant_id: int,
    slug: str,
    contact_ids: IntArray,
    company_ids: IntArray,
    now_us: int,
) -> tuple[str, str, IntArray]:
    """COPY text for companies and contacts; returns the company id of each contact (0 =
    none)."""
    created = now_us - (rng.random(len(company_ids)) * (SPAN_DAYS + 365) * US_PER_DAY).astype(
        np.int64
    )
    stamps = _timestamps(created)
    cw = COMPANY_WORDS
    company_rows = []
    for i, cid in enumerate(company_ids.tolist()):
        name = f"{cw[i % len(cw)].title()} {cw[(i // len(cw)) % len(cw)].title()} {i + 1}"
        domain = f"{cw[i % len(cw)]}{i + 1}.{slug}.example"
        company_rows.append(
            f"{cid}\t{tenant_id}\t{name}\t{domain}\t\\N\t{stamps[i]}\t{stamps[i]}\n"
        )
    has_company = (rng.random(len(contact_ids)) < 0.7) & (len(company_ids) > 0)
    pick = rng.integers(0, max(1, len(company_ids)), len(contact_ids))
    padded = np.concatenate((company_ids, [0]))
    contact_company = np.where(has_company, padded[np.minimum(pick, len(company_ids))], 0)
    first = rng.integers(0, len(FIRST_NAMES), len(contact_ids)).tolist()
    last = rng.integers(0, len(LAST_NAMES), len(contact_ids)).tolist()
    created_c = now_us - (rng.random(len(contact_ids)) * SPAN_DAYS * US_PER_DAY).astype(np.int64)
    stamps_c = _timestamps(created_c)
    company_s = _ids_or_null(contact_company)
    contact_rows = []
    for i, cid in enumerate(contact_ids.tolist()):
        fn, ln = FIRST_NAMES[first[i]], LAST_NAMES[last[i]]
        email = f"{fn}.{ln}.{i + 1}@customers.{slug}.example"
        contact_rows.append(
            f"{cid}\t{tenant_id}\t{email}\t{fn.title()} {ln.title()}\t\t{company_s[i]}\t\\N\t"
            f"{stamps_c[i]}\t{stamps_c[i]}\n"
        )
    return "".join(company_rows), "".join(contact_rows), contact_company.astype(np.int64)


def now_microseconds() -> int:
    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0, second=0)
    return int(now.timestamp()) * 1_000_000


class Timer:
    """Named phases with wall-clock seconds, printed as they finish."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.phases: dict[str, float] = {}
        self.started = time.perf_counter()

    def phase(self, name: str) -> _Phase:
        return _Phase(self, name)

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


class _Phase:
    def __init__(self, timer: Timer, name: str) -> None:
        self.timer, self.name = timer, name

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        took = time.perf_counter() - self.t0
        self.timer.phases[self.name] = self.timer.phases.get(self.name, 0.0) + took
        self.timer.echo(f"  {self.name}: {took:.1f}s")
