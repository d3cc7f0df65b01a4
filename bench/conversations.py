"""Multi-turn conversations generated from each knowledge base, through the real chat path.

    .venv/bin/python bench/conversations.py                 # every base, rates per kind
    .venv/bin/python bench/conversations.py --kb bench/eval3/kb.yaml --show 20

For each base the bench starts the application on a fresh SQLite database seeded with that file
alone (what ``motcua kb import FILE`` gives an empty database), then talks to the same
``Dispatcher`` the web chat uses, as web-chat sessions. Scripts are generated from the base:

- ``followup``: for each procedure, a first question (an entry's question, and an alternative
  folded without diacritics), then one aspect-only follow-up for every other aspect the
  procedure has, written from the general list in ``bench/conversations.yaml`` (never from the
  entries). A follow-up passes when its reply is the reply a new citizen gets to the spelled-out
  question (the procedure's topic words + the same follow-up), same entry and decision, when
  that reply is a direct answer; when it is not (a retrieval miss), the follow-up passes if it
  is answered with the procedure's entry for that aspect. ``right``: answered with that entry
  (its label: id suffix, stated aspect, else inferred); ``spelled_right``: the same for the
  spelled-out question; ``no_wrong_answer``: not answered directly with another entry (a
  follow-up that agrees with a spelled-out question answered wrongly passes, but is wrong).
- ``procedure_only``: after an answer on aspect A, "còn <other procedure> thì sao" gets what
  "<other procedure> <A follow-up>" gets (the aspect is kept).
- ``switch``: after a conversation on one procedure, a question spelled out for another is
  answered as for a new citizen, and the next aspect-only follow-up is about the new procedure.
- ``expiry``: 16 minutes after the last question (the state row's clock is moved back), an
  aspect-only follow-up gets what it gets in a new chat (no memory).
- ``missing``: an aspect-only follow-up for an aspect the procedure has no entry for says so and
  offers only that procedure's entries (no direct answer from another entry).
- ``smalltalk``: small talk between turns gets its own decision and never the apology; the next
  aspect follow-up is still resolved against the procedure.
- ``progress``: a question about one's dossier, in a new chat and mid-conversation, offers the
  lookup.
- ``unrelated``: a question about something no base holds ("giá vàng hôm nay bao nhiêu"),
  mid-conversation, is not answered with the remembered procedure's entry.
- ``uncovered``: a question on a procedure the base lacks (a bundled one: "còn <its name> thì
  lệ phí bao nhiêu", "<its name> phải làm ở đâu"), mid-conversation, is not answered with the
  remembered procedure's entry.
- ``stats``: at the end, ``motcua stats --json`` on the same database lists none of the small
  talk or progress messages among unanswered questions.

For follow-ups, procedure-only follow-ups and unrelated questions the bench also prints how many
knowledge-base searches (``Index.search`` calls, the dispatcher's own search included) each
message took: the cost of reading a message against the dialogue memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bot.app import App  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.messages import Channel, ChatRef, Incoming  # noqa: E402
from handlers import texts, texts_dossier  # noqa: E402
from knowledge.aspects import aspect_weights, entry_aspects, is_aspect  # noqa: E402
from knowledge.entry import Entry  # noqa: E402
from knowledge.normalize import analyze, fold  # noqa: E402
from knowledge.search import Index  # noqa: E402
from knowledge.selfcal import foreign_entries  # noqa: E402
from storage.models import ChatStateRow, MessageLog  # noqa: E402

DATA = yaml.safe_load((ROOT / "bench" / "conversations.yaml").read_text(encoding="utf-8"))
APOLOGY = texts.FALLBACK.split("\n", 1)[0]
MISSING_START = texts.MISSING_ASPECT.split("«", 1)[0]
SECRET = secrets.token_hex(32)  # a fresh database per run: any key will do

SEARCHES = [0]
"""Knowledge-base searches run so far (``Index.search`` calls): per follow-up, the cost."""


def count_searches() -> None:
    """Count every ``Index.search`` call (the bench's own wrapper; nothing else changes)."""
    original = Index.search
    if getattr(original, "counted", False):
        return

    def search(self: Index, query: str, k: int = 5) -> object:
        SEARCHES[0] += 1
        return original(self, query, k)

    search.counted = True  # type: ignore[attr-defined]
    Index.search = search  # type: ignore[assignment,method-assign]


def default_bases() -> list[Path]:
    found = [ROOT.parent / "shared" / "eval" / "kb.yaml"]
    found += sorted((ROOT / "bench").glob("eval*/kb.yaml"))
    return [p for p in found if p.exists()]


@dataclass(frozen=True)
class Seen:
    """What one message got: the logged decision and entry, and the replies."""

    decision: str
    entry: str
    texts: tuple[str, ...]
    values: tuple[str, ...]
    labels: tuple[str, ...]
    searches: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.decision, self.entry)

    @property
    def apology(self) -> bool:
        return any(t.startswith(APOLOGY) for t in self.texts)


ASKED = "asked:"
"""Prefix of the per-aspect metrics of follow-ups (which aspects a base's follow-ups miss)."""


@dataclass
class Tally:
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failures: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    searches: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    """Per kind: how many follow-up messages took 1, 2, 3 ... searches."""

    def add(self, kind: str, ok: bool, detail: str, metric: str = "pass") -> None:
        self.counts[kind]["n" if metric == "pass" else f"n_{metric}"] += 1
        if ok:
            self.counts[kind][metric] += 1
        elif metric == "pass":
            self.failures[kind].append(detail)


class Chat:
    """The dispatcher as the web chat drives it, one session per ``chat_id``."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.events = 0
        self.chats = 0
        self.spelled: dict[str, Seen] = {}

    def new_chat(self) -> str:
        self.chats += 1
        return f"bench-{self.chats}"

    async def say(self, chat_id: str, text: str) -> Seen:
        async with self.app.sessions() as s:
            before = await s.scalar(select(func.max(MessageLog.id))) or 0
        self.events += 1
        chat = ChatRef(Channel.WEB, chat_id, chat_id)
        searched = SEARCHES[0]
        replies = await self.app.dispatcher.handle(Incoming(chat, f"ev{self.events}", text=text))
        searched = SEARCHES[0] - searched
        async with self.app.sessions() as s:
            row = (
                await s.execute(
                    select(MessageLog.decision, MessageLog.entry_id)
                    .where(MessageLog.id > before)
                    .order_by(MessageLog.id.desc())
                    .limit(1)
                )
            ).first()
        return Seen(
            row[0] if row else "",
            (row[1] or "") if row else "",
            tuple(r.text for r in replies),
            tuple(c.value for r in replies for c in r.choices),
            tuple(c.label for r in replies for c in r.choices),
            searched,
        )

    async def fresh(self, text: str) -> Seen:
        """What a new citizen gets for this text (cached: the same for every script)."""
        if text not in self.spelled:
            self.spelled[text] = await self.say(self.new_chat(), text)
        return self.spelled[text]

    async def age(self, chat_id: str, seconds: float) -> None:
        """Move the chat's dialogue memory back in time, as if the citizen had waited."""
        key = self.app.dispatcher.state_key(ChatRef(Channel.WEB, chat_id, chat_id))
        async with self.app.sessions() as s, s.begin():
            row = await s.get(ChatStateRow, (Channel.WEB.value, key))
            assert row is not None
            state = json.loads(row.state)
            dialogue = (state.get("memory") or {}).get("dialogue")
            if dialogue:
                dialogue["at"] -= seconds
            row.state = json.dumps(state)


# --- what the base holds ------------------------------------------------------------------


@dataclass(frozen=True)
class Procedure:
    key: str
    topic: str
    entries: tuple[Entry, ...]
    labels: dict[str, str]  # entry id -> aspect label

    def entries_for(self, aspect: str) -> list[Entry]:
        return [e for e in self.entries if self.labels[e.id] == aspect]

    @property
    def aspects(self) -> list[str]:
        return list(dict.fromkeys(self.labels[e.id] for e in self.entries))


def label(entry: Entry) -> str:
    suffix = entry.id.rsplit("/", 1)[-1]
    if suffix in DATA["id_labels"]:
        return str(DATA["id_labels"][suffix])
    if entry.aspect and is_aspect(entry.aspect):
        return entry.aspect
    inferred = entry_aspects(
        analyze(entry.question), [analyze(a) for a in entry.alternatives], entry.aspect
    )
    return sorted(inferred)[0] if len(inferred) == 1 else "other"


def topic_of(entries: tuple[Entry, ...]) -> str:
    """How citizens name the procedure: the keyword most of its entries share, else its name."""
    counts = Counter(k.strip().lower() for e in entries for k in e.keywords)
    enough = max(2, len(entries) // 2) if len(entries) > 1 else 1
    # Several words rather than an initialism ("an toàn thực phẩm" rather than "attp").
    shared = [(len(k.split()) > 1, n, k) for k, n in counts.items() if n >= enough]
    if shared:
        return max(shared)[2]
    name = entries[0].procedure or entries[0].question.rstrip("?")
    return name[0].lower() + name[1:]


def procedures(app: App) -> list[Procedure]:
    index = app.knowledge.index
    groups: dict[str, list[Entry]] = defaultdict(list)
    for e in index.entries:
        groups[index.group_of(e)].append(e)
    return [
        Procedure(k, topic_of(tuple(es)), tuple(es), {e.id: label(e) for e in es})
        for k, es in groups.items()
    ]


def family(aspect: str) -> set[str]:
    return next((set(f) for f in DATA["families"] if aspect in f), {aspect})


def phrasings(aspect: str, rng: random.Random, n: int) -> list[str]:
    """``n`` ways to ask the aspect: as written, then folded (no diacritics), alternately."""
    pool = list(DATA["follow_ups"][aspect])
    rng.shuffle(pool)
    out = []
    for i, p in enumerate(pool[:n]):
        out.append(p if i % 2 == 0 else fold(p))
    return out


def first_questions(p: Procedure, rng: random.Random) -> Iterator[tuple[Entry, str]]:
    """Each entry's question, and one alternative (or the question) folded."""
    for e in p.entries:
        yield e, e.question
        yield e, fold(rng.choice(e.alternatives) if e.alternatives else e.question)


# --- the scripts -----------------------------------------------------------------------------


def describe(s: Seen) -> str:
    return f"{s.decision or '-'}:{s.entry or '-'}"


async def run_base(path: Path, tally: Tally, per_aspect: int, seed: int) -> None:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="motcua-conv-") as tmp:
        kb_dir = Path(tmp) / "kb"
        kb_dir.mkdir()
        shutil.copy(path, kb_dir / "kb.yaml")
        db = Path(tmp) / "bench.sqlite3"
        url = f"sqlite+aiosqlite:///{db}"
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=url,
            secret_key=SecretStr(SECRET),
            kb_dir=kb_dir,
            web_rate_limit_per_minute=1_000_000,
            web_rate_limit_per_address_per_minute=1_000_000,
        )
        app = App.build(settings)
        await app.start(migrate_db=True, watch=False)
        try:
            chat = Chat(app)
            procs = [p for p in procedures(app) if len(p.entries) >= 2]
            await followups(chat, procs, tally, per_aspect, rng)
            await procedure_only(chat, procs, tally, rng)
            await switches(chat, procs, tally, rng)
            await expiry(chat, procs, tally, rng)
            await missing(chat, procs, tally, rng)
            await small_talk(chat, procs, tally, rng)
            await progress(chat, procs, tally, rng)
            await unrelated(chat, procs, tally, rng)
            await uncovered(chat, procs, tally, rng)
        finally:
            await app.close()
        stats_check(url, tally)


async def followups(
    chat: Chat, procs: list[Procedure], tally: Tally, per_aspect: int, rng: random.Random
) -> None:
    for p in procs:
        for first_entry, first in first_questions(p, rng):
            chat_id = chat.new_chat()
            opened = await chat.say(chat_id, first)
            tally.add(
                "first", opened.key == ("answer", first_entry.id), f"{first!r} {describe(opened)}"
            )
            start = p.labels[first_entry.id]
            for aspect in [a for a in p.aspects if a != start and a != "other"]:
                for text in phrasings(aspect, rng, per_aspect):
                    await check_followup(chat, p, chat_id, aspect, text, "followup", tally, first)


async def check_followup(
    chat: Chat,
    p: Procedure,
    chat_id: str,
    aspect: str,
    text: str,
    kind: str,
    tally: Tally,
    context: str,
) -> Seen:
    got = await chat.say(chat_id, text)
    spelled = await chat.fresh(f"{p.topic} {text}")
    right = got.decision == "answer" and got.entry in {e.id for e in p.entries_for(aspect)}
    # The spelled-out question answered directly is the reference; where even it is not
    # answered (a retrieval miss, not a memory one), the procedure's entry for the aspect is.
    ok = got.key == spelled.key if spelled.decision == "answer" else right
    detail = (
        f"[{p.topic}] after {context!r}: {text!r} -> {describe(got)}; "
        f"spelled {describe(spelled)}; want {aspect} {[e.id for e in p.entries_for(aspect)]}"
    )
    tally.add(kind, ok, detail)
    tally.searches[kind][got.searches] += 1
    tally.add(kind, ok, detail, metric="no_marks" if text == fold(text) else "marked")
    tally.add(kind, right, detail, metric="right")
    # Agreeing with the spelled-out question is not always right: both may answer another
    # entry. A direct answer with an entry not for the aspect asked is counted apart.
    wrong = got.decision == "answer" and not right
    tally.add(kind, not wrong, detail, metric="no_wrong_answer")
    tally.add(kind, ok, detail, metric=ASKED + aspect)
    tally.add(
        kind,
        spelled.decision == "answer" and spelled.entry in {e.id for e in p.entries_for(aspect)},
        detail,
        metric="spelled_right",
    )
    return got


async def procedure_only(
    chat: Chat, procs: list[Procedure], tally: Tally, rng: random.Random
) -> None:
    for p in procs:
        others = [o for o in procs if o is not p]
        rng.shuffle(others)
        for other in others:
            shared = [a for a in p.aspects if a in other.aspects and a != "other"]
            if not shared:
                continue
            aspect = rng.choice(shared)
            entry = p.entries_for(aspect)[0]
            chat_id = chat.new_chat()
            await chat.say(chat_id, entry.question)
            ask = rng.choice(DATA["procedure_only"]).format(topic=other.topic)
            got = await chat.say(chat_id, ask)
            phrase = rng.choice(DATA["follow_ups"][aspect])
            spelled = await chat.fresh(f"{other.topic} {phrase}")
            targets = {e.id for e in other.entries_for(aspect)}
            detail = (
                f"after {entry.question!r}: {ask!r} -> {describe(got)}; "
                f"spelled {describe(spelled)}; want {sorted(targets)}"
            )
            tally.add("procedure_only", got.decision == "answer" and got.entry in targets, detail)
            tally.searches["procedure_only"][got.searches] += 1
            break  # one other procedure per procedure


async def switches(chat: Chat, procs: list[Procedure], tally: Tally, rng: random.Random) -> None:
    for i, p in enumerate(procs):
        other = procs[(i + 1) % len(procs)]
        if other is p:
            continue
        chat_id = chat.new_chat()
        await chat.say(chat_id, p.entries[0].question)
        target = rng.choice(other.entries)
        got = await chat.say(chat_id, target.question)
        spelled = await chat.fresh(target.question)
        tally.add(
            "switch",
            got.key == spelled.key,
            f"{p.topic} -> {target.question!r}: {describe(got)} vs fresh {describe(spelled)}",
        )
        aspects_left = [a for a in other.aspects if a not in ("other", other.labels[target.id])]
        if aspects_left:
            aspect = rng.choice(aspects_left)
            text = phrasings(aspect, rng, 1)[0]
            got = await chat.say(chat_id, text)
            wrong = {e.id for e in p.entries}
            detail = f"{p.topic} -> {other.topic} then {text!r}: {describe(got)}"
            tally.add(
                "switch_followup",
                got.entry not in wrong
                and got.decision == "answer"
                and got.entry in {e.id for e in other.entries_for(aspect)},
                detail,
            )


async def expiry(chat: Chat, procs: list[Procedure], tally: Tally, rng: random.Random) -> None:
    for p in procs:
        aspects_left = [a for a in p.aspects[1:] if a != "other"]
        if not aspects_left:
            continue
        chat_id = chat.new_chat()
        first = p.entries[0]
        await chat.say(chat_id, first.question)
        text = phrasings(rng.choice(aspects_left), rng, 1)[0]
        await chat.age(chat_id, 16 * 60)
        got = await chat.say(chat_id, text)
        alone = await chat.fresh(text)
        tally.add(
            "expiry",
            got.key == alone.key,
            f"[{p.topic}] {text!r} 16 min later: {describe(got)} vs new chat {describe(alone)}",
        )
        # Within the time-out the same follow-up is still resolved (14 minutes).
        chat_id = chat.new_chat()
        await chat.say(chat_id, first.question)
        await chat.age(chat_id, 14 * 60)
        got = await chat.say(chat_id, text)
        tally.add(
            "expiry",
            got.decision == "answer" and got.entry in {e.id for e in p.entries},
            f"[{p.topic}] {text!r} 14 min later: {describe(got)}",
        )


async def missing(chat: Chat, procs: list[Procedure], tally: Tally, rng: random.Random) -> None:
    for p in procs:
        held = set().union(*(family(a) for a in p.aspects))
        # An aspect some answer of the procedure states plainly is held too (a place entry
        # that says "hoặc nộp trực tuyến" answers "làm online được không").
        for e in p.entries:
            held |= {a for a, v in aspect_weights(analyze(e.answer)).items() if v >= 3.0}
        lacking = [a for a in DATA["missing_candidates"] if a not in held]
        if not lacking:
            continue
        aspect = rng.choice(lacking)
        chat_id = chat.new_chat()
        await chat.say(chat_id, p.entries[0].question)
        text = phrasings(aspect, rng, 1)[0]
        got = await chat.say(chat_id, text)
        own = {e.id for e in p.entries}
        offered = {v for v in got.values if v.startswith("e:")}
        said = any(t.startswith(MISSING_START) for t in got.texts)
        ok = said and got.decision != "answer" and bool(offered)
        labels_own = all(
            lbl in {e.question for e in p.entries}
            for lbl in got.labels
            if lbl in {e.question for pp in procs for e in pp.entries}
        )
        tally.add(
            "missing",
            ok and labels_own,
            f"[{p.topic}] lacks {aspect}: {text!r} -> {describe(got)} {got.texts[0][:70]!r}",
        )
        tally.add(
            "missing",
            got.entry not in own or got.decision != "answer",
            "",
            metric="no_wrong_answer",
        )


async def small_talk(chat: Chat, procs: list[Procedure], tally: Tally, rng: random.Random) -> None:
    lines = [(kind, t) for kind, ts in DATA["small_talk"].items() for t in ts]
    for text_kind, text in lines:
        for form in (text, fold(text)):
            got = await chat.fresh(form)
            # Its own reply, or an entry of the base that answers it (a base may hold "how to
            # reach a person"); never the apology, never an unanswered question.
            ok = got.decision in ("smalltalk", "answer") and not got.apology
            tally.add(
                "smalltalk", ok, f"{text_kind}: {form!r} -> {describe(got)} {got.texts[0][:60]!r}"
            )
    # Between the turns of a conversation: the memory survives small talk.
    for i, p in enumerate(procs):
        aspects_left = [a for a in p.aspects[1:] if a != "other"]
        if not aspects_left:
            continue
        chat_id = chat.new_chat()
        await chat.say(chat_id, p.entries[0].question)
        text_kind, text = lines[i % len(lines)]
        got = await chat.say(chat_id, text)
        tally.add(
            "smalltalk_between",
            got.decision in ("smalltalk", "answer") and not got.apology,
            f"{text!r} -> {describe(got)}",
        )
        aspect = rng.choice(aspects_left)
        follow = phrasings(aspect, rng, 1)[0]
        await check_followup(
            chat, p, chat_id, aspect, follow, "followup_after_smalltalk", tally, text
        )


def offers_lookup(got: Seen) -> bool:
    """The reply asks for the dossier code (the lookup), and never with the apology."""
    return texts_dossier.ASK_CODE in got.texts and not got.apology


async def progress(chat: Chat, procs: list[Procedure], tally: Tally, rng: random.Random) -> None:
    for text in DATA["progress"]:
        for form in (text, fold(text)):
            got = await chat.fresh(form)
            tally.add(
                "progress", offers_lookup(got), f"{form!r} -> {describe(got)} {got.texts[0][:60]!r}"
            )
            chat_id = chat.new_chat()
            await chat.say(chat_id, rng.choice(procs).entries[0].question)
            got = await chat.say(chat_id, form)
            tally.add(
                "progress",
                offers_lookup(got),
                f"mid-conversation {form!r} -> {describe(got)} {got.texts[0][:60]!r}",
            )


async def unrelated(chat: Chat, procs: list[Procedure], tally: Tally, rng: random.Random) -> None:
    """An unrelated question mid-conversation is not answered with the procedure's entry."""
    for i, p in enumerate(procs):
        chat_id = chat.new_chat()
        await chat.say(chat_id, p.entries[0].question)
        text = DATA["unrelated"][i % len(DATA["unrelated"])]
        for form in (text, fold(text)):
            got = await chat.say(chat_id, form)
            own = {e.id for e in p.entries}
            ok = not (got.decision == "answer" and got.entry in own)
            tally.add("unrelated", ok, f"[{p.topic}] {form!r} -> {describe(got)}")
            tally.searches["unrelated"][got.searches] += 1


async def uncovered(chat: Chat, procs: list[Procedure], tally: Tally, rng: random.Random) -> None:
    """A question on a procedure the base lacks, mid-conversation, is not answered with the
    remembered procedure's entry (one in three typed without diacritics)."""
    entries = [e for p in procs for e in p.entries]
    names = sorted({e.procedure for e in foreign_entries(entries, catalogue=()) if e.procedure})
    if not names:
        return
    for p in procs:
        for turn in range(3):
            chat_id = chat.new_chat()
            await chat.say(chat_id, p.entries[0].question)
            name = rng.choice(names)
            text = rng.choice(DATA["uncovered"]).format(name=name[0].lower() + name[1:])
            if turn == 2:
                text = fold(text)
            got = await chat.say(chat_id, text)
            own = {e.id for e in p.entries}
            ok = not (got.decision == "answer" and got.entry in own)
            tally.add("uncovered", ok, f"[{p.topic}] {text!r} -> {describe(got)}")
            tally.searches["uncovered"][got.searches] += 1


def stats_check(url: str, tally: Tally) -> None:
    """``motcua stats --json`` on the bench's database: no small talk or progress question among
    the unanswered questions."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET}
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "motcua"), "stats", "--json"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    data = json.loads(out.stdout)
    unanswered = [q["text"] if isinstance(q, dict) else str(q) for q in data["faq"]["unanswered"]]
    listed = {fold(q).strip(" ?") for q in unanswered}
    talk = [t for ts in DATA["small_talk"].values() for t in ts] + list(DATA["progress"])
    for t in talk:
        tally.add("stats", fold(t).strip(" ?") not in listed, f"{t!r} listed as unanswered")


def report(name: str, tally: Tally, show: int) -> None:
    print(f"== {name}")
    total = Counter[str]()
    for kind, c in tally.counts.items():
        extra = "".join(
            f"  {m} {c[m] / c['n_' + m]:.3f}"
            for m in ("right", "spelled_right", "no_wrong_answer", "marked", "no_marks")
            if c.get("n_" + m)
        )
        print(f"  {kind:<26} {c['pass'] / c['n']:.3f}  ({c['pass']}/{c['n']}){extra}")
        asked = sorted(m[2 + len(ASKED) :] for m in c if m.startswith("n_" + ASKED))
        if asked:
            rates = "  ".join(f"{a} {c[ASKED + a] / c['n_' + ASKED + a]:.2f}" for a in asked)
            print(f"  {'':<26} by aspect asked: {rates}")
        if kind != "first":
            total["pass"] += c["pass"]
            total["n"] += c["n"]
        spread = tally.searches.get(kind)
        if spread:
            n = sum(spread.values())
            mean = sum(k * v for k, v in spread.items()) / n
            shares = ", ".join(f"{k}: {v / n:.2f}" for k, v in sorted(spread.items()))
            print(f"  {'':<26} searches per message {mean:.2f} ({shares})")
        for line in tally.failures[kind][:show]:
            print(f"      x {line}")
    if total["n"]:
        rate = total["pass"] / total["n"]
        print(f"  {'overall (without first)':<26} {rate:.3f}  ({total['pass']}/{total['n']})")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--kb",
        type=Path,
        action="append",
        help="knowledge file (repeatable); default: every evaluation base",
    )
    ap.add_argument(
        "--per-aspect",
        type=int,
        default=2,
        help="follow-up phrasings per aspect and first question",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=0, help="failures to print per kind")
    ap.add_argument(
        "--follow-ups",
        type=Path,
        help="YAML with another follow_ups list (aspect -> phrasings), e.g. one written blind",
    )
    args = ap.parse_args()
    if args.follow_ups:
        other = yaml.safe_load(args.follow_ups.read_text(encoding="utf-8"))["follow_ups"]
        DATA["follow_ups"].update({a: list(v) for a, v in other.items() if v})
    count_searches()
    everything = Tally()
    for path in args.kb or default_bases():
        tally = Tally()
        asyncio.run(run_base(path, tally, args.per_aspect, args.seed))
        report(
            str(path.relative_to(ROOT.parent) if path.is_relative_to(ROOT.parent) else path),
            tally,
            args.show,
        )
        for kind, c in tally.counts.items():
            everything.counts[kind].update(c)
        for kind, spread in tally.searches.items():
            everything.searches[kind].update(spread)
    report("all bases", everything, 0)


if __name__ == "__main__":
    main()
