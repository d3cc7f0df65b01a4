"""Imports flow downward only: runtime -> handlers -> domain -> storage -> knowledge -> core.

The layer map is ``tests/layers.py``; ``python -m tests.layers`` prints what breaks it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import layers

#: Cycles that exist only through imports inside functions. The routing redesign (typed
#: buttons, ``handlers/common.py``) removed the last ones; this list may only shrink.
DEFERRED_CYCLES_TO_BREAK: tuple[list[str], ...] = ()


def test_every_import_goes_down_the_layers() -> None:
    problems = layers.upward_arrows(layers.project_imports())
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


def test_every_project_module_has_a_layer() -> None:
    unplaced = {
        layers.module_name(path)
        for path in layers.source_files()
        if layers.layer_of(layers.module_name(path)) is None
    }
    assert not unplaced


@pytest.mark.skipif(
    not (layers.ROOT / "storage" / "models" / "__init__.py").is_file(),
    reason="before scripts/relayer.py the models are split by side-effect imports (a cycle)",
)
def test_no_import_cycle_at_import_time() -> None:
    found = [i for i in layers.project_imports() if i.top_level]
    assert layers.cycles(found) == []


def test_no_new_import_cycle_through_function_local_imports() -> None:
    found = layers.project_imports()
    top_level = layers.cycles([i for i in found if i.top_level])
    deferred = [c for c in layers.cycles(found) if c not in top_level]
    assert [c for c in deferred if c not in DEFERRED_CYCLES_TO_BREAK] == []


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checks_catch_an_upward_arrow_a_forbidden_library_and_a_cycle(
    tmp_path: Path,
) -> None:
    """The rule can fail: a domain module importing a handler, a handler importing aiohttp, and
    two storage modules importing each other (one through a relative import)."""
    _tree(
        tmp_path,
        {
            "bot/__init__.py": "",
            "bot/messages.py": "",
            "bot/domain/__init__.py": "",
            "bot/domain/rules.py": "from handlers import texts\n",
            "handlers/__init__.py": "",
            "handlers/texts.py": "import aiohttp\nfrom bot.domain import rules\n",
            "knowledge/__init__.py": "",
            "storage/__init__.py": "",
            "storage/a.py": "from . import b\n",
            "storage/b.py": "def f() -> None:\n    from storage import a\n",
        },
    )
    found = [i for p in layers.source_files(tmp_path) for i in layers.imports_of(p, tmp_path)]
    assert layers.upward_arrows(found) == [
        "bot.domain.rules:1 (domain) imports handlers.texts (handlers)",
        "handlers.texts:1 (handlers) imports aiohttp",
    ]
    assert layers.cycles(found) == [
        ["bot.domain.rules", "handlers.texts"],
        ["storage.a", "storage.b"],
    ]
    # storage.b imports storage.a only inside a function
    assert layers.cycles([i for i in found if i.top_level]) == [
        ["bot.domain.rules", "handlers.texts"]
    ]
