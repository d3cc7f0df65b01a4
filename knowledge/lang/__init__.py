"""Vietnamese language resources kept as documented data files (``knowledge/lang/*.yaml``).

Each file says in its header what it holds, how it is matched and where it comes from. They
describe how people write Vietnamese to public services, not any one knowledge base.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

LANG_DIR = Path(__file__).resolve().parent


@cache
def load(name: str) -> Any:
    """The parsed content of ``knowledge/lang/<name>.yaml`` (cached; treat it as read-only)."""
    with (LANG_DIR / f"{name}.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)
