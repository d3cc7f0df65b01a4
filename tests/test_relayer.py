"""scripts/relayer.py on a small tree of its own: it moves modules, rewrites every kind of
reference by module path (including modules it has never seen), and a second run changes
nothing.

The old paths below are this test's input: relayer: keep this file as it is.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "relayer.py"

TREE = {
    "bot/__init__.py": "",
    "bot/privacy.py": "def mask(text: str) -> str:\n    return text\n",
    "bot/kb_cli.py": "",
    "bot/stats/__init__.py": "",
    "bot/stats/text.py": "from bot.privacy import mask\n",
    "bot/dossiers/__init__.py": "",
    "bot/dossiers/data/holidays.yaml": "days: []\n",
    "bot/reflections/__init__.py": "",
    "bot/reflections/rules.py": "",
    "bot/reflections/delivery.py": "from bot.reflections.rules import *  # noqa\n",
    "bot/user.py": (
        "from bot import kb_cli, privacy  # noqa: F401\n"
        "import bot.stats.text as text\n"
        "from storage.models_extra import Extra\n"
        "\n"
        'TARGET = "bot.stats.text.mask"\n'
        'HOLIDAYS = "bot/dossiers/data/holidays.yaml"\n'
    ),
    "storage/__init__.py": "",
    "storage/models.py": (
        "class Base:\n    pass\n\n\n"
        "def utcnow() -> None:\n    pass\n\n\n"
        "# The extra table lives in its own module; imported here to register it.\n"
        "from storage import models_extra as _models_extra  # noqa: E402,F401\n"
    ),
    "storage/models_extra.py": (
        "from storage.models import Base\n\nKINDS = ('a',)\n\n\nclass Extra(Base):\n    pass\n"
    ),
    "docs/notes.md": "See `bot/privacy.py` and ``storage.models_extra.Extra``.\n",
    "pyproject.toml": 'bot = ["static/*", "dossiers/data/*.yaml"]\n',
}


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args],  # noqa: S607 (git from PATH, as the script runs it)
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _run(root: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=root, check=True, capture_output=True, text=True
    )
    return done.stdout


def test_relayer_moves_rewrites_and_is_idempotent(tmp_path: Path) -> None:
    for name, text in TREE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tree")

    said = _run(tmp_path)
    assert "moved bot/privacy.py -> bot/domain/privacy.py" in said
    assert "moved storage/models_extra.py -> storage/models/extra.py" in said
    status = _git(tmp_path, "status", "--short")
    assert "bot/stats/text.py -> bot/domain/stats/text.py" in status  # git mv: history kept
    assert (tmp_path / "bot/domain/dossiers/data/holidays.yaml").is_file()
    assert (tmp_path / "bot/reflections/delivery.py").is_file()  # not in the map: stays

    user = (tmp_path / "bot/user.py").read_text(encoding="utf-8")
    assert "from bot import kb_cli" in user
    assert "from bot.domain import privacy" in user
    assert "import bot.domain.stats.text as text" in user
    assert "from storage.models.extra import Extra" in user
    assert '"bot.domain.stats.text.mask"' in user
    assert '"bot/domain/dossiers/data/holidays.yaml"' in user
    delivery = (tmp_path / "bot/reflections/delivery.py").read_text(encoding="utf-8")
    assert "from bot.domain.reflections.rules import" in delivery

    core = (tmp_path / "storage/models/core.py").read_text(encoding="utf-8")
    assert "models_extra" not in core and "extra" not in core  # the package registers it
    extra = (tmp_path / "storage/models/extra.py").read_text(encoding="utf-8")
    assert "from storage.models.core import Base" in extra
    init = (tmp_path / "storage/models/__init__.py").read_text(encoding="utf-8")
    assert "from storage.models.core import" in init and "Base" in init
    assert "from storage.models.extra import" in init and "Extra" in init
    assert (tmp_path / "docs/notes.md").read_text(encoding="utf-8") == (
        "See `bot/domain/privacy.py` and ``storage.models.extra.Extra``.\n"
    )
    assert '"domain/dossiers/data/*.yaml"' in (tmp_path / "pyproject.toml").read_text()

    before = {
        p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    assert "nothing to do" in _run(tmp_path)
    after = {
        p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    assert after == before
