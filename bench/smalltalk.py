"""Small talk and dossier questions written blind (``bench/smalltalk/messages.jsonl``): how many
the intents recognise, and how many real questions they leave to the knowledge base.

Each line is ``{"text", "expect", "note"}``; ``expect`` is an intent of
``knowledge/lang/intents.yaml`` or ``question``. A small-talk message counts as **recognised**
when ``knowledge.intents.detect`` gives its intent, and as **handled** when it gives any
intent, or when the chat would answer it as chatter after searching the base (``--kb``, the
bundled base by default; as the first message of a chat: ``handlers.faq.small_talk_in_chat``):
the citizen gets a fitting reply, never the "not covered" one. A dossier question is also
recognised when the dispatcher's own dossier routes take it first (a pasted dossier code,
"tra cứu hồ sơ": ``handlers.dossier``). A question counts as **kept** when neither takes it, or
only an intent that lets the knowledge base answer first (``intents.YIELDS_TO_ANSWER``).

    .venv/bin/python bench/smalltalk.py [--show]
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from handlers import dossier, faq
from knowledge import intents, kbfile, selfcal

DEFAULT = Path(__file__).resolve().parent / "smalltalk" / "messages.jsonl"
BUNDLED = selfcal.BUNDLED_DIR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT)
    parser.add_argument("--show", action="store_true", help="list the messages that go wrong")
    parser.add_argument(
        "--kb",
        type=Path,
        default=BUNDLED,
        help="knowledge base searched for messages no intent takes (default: the bundled one)",
    )
    parser.add_argument("--intents-only", action="store_true", help="do not search any base")
    args = parser.parse_args()
    if args.intents_only:
        args.kb = None
    index = (
        selfcal.build(kbfile.load_dir(args.kb) if args.kb.is_dir() else kbfile.load(args.kb))
        if args.kb
        else None
    )
    rows = [json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines() if line]
    tally: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for row in rows:
        expect = row["expect"]
        text = row["text"]
        found = intents.detect(text)
        if found is None and args.kb is not None:
            # What the chat does next: search the base; chatter it cannot place gets a
            # small-talk reply too (handlers.faq.small_talk_in_chat).
            found = faq.small_talk_in_chat(index.search(text), text, remembered=False)
        name = found.name if found else None
        if dossier.mentions_code(text) or dossier.asks_for_lookup(text):
            name = "progress"
        t = tally[expect]
        t["n"] += 1
        if expect == "question":
            ok = name is None or name in intents.YIELDS_TO_ANSWER
            t["kept"] += ok
        else:
            ok = name == expect
            t["recognised"] += ok
            t["handled"] += name is not None
        if args.show and not ok:
            print(f"  [{expect} -> {name}] {row['text']!r}")
    small = collections.Counter[str]()
    for expect, t in sorted(tally.items()):
        if expect == "question":
            kept = t["kept"] / t["n"]
            print(f"{expect:10s} n={t['n']:3d} kept for the knowledge base {kept:.3f}")
        else:
            small.update(t)
            print(
                f"{expect:10s} n={t['n']:3d} recognised {t['recognised'] / t['n']:.3f} "
                f"handled as small talk {t['handled'] / t['n']:.3f}"
            )
    if small["n"]:
        print(
            f"all small talk n={small['n']} recognised {small['recognised'] / small['n']:.3f} "
            f"handled {small['handled'] / small['n']:.3f}"
        )


if __name__ == "__main__":
    main()
