"""/chuatraloi: the unanswered-questions inbox, grouped, each group made a phrasing, a new
entry, or ignored.
"""

from __future__ import annotations

from bot.messages import Choice, Outcome, Reply
from handlers import texts_admin as t
from handlers.admin.edit import alternative_preview, start_new_entry
from handlers.admin.flow import (
    audit_action,
    local_time,
    ref_of,
    resolve_ref,
    say,
    short_label,
    stale,
)
from handlers.buttons import (
    AdminGroup,
)
from handlers.context import Context
from storage.repositories import inbox

MAX_VARIANTS = 5
MAX_INBOX_GROUPS = 10


async def show_inbox(ctx: Context) -> Outcome:
    """/chuatraloi: open groups of unanswered questions, most asked first."""
    groups = await inbox.open_groups(ctx.session)
    if not groups:
        return say(ctx, t.INBOX_EMPTY)
    shown = groups[:MAX_INBOX_GROUPS]
    lines = [t.INBOX_HEAD.format(groups=len(groups), questions=sum(g.count for g in groups))]
    choices = []
    for n, g in enumerate(shown, start=1):
        text = short_label(g.representative)
        lines.append(t.INBOX_LINE.format(n=n, text=text, count=g.count, at=local_time(g.newest)))
        label = short_label(t.INBOX_BUTTON.format(n=n, text=g.representative, count=g.count))
        choices.append(Choice(label, AdminGroup("v", g.key).pack()))
    return say(ctx, "\n".join(lines), *choices)


async def group_button(ctx: Context) -> Outcome:
    """A group: view it with the 3 nearest entries, make it a phrasing or a new entry, ignore it."""
    pressed = AdminGroup.parse(ctx.incoming.choice)
    if pressed is None:
        return await stale(ctx)
    verb = pressed.verb
    g = inbox.find(await inbox.open_groups(ctx.session), pressed.key)
    if g is None:
        return say(ctx, t.GROUP_GONE)
    if verb == "v":
        return _group_view(ctx, g)
    if verb == "a" and pressed.ref is not None:
        entry = await resolve_ref(ctx, pressed.ref)
        if entry is None:
            return await stale(ctx)
        return alternative_preview(ctx, entry, g.representative, g.key, g.members)
    if verb == "n":
        return await start_new_entry(ctx, g.representative, g.key, g.members)
    if verb == "i":
        await inbox.mark(ctx.session, g.members, inbox.IGNORED, actor_hash=ctx.user_hash)
        await audit_action(ctx, "inbox.ignore", g.key, text=g.representative, count=g.count)
        return say(ctx, t.GROUP_IGNORED.format(text=g.representative, count=g.count))
    return await stale(ctx)


def _group_view(ctx: Context, g: inbox.Group) -> Outcome:
    variants = "\n".join(
        f"• {g.samples[norm]} ({n})" for norm, n in g.variants.most_common(MAX_VARIANTS)
    )
    text = t.GROUP_VIEW.format(
        text=g.representative,
        count=g.count,
        fallback=g.sources[inbox.FALLBACK],
        unhelpful=g.sources[inbox.NOT_HELPFUL],
        at=local_time(g.newest),
        variants=variants,
    )
    nearest = [m.entry for m in ctx.index.search(g.representative, k=3).matches[:3]]
    choices = [
        Choice(
            short_label(t.GROUP_AS_ALTERNATIVE.format(question=e.question)),
            AdminGroup("a", g.key, ref_of(e.id)).pack(),
        )
        for e in nearest
    ]
    choices += [
        Choice(t.GROUP_NEW_ENTRY, AdminGroup("n", g.key).pack()),
        Choice(t.GROUP_IGNORE, AdminGroup("i", g.key).pack()),
    ]
    return Outcome((Reply(text), Reply(t.GROUP_NEAREST, tuple(choices))), ctx.state)
