"""Answering questions from the knowledge base, and the citizen's verdict on an answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.messages import Choice, Outcome, Reply
from handlers import answer_footer, catalog, dossier, followup, memory, texts, texts_feedback
from handlers.buttons import EntryButton, Helpful, Menu, ReflectionButton, TripSaved
from handlers.common import menu_choice, stale_outcome
from handlers.context import Context
from handlers.reflections import offer_reply
from knowledge import intents
from knowledge.aspects import ASPECT_LABELS
from knowledge.entry import Entry
from knowledge.search import Decision, Match, SearchResult
from storage.repositories import messages as message_repo

MAX_RELATED = 3
MAX_SUGGESTIONS = 3
MAX_GROUP = 6
MAX_FIELDS = 20
STRANGE_WEIGHT = 1.0
"""Weight of words no entry of the base uses (``followup.unknown_weight``) from which a
follow-up reading is only offered as a suggestion, never answered outright."""
UNRELATED_WEIGHT = 2.0
"""... and from which a question is not read as a follow-up at all."""
OFF_TOPIC_WEIGHT = 1.5
"""Weight of words neither the remembered procedure nor common public-service language uses
(``followup.off_topic_weight``) from which a question retrieval cannot place is not read as
a follow-up ("đổi tiền mới ăn tết ở đâu"; "lấy kết quả kiểu gì" has 1.0)."""
FOREIGN_WEIGHT = 0.5
"""Distinctive weight (``Index.weight``) of words that another procedure uses and the
remembered one does not, from which a question is about that other procedure ("xe máy hết bao
nhiêu tiền" after a marriage question) rather than a follow-up ("còn hồ sơ thì cần những gì":
"còn" only folds to "con", a word of birth registration)."""
MOVE_WEIGHT = 2.5
"""Distinctive weight of words the remembered procedure never uses that an answered message
must hold to move the conversation to the answer's procedure when it names none as citizens
name them ("Thi rớt phần thực hành thì có phải thi lại lý thuyết không?" has 3.7; "sau mấy
tháng thì giấy đó không còn xài được nữa à" typed without marks, 1.5)."""


BACK_FOLLOWS = True
"""A message that speaks of doing "it" (``followup.refers_back``: "giờ muốn làm thì phải về
dưới quê nộp hay nộp ngay trên này") is read as a follow-up whatever words tell the citizen's
situation: words no text uses ("Cái Răng", ``UNRELATED_WEIGHT``) or words of other subjects
("hộ khẩu dưới Long Mỹ", ``OFF_TOPIC_WEIGHT``). Words no text uses still make its reading a
suggestion (``STRANGE_WEIGHT``)."""

STORIES_FOLLOW = True
"""A long message that asks an aspect clearly is read as a follow-up though it holds everyday
words no public-service text uses (``followup.tells_a_story``), unless it names an everyday
subject outside public services. Measured: bench/followups_blind2.yaml read half 0.802 ->
0.856, bench/followups_blind.yaml 0.883 -> 0.887, unread half and the bench's own list
unchanged; unrelated questions, four long ones added, 0.900 either way."""
KEEP_ON_FALLBACK = True
"""A message that falls back keeps the remembered procedure unless it names another procedure
of the base in citizens' words (``followup.named_procedure``) or an everyday subject ("giá vàng
hôm nay": ``followup.names_everyday_subject``): retrieval's ``named`` also comes
from everyday words that some entry uses ("đang ở trọ tỉnh khác ... hay phải về quê"), and a
follow-up that was not understood must not end the conversation. Measured with the blind
follow-up sets (``bench/conversations.py --follow-ups``): bench/followups_blind.yaml 0.865 ->
0.883; bench/followups_blind2.yaml, half read 0.456 -> 0.712, half unread 0.792 -> 0.799 (one
misread follow-up no longer sends every later one to another procedure); the bench's own list,
switches and unrelated questions unchanged."""


def small_talk_left(result: SearchResult, question: str) -> intents.Intent | None:
    """Chatter the intents did not recognise (``intents.chatter``): the knowledge base found
    nothing for it and no procedure was named, so it gets a friendly small-talk reply rather
    than "not covered", and is not logged as an unanswered question."""
    if result.decision is not Decision.FALLBACK or result.missing_aspect or result.named:
        return None
    return intents.chatter(question)


def small_talk_in_chat(
    result: SearchResult, question: str, remembered: bool
) -> intents.Intent | None:
    """What the chat takes for chatter after searching: ``small_talk_left``, and also, when no
    procedure is remembered, chatter the base matched only through everyday words, naming no
    procedure ("đi ngủ đây", "mừng quá", "để lát em hỏi", "đúng rồi" answered or suggested
    entries on military service, a centenarian's gift, building permits): a message that
    asks nothing and names no topic or aspect (``intents.chatter``) cannot be what an entry
    answers. With a procedure remembered the search read the message against it (a
    follow-up), so only the fall-back rule holds. ``motcua ask`` keeps ``small_talk_left``:
    its decisions are the retrieval figures."""
    found = small_talk_left(result, question)
    if found is not None or remembered or result.named or result.missing_aspect:
        return found
    return intents.chatter(question)


def _guessed_away(ctx: Context, key: str) -> bool:
    """Whether a suggestion of procedure ``key`` would move the dialogue memory away from
    another remembered procedure."""
    recalled = memory.recall(ctx.state)
    return recalled is not None and recalled.procedure != key


def _stays(ctx: Context, question: str, entry: Entry, key: str) -> bool:
    """Whether an answer (``entry``, of procedure ``key``) leaves the conversation on the
    remembered procedure: the entry is not of its family, and the message names neither ``key``
    as citizens name it nor much the remembered procedure never uses. Each follow-up is about
    the same procedure until the citizen names another; an answer the words happened to fit
    elsewhere is not that ("sau may thang thi giay do khong con xai duoc nua a" after a lost
    passport: "giay do" is also the land title)."""
    recalled = memory.recall(ctx.state)
    if recalled is None or recalled.procedure == key:
        return False
    members = followup.related_entries(ctx.index, recalled.procedure, recalled.entry_id)
    if entry in members or followup.named_procedure(ctx.index, question) == key:
        return False  # the same procedure's family ("cấp lại" of an ID card), or named
    return followup.foreign_weight(ctx.index, question, members, None) < MOVE_WEIGHT


def _related(ctx: Context, entry: Entry, result: SearchResult | None) -> list[Entry]:
    """Other matches first (they are what the question was near), then the same procedure."""
    found: list[Entry] = []
    if result is not None:
        floor = ctx.index.thresholds.suggest
        found += [m.entry for m in result.matches[1:] if m.score >= floor]
    if entry.procedure:
        found += [e for e in ctx.index.entries if e.procedure == entry.procedure]
    unique = [e for e in dict.fromkeys(found) if e.id != entry.id]
    return unique[:MAX_RELATED]


async def _answer(
    ctx: Context, entry: Entry, question: str, score: float | None, result: SearchResult | None
) -> Outcome:
    message_id = await ctx.record_question(question, Decision.ANSWER.value, entry.id, score)
    related = tuple(
        Choice(e.question, catalog.entry_value(e)) for e in _related(ctx, entry, result)
    )
    replies = [Reply(await answer_footer.answer_text(ctx, entry))]
    if related:
        replies.append(Reply(texts.RELATED, related))
    replies.append(
        Reply(
            texts.WAS_IT_HELPFUL,
            (
                Choice(texts.HELPFUL_YES, Helpful(message_id, True).pack()),
                Choice(texts.HELPFUL_NO, Helpful(message_id, False).pack()),
            ),
        )
    )
    # Answering a question ends any flow (a lookup left half-way, for instance).
    state = ctx.state.evolve(last_entry=entry.id, flow=None)
    key = ctx.index.group_of(entry)
    # What the citizen got is what a follow-up naming only another procedure asks again.
    aspect = followup.main_aspect(entry) or (result.aspect if result is not None else "")
    if result is not None and not result.named and _stays(ctx, question, entry, key):
        return Outcome(tuple(replies), state, Decision.ANSWER.value)
    state = memory.remember(state, key, ctx.index.group_name(key), entry.id, aspect)
    return Outcome(tuple(replies), state, Decision.ANSWER.value)


def resolve(ctx: Context, question: str) -> SearchResult:
    """Search, reading a question against the dialogue memory when it names only an aspect or
    only a procedure.

    "còn lệ phí thì sao?" after a question on unemployment benefit is the fee entry of that
    procedure (``handlers/followup.py``: procedure × aspect), or a plain "no information on the
    fee" with the procedure's entries when it has none. "còn lý lịch tư pháp thì sao" after a
    fee question is the fee entry of that procedure. A question that asks no clear aspect is
    searched as the same words plus the remembered procedure's name, and that reading is kept
    when it lands on the remembered procedure.
    """
    result = ctx.index.search(question, k=5)
    recalled = memory.recall(ctx.state)
    if recalled is None:
        return result
    members = followup.related_entries(ctx.index, recalled.procedure, recalled.entry_id)
    best = result.best
    rival = best.entry if best is not None and best.entry not in members else None
    # "bả không có hộ khẩu ở đây thì có được làm không": doing "it", the procedure talked
    # about; the residence it names is her situation, not another procedure asked about.
    back = followup.refers_back(ctx.index, question) or followup.describes_asker(
        ctx.index, question
    )
    other = "" if back else followup.named_procedure(ctx.index, question)
    if other and other != recalled.procedure:
        if best is not None and ctx.index.group_of(best.entry) == other:
            # Another procedure, named as citizens name it, and retrieval ranks it first
            # ("bảo hiểm y tế hộ gia đình đóng bao nhiêu" after a question on residence): a
            # new question, or that procedure with the remembered aspect.
            return _procedure_only(ctx, question, result, recalled)
        # ... that retrieval did not rank first ("vậy tiền già thì sao ạ"): the aspect asked,
        # else the remembered one, of that procedure.
        named_only = _named_only(ctx, question, other, recalled, members)
        if named_only is not None:
            return named_only
    if rival is None and result.named and result.decision is Decision.ANSWER:
        # A whole question on the remembered procedure: answered as a new citizen's would be.
        return result
    named = followup.foreign_weight(ctx.index, question, members, rival) if rival else 0.0
    # A message made only of aspect cues and generic words names no procedure, whatever base
    # keyword it matches ("có nộp qua mạng được không" hits the keyword "nộp trực tuyến" of
    # another procedure's place entry): it is a follow-up.
    if (
        result.named
        and not back
        and (
            followup.foreign_weight(ctx.index, question, members, None) >= FOREIGN_WEIGHT
            or (
                rival is not None
                and result.decision is Decision.ANSWER
                and followup.names_a_topic(ctx.index, question)
            )
        )
    ):
        return _procedure_only(ctx, question, result, recalled)
    if named >= FOREIGN_WEIGHT and result.decision is not Decision.FALLBACK and not back:
        if not other and followup.asked_aspect(ctx.index, question):
            # Words of another entry, but no procedure named as citizens name it, and an
            # aspect asked ("nộp tại trung tâm phục vụ hành chính công hay ở đâu" matches the
            # place entry of a licence that names the centre): when the reading with the
            # remembered procedure spelled out answers one of its entries, that is the answer.
            spelled = ctx.index.search(f"{_topic_words(ctx, recalled)} {question}", k=5)
            if (
                spelled.decision is Decision.ANSWER
                and spelled.best is not None
                and _same_procedure(ctx, spelled.best.entry, recalled)
            ):
                return replace(spelled, named=False)
        return result  # "xe máy hết bao nhiêu tiền" after a marriage question
    unknown = followup.unknown_weight(ctx.index, question)
    follows_back = BACK_FOLLOWS and back
    if unknown >= UNRELATED_WEIGHT and not follows_back:
        return result  # "đi Đà Lạt mất mấy ngày": about something no entry speaks of
    if (
        result.decision is not Decision.ANSWER
        and not follows_back
        and followup.off_topic_weight(ctx.index, question, members) >= OFF_TOPIC_WEIGHT
        and not (STORIES_FOLLOW and followup.tells_a_story(ctx.index, question))
    ):
        # "đổi tiền mới ăn tết ở đâu": words of another subject, which retrieval does not
        # answer (it falls back, or only suggests a place entry that shares "đổi", "ở đâu").
        return result
    # The aspect asked, among the remembered procedure's entries: when one entry answers it,
    # or none does and no entry of the procedure is vague enough to hold it, that is decided
    # without searching again.
    aspect = followup.asked_aspect(ctx.index, question)
    if followup.decided_without_search(members, aspect):
        scoped = followup.within(
            ctx.index, recalled.procedure, aspect, question, result, recalled.entry_id
        )
        landed: SearchResult | None = None
        follow: SearchResult | None = None
    else:
        # Read the question with the procedure named as citizens name it (one more search);
        # keep that reading when it lands on the remembered procedure.
        follow = ctx.index.search(f"{_topic_words(ctx, recalled)} {question}", k=5)
        best = follow.best
        lands = (
            best is not None
            and _same_procedure(ctx, best.entry, recalled)
            and (follow.decision is not Decision.FALLBACK or follow.missing_aspect)
        )
        landed = follow if lands else None
        scoped = followup.within(
            ctx.index, recalled.procedure, aspect, question, follow, recalled.entry_id
        )
    read = scoped or landed or result
    if read is result and follow is not None and not followup.names_a_topic(ctx.index, question):
        # Nothing but an aspect ("có phải đóng tiền không ạ"): what the question gets with the
        # procedure spelled out, never another procedure's entry the bare words happen to fit.
        if follow.best is not None and not _same_procedure(ctx, follow.best.entry, recalled):
            # Spelled out, it still lands on another procedure (a close neighbour: "hộ thoát
            # nghèo" after "hộ nghèo"): the remembered procedure's entries are offered, ranked
            # by that reading, rather than the conversation moving to the neighbour.
            read = _offer(question, follow, members, recalled.procedure)
        else:
            read = replace(follow, named=False)  # the procedure named is the one remembered
    if read is not result and unknown >= STRANGE_WEIGHT:
        # A word no public-service text uses ("điện thoại iphone mới giá nhiêu", or a typo):
        # perhaps not a follow-up at all. Offer the procedure's entry rather than answer with
        # it, and never say the procedure lacks what the question may not be about.
        if read.missing_aspect:
            return result
        if read.decision is Decision.ANSWER:
            return replace(read, decision=Decision.SUGGEST)
    return read


def _offer(
    question: str, ranked: SearchResult, members: Sequence[Entry], procedure: str
) -> SearchResult:
    """A procedure's entries offered as suggestions, those ``ranked`` scored first."""
    scores = {m.entry.id: m.score for m in ranked.matches}
    order = sorted(members, key=lambda e: -scores.get(e.id, 0.0))
    return SearchResult(
        question,
        Decision.SUGGEST,
        tuple(Match(e, scores.get(e.id, 0.0)) for e in order[:MAX_SUGGESTIONS]),
        procedure=procedure,
        named=False,
    )


def _procedure_only(
    ctx: Context, question: str, result: SearchResult, recalled: memory.DialogueMemory
) -> SearchResult:
    """A question that names a procedure but asks no aspect ("còn khai tử thì sao") keeps the
    remembered aspect, unless it also says which case it is about and retrieval answers that
    ("đăng ký kết hôn với người nước ngoài": words beyond the procedure's common ones)."""
    best = result.best
    if best is None or not recalled.aspect or followup.asked_aspect(ctx.index, question):
        return result
    if result.decision is Decision.FALLBACK and not result.missing_aspect:
        return result  # a procedure the base does not cover
    key = result.procedure or ctx.index.group_of(best.entry)
    if result.decision is Decision.ANSWER and (
        followup.asks_own_question(question)
        or followup.special_weight(ctx.index, question, ctx.index.group_entries(key))
    ):
        return result
    scoped = followup.within(ctx.index, key, recalled.aspect, question, result, best.entry.id)
    if scoped is None or scoped.missing_aspect:
        return result
    return scoped


def _named_only(
    ctx: Context,
    question: str,
    key: str,
    recalled: memory.DialogueMemory,
    members: tuple[Entry, ...],
) -> SearchResult | None:
    """The entry of procedure ``key`` for the aspect the question asks, else for the remembered
    aspect; ``None`` when there is none, or when the name is also a case of the remembered
    procedure ("người nước ngoài" after a marriage question is its foreign case)."""
    entries = ctx.index.group_entries(key)
    if not entries or followup.says(members, followup.citizen_name(entries)):
        return None
    asked = followup.asked_aspect(ctx.index, question)
    scoped = followup.within(
        ctx.index, key, asked or recalled.aspect, question, None, entries[0].id
    )
    if scoped is None or (scoped.missing_aspect and not asked):
        return None
    return scoped


def _topic_words(ctx: Context, recalled: memory.DialogueMemory) -> str:
    """The words that name the remembered procedure the way citizens do
    (``followup.citizen_name``), else its name as the base gives it."""
    members = ctx.index.group_entries(recalled.procedure)
    return followup.citizen_name(members) or recalled.name


def _same_procedure(ctx: Context, entry: Entry, recalled: memory.DialogueMemory) -> bool:
    """Same procedure group, or same family of ids ("can-cuoc/..."): bases name one procedure
    in several ways ("Cấp lại thẻ căn cước", "Cấp đổi, cấp lại thẻ căn cước")."""
    if ctx.index.group_of(entry) == recalled.procedure:
        return True
    return entry.id.split("/", 1)[0] == recalled.entry_id.split("/", 1)[0]


def _names_itself(ctx: Context, question: str) -> bool:
    """Whether the message names the procedure its suggestions are about by itself, not only
    through the dialogue memory: "cho em gặp nhân viên" after a question on ID cards asks for a
    person, and offering ID-card entries instead would ignore it."""
    if memory.recall(ctx.state) is None:
        return True
    plain = ctx.index.search(question, k=5)
    return plain.decision is not Decision.FALLBACK and plain.named


async def answer_question(ctx: Context) -> Outcome:
    """Small talk and dossier questions first; then searches the knowledge base and answers,
    suggests close questions of the same procedure, or falls back."""
    question = ctx.incoming.text.strip()
    intent = intents.detect(question)
    result: SearchResult | None = None
    if intent is not None and intent.name in intents.YIELDS_TO_ANSWER:
        # "Sao làm thừa kế lâu vậy?" vents, but the base answers it: the answer helps more.
        result = resolve(ctx, question)
        intent = intents.applies(
            intent,
            result.decision is Decision.ANSWER,
            result.decision is Decision.SUGGEST and result.named and _names_itself(ctx, question),
        )
    if intent is not None:
        return await _intent_outcome(ctx, intent, question)
    result = result or resolve(ctx, question)
    best = result.best
    if result.missing_aspect and best is not None:
        return await _missing_aspect(ctx, result, question)
    chatter = small_talk_in_chat(result, question, memory.recall(ctx.state) is not None)
    if chatter is not None:
        return await _intent_outcome(ctx, chatter, question)
    if result.decision is Decision.ANSWER and best is not None:
        return await _answer(ctx, best.entry, question, best.score, result)
    key = ctx.index.group_of(best.entry) if best is not None else ""
    groups = {ctx.index.group_of(m.entry) for m in result.matches[:MAX_SUGGESTIONS]}
    # Suggestions only from the best candidate's procedure, and only when the question names
    # it or the close candidates agree on it: never a guess among unrelated procedures.
    if (
        result.decision is Decision.SUGGEST
        and best is not None
        and (result.named or groups == {key})
    ):
        await ctx.record_question(question, Decision.SUGGEST.value, best.entry.id, best.score)
        same = [m for m in result.matches if ctx.index.group_of(m.entry) == key]
        choices = (
            *tuple(
                Choice(m.entry.question, catalog.entry_value(m.entry))
                for m in same[:MAX_SUGGESTIONS]
            ),
            Choice(texts.NONE_OF_THESE, Menu("none").pack()),
        )
        # The citizen is asking about that procedure (every suggestion is of it): a follow-up
        # ("nộp ở đâu") is about it too. But a guess at another procedure than the remembered
        # one, from a message that names none, does not move the conversation there.
        state = ctx.state
        if result.named or not _guessed_away(ctx, key):
            state = memory.remember(
                ctx.state, key, ctx.index.group_name(key), best.entry.id, result.aspect
            )
        return Outcome((Reply(texts.DID_YOU_MEAN, choices),), state, Decision.SUGGEST.value)
    await ctx.record_question(
        question,
        Decision.FALLBACK.value,
        best.entry.id if best else None,
        best.score if best else None,
    )
    outcome = replace(out_of_scope_outcome(ctx), decision=Decision.FALLBACK.value)
    if result.named and (
        not KEEP_ON_FALLBACK
        or followup.named_procedure(ctx.index, question)
        or followup.names_everyday_subject(question)
    ):  # another procedure or subject was named: the earlier one is no longer the topic
        return replace(outcome, next_state=memory.forget(outcome.next_state))
    return outcome


async def _intent_outcome(ctx: Context, intent: intents.Intent, question: str) -> Outcome:
    """A short fitting reply to small talk; the dossier lookup for a progress question."""
    text = intents.reply(intent, ctx.hotline)
    if intent.name == "progress":
        await ctx.record_question(question, intents.PROGRESS_DECISION, None, None)
        lookup = await dossier.ask_code(ctx)
        return Outcome((Reply(text), *lookup.replies), lookup.next_state, intents.PROGRESS_DECISION)
    await ctx.record_question(question, intents.SMALL_TALK_DECISION, None, None)
    choices: tuple[Choice, ...] = ()
    if intent.name == "complaint":
        choices = (
            Choice(texts.MENU_DOSSIER, Menu("dossier").pack()),
            menu_choice(texts.BACK_TO_MENU),
        )
    return Outcome((Reply(text, choices),), ctx.state, intents.SMALL_TALK_DECISION)


async def _missing_aspect(ctx: Context, result: SearchResult, question: str) -> Outcome:
    """The procedure is known but not the aspect asked: say so, offer its entries."""
    await ctx.record_question(question, Decision.FALLBACK.value, None, None)
    entries = ctx.index.group_entries(result.procedure)
    name = ctx.index.group_name(result.procedure)
    text = texts.MISSING_ASPECT.format(
        procedure=name, aspect=ASPECT_LABELS.get(result.aspect, "nội dung này"), hotline=ctx.hotline
    )
    choices = tuple(Choice(e.question, catalog.entry_value(e)) for e in entries[:MAX_GROUP])
    first = entries[0].id if entries else ""
    state = memory.remember(ctx.state, result.procedure, name, first, result.aspect)
    return Outcome((Reply(text, choices),), state, Decision.FALLBACK.value)


def out_of_scope_outcome(ctx: Context) -> Outcome:
    """A plain "not covered" that says what the assistant covers, with where else to ask."""
    fields = sorted({e.category for e in ctx.index.entries if e.category})
    shown = ", ".join(fields[:MAX_FIELDS]) + (", …" if len(fields) > MAX_FIELDS else "")
    text = texts.OUT_OF_SCOPE.format(fields=shown or "thủ tục hành chính", hotline=ctx.hotline)
    choices = (Choice(texts.MENU_BROWSE, Menu("browse").pack()), menu_choice(texts.BACK_TO_MENU))
    return Outcome((Reply(text, choices),), ctx.state)


def fallback_outcome(ctx: Context) -> Outcome:
    choices = (Choice(texts.MENU_BROWSE, Menu("browse").pack()), menu_choice(texts.BACK_TO_MENU))
    return Outcome((Reply(texts.FALLBACK.format(hotline=ctx.hotline), choices),), ctx.state)


async def none_of_these(ctx: Context) -> Outcome:
    """The suggestions missed: say so and offer the other ways to get help."""
    return fallback_outcome(ctx)


async def show_entry(ctx: Context) -> Outcome:
    """Answers with the entry behind a tapped suggestion, related question or topic."""
    button = EntryButton.parse(ctx.incoming.choice)
    entry = catalog.find_entry(ctx.index, button.ref) if button else None
    if entry is None:
        return stale_outcome(ctx)
    return await _answer(ctx, entry, entry.question, None, None)


async def answer_feedback(ctx: Context) -> Outcome:
    """Stores whether an answer helped; each answer can be rated once, by its asker."""
    button = Helpful.parse(ctx.incoming.choice)
    if button is None:
        return stale_outcome(ctx)
    message_id, helpful = button.message, button.helpful
    owner = await message_repo.message_owner(ctx.session, message_id)
    if owner is None or owner[0] != ctx.user_hash:
        return stale_outcome(ctx)
    stored = await message_repo.add_answer_feedback(
        ctx.session,
        message_id=message_id,
        channel=ctx.incoming.chat.channel.value,
        user_hash=ctx.user_hash,
        entry_id=owner[1],
        helpful=helpful,
    )
    if not stored:
        return Outcome((Reply(texts.ALREADY_RATED),), ctx.state)
    if not helpful:
        thanks = Reply(texts.THANKS_NOT_HELPFUL.format(hotline=ctx.hotline))
        # a reflection the city must answer
        return Outcome((thanks, offer_reply(ReflectionButton("m", message_id))), ctx.state)
    trip = Reply(
        texts_feedback.ASK_TRIP,
        (
            Choice(texts_feedback.TRIP_YES, TripSaved(message_id, True).pack()),
            Choice(texts_feedback.TRIP_NO, TripSaved(message_id, False).pack()),
        ),
    )
    return Outcome((Reply(texts.THANKS_HELPFUL), trip), ctx.state)
