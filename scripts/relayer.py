#!/usr/bin/env python3
"""Move the domain modules into ``bot/domain/`` and the models into a ``storage/models/`` package,
and rewrite every reference to the moved modules.

Usage: ``python scripts/relayer.py [--dry-run]`` from anywhere inside the repository.

What it does, in order (each step prints what it changed):

1. ``git mv`` the modules of ``MODULE_MOVES``, ``storage/models.py`` to
   ``storage/models/core.py`` and every ``storage/models_<name>.py`` to
   ``storage/models/<name>.py``.
2. Rewrites references by module path, not by patch, so that it works on a tree with modules
   and imports it has never seen: ``from bot import privacy`` statements (read with ``ast``),
   then every dotted name (``import bot.stats.text``, ``from bot.stats import x``, strings such
   as ``"bot.stats.indexes.repo"`` in monkeypatch targets, prose) and every path
   (``bot/dossiers/data``) in ``bot/ handlers/ knowledge/ storage/ tests/ bench/ scripts/ docs/
   deploy/``, ``README.md``, ``pyproject.toml``, ``.env.example`` and ``Makefile``. Inside
   ``storage/models/`` the modules import ``storage.models.core`` (not the package, which
   imports them), and ``core`` loses the side-effect imports that registered the other
   modules' tables.
3. Writes ``storage/models/__init__.py``, which imports every model module and re-exports
   their public names, so ``from storage.models import Agency`` keeps working and every table
   is on ``Base.metadata`` once the package is imported.
4. Sorts imports and formats the rewritten Python files with ruff (when ruff is installed).

Running it again on a moved tree changes nothing and says so.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: old module -> new module (packages move with everything in them, data files too).
MODULE_MOVES: dict[str, str] = {
    "bot.dossiers": "bot.domain.dossiers",
    "bot.stats": "bot.domain.stats",
    "bot.privacy": "bot.domain.privacy",
    "bot.event_order": "bot.domain.event_order",
    "bot.ingest": "bot.domain.ingest",
    "bot.dossier_files": "bot.domain.dossier_files",
    "bot.registry_import": "bot.domain.registry_import",
    "bot.reflections.rules": "bot.domain.reflections.rules",
    "bot.reflections.photos": "bot.domain.reflections.photos",
}
MODELS_PACKAGE = "storage.models"
#: Where the rewriting looks (relative to the repository's root).
REWRITE_DIRS = (
    "bot",
    "handlers",
    "knowledge",
    "storage",
    "tests",
    "bench",
    "scripts",
    "docs",
    "deploy",
)
REWRITE_FILES = ("README.md", "pyproject.toml", ".env.example", "Makefile")
TEXT_SUFFIXES = {
    ".py",
    ".md",
    ".toml",
    ".txt",
    ".rst",
    ".yaml",
    ".yml",
    ".ini",
    ".cfg",
    ".sh",
    ".conf",
    ".service",
    ".html",
}
#: A file that holds this text is not rewritten (a test's own tree of old paths, for instance).
KEEP_MARKER = "relayer: keep this file as it is"
#: Package data is listed relative to its package in pyproject.toml.
PACKAGE_DATA = {'"dossiers/data/': '"domain/dossiers/data/'}

INIT_HEADER = '''"""Every table of the database: importing this package registers all of them on
``Base.metadata`` (migrations, ``create_all`` and the parity test rely on it).

``core`` holds ``Base`` and the main tables; the other modules hold one area's tables each and
import ``storage.models.core``, never this package. Written by ``scripts/relayer.py``: add a
model module to this folder and run the script again to list its names here.
"""

from __future__ import annotations

'''


def repo_root() -> Path:
    out = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],  # noqa: S607 (git from PATH, as a developer runs it)
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def path_of(module: str) -> str:
    return module.replace(".", "/")


class Relayer:
    def __init__(self, root: Path, dry_run: bool) -> None:
        self.root = root
        self.dry_run = dry_run
        self.changed: list[str] = []
        self.moves: dict[str, str] = dict(MODULE_MOVES)
        for path in sorted((root / "storage").glob("models_*.py")):
            self.moves[f"storage.{path.stem}"] = f"{MODELS_PACKAGE}.{path.stem[len('models_') :]}"
        for path in sorted((root / "storage" / "models").glob("*.py")):
            if path.stem not in ("__init__", "core"):  # already moved: keep the mapping
                self.moves.setdefault(
                    f"storage.models_{path.stem}", f"{MODELS_PACKAGE}.{path.stem}"
                )

    def say(self, message: str) -> None:
        print(("(dry run) " if self.dry_run else "") + message)

    # 1. moves ------------------------------------------------------------------------------

    def git(self, *args: str) -> None:
        if not self.dry_run:
            subprocess.run(["git", *args], cwd=self.root, check=True)  # noqa: S603,S607

    def move(self, source: str, target: str) -> None:
        src, dst = self.root / source, self.root / target
        if not src.exists():
            return
        if dst.exists() and src.is_dir():  # someone added files at both places: move each
            for child in sorted(src.rglob("*")):
                if child.is_file() and "__pycache__" not in child.parts:
                    rel = child.relative_to(src).as_posix()
                    self.move(f"{source}/{rel}", f"{target}/{rel}")
            return
        if dst.exists():
            sys.exit(f"relayer: both {source} and {target} exist; merge them by hand first")
        if not self.dry_run:
            dst.parent.mkdir(parents=True, exist_ok=True)
            self.ensure_package(dst.parent)
        self.git("mv", source, target)
        self.changed.append(target)
        self.say(f"moved {source} -> {target}")

    def ensure_package(self, folder: Path) -> None:
        """Every folder between the root and a moved module is a package."""
        rel = folder.relative_to(self.root)
        for depth in range(1, len(rel.parts) + 1):
            init = self.root.joinpath(*rel.parts[:depth], "__init__.py")
            if rel.parts[0] in ("bot", "storage") and not init.exists():
                init.write_text(f'"""{rel.parts[depth - 1].capitalize()}."""\n', encoding="utf-8")
                self.git("add", init.relative_to(self.root).as_posix())
                self.say(f"created {init.relative_to(self.root).as_posix()}")

    def move_all(self) -> None:
        for old, new in MODULE_MOVES.items():
            if (self.root / path_of(old)).is_dir():
                self.move(path_of(old), path_of(new))
            else:
                self.move(path_of(old) + ".py", path_of(new) + ".py")
        self.move("storage/models.py", "storage/models/core.py")
        for old, new in self.moves.items():
            if old.startswith("storage.models_"):
                self.move(path_of(old) + ".py", path_of(new) + ".py")

    # 2. rewriting --------------------------------------------------------------------------

    def files(self) -> list[Path]:
        found: list[Path] = []
        for folder in REWRITE_DIRS:
            base = self.root / folder
            if base.is_dir():
                found += [
                    p
                    for p in sorted(base.rglob("*"))
                    if p.is_file()
                    and p.suffix in TEXT_SUFFIXES
                    and "__pycache__" not in p.parts
                    and ".venv" not in p.parts
                ]
        found += [self.root / f for f in REWRITE_FILES if (self.root / f).is_file()]
        me = Path(__file__).resolve()
        return [p for p in found if p.resolve() != me]

    def rewrite_from_imports(self, text: str) -> str:
        """``from bot import privacy`` -> ``from bot.domain import privacy`` (and splits
        statements that import moved and unmoved modules of one package)."""
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return text
        lines = text.splitlines(keepends=True)
        edits: list[tuple[int, int, str]] = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if not any(f"{node.module}.{a.name}" in self.moves for a in node.names):
                continue
            groups: dict[str, list[str]] = {}
            for alias in node.names:
                old = f"{node.module}.{alias.name}"
                if old in self.moves:
                    parent, _, name = self.moves[old].rpartition(".")
                    as_name = alias.asname or alias.name
                else:
                    parent, name, as_name = node.module, alias.name, alias.asname or alias.name
                groups.setdefault(parent, []).append(
                    name if as_name == name else f"{name} as {as_name}"
                )
            first = lines[node.lineno - 1]
            indent = first[: len(first) - len(first.lstrip())]
            last = lines[(node.end_lineno or node.lineno) - 1]
            comment = ""
            if "#" in last:
                code, _, rest = last.partition("#")
                if code.count('"') % 2 == 0 and code.count("'") % 2 == 0:
                    comment = "  #" + rest.rstrip("\n")
            new = "".join(
                f"{indent}from {parent} import {', '.join(names)}{comment}\n"
                for parent, names in groups.items()
            )
            edits.append((node.lineno - 1, node.end_lineno or node.lineno, new))
        for start, end, new in sorted(edits, reverse=True):
            lines[start:end] = [new]
        return "".join(lines)

    def rewrite_names(self, text: str, in_models: bool) -> str:
        for old, new in sorted(self.moves.items(), key=lambda kv: -len(kv[0])):
            text = re.sub(rf"(?<![\w.]){re.escape(old)}(?!\w)", new, text)
            text = re.sub(
                rf"(?<![\w.]){re.escape(path_of(old))}(?=/|\.py\b|[^\w/.]|$)",
                path_of(new),
                text,
                flags=re.MULTILINE,
            )
        text = re.sub(r"(?<![\w.])storage/models\.py\b", "storage/models/core.py", text)
        if in_models:  # the model modules import the core, not the package that imports them
            text = re.sub(
                r"^(\s*from )storage\.models( import )",
                r"\1storage.models.core\2",
                text,
                flags=re.M,
            )
        return text

    def drop_registration_imports(self, text: str) -> str:
        """The core no longer imports the other model modules (the package does)."""
        lines = text.splitlines(keepends=True)
        pattern = re.compile(
            r"^(from storage\.models import \w+|from storage import models_\w+"
            r"|import storage\.models[._]\w+)( as \w+)?\s*(#.*)?$"
        )
        keep = list(lines)
        i = len(lines) - 1
        removed = False
        while i >= 0:
            if pattern.match(lines[i].strip()) and not lines[i].startswith((" ", "\t")):
                # a top-level import of a sibling model module: drop it and its comment block
                j = i
                while j - 1 >= 0 and pattern.match(lines[j - 1].strip()):
                    j -= 1
                while j - 1 >= 0 and lines[j - 1].startswith("#"):
                    j -= 1
                del keep[j : i + 1]
                removed = True
                i = j - 1
                continue
            i -= 1
        if not removed:
            return text
        return "".join(keep).rstrip("\n") + "\n"

    def rewrite_all(self) -> list[Path]:
        touched: list[Path] = []
        models_dir = self.root / "storage" / "models"
        for path in self.files():
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            if KEEP_MARKER in text:
                continue
            new = text
            in_models = path.parent == models_dir and path.name not in ("__init__.py", "core.py")
            if path.suffix == ".py":
                new = self.rewrite_from_imports(new)
            if path == models_dir / "core.py":
                new = self.drop_registration_imports(new)
            new = self.rewrite_names(new, in_models)
            if path.name == "pyproject.toml":
                for old, replacement in PACKAGE_DATA.items():
                    new = new.replace(old, replacement)
            if new != text:
                touched.append(path)
                self.say(f"rewrote {path.relative_to(self.root).as_posix()}")
                if not self.dry_run:
                    path.write_text(new, encoding="utf-8")
        return touched

    # 3. the models package ----------------------------------------------------------------

    def models_init(self) -> Path | None:
        folder = self.root / "storage" / "models"
        if not (folder / "core.py").is_file():
            return None
        others = (p.stem for p in folder.glob("*.py") if p.stem not in ("__init__", "core"))
        modules = ["core", *sorted(others)]
        exported: dict[str, str] = {}
        body: list[str] = []
        for module in modules:
            names = [n for n in public_names(folder / f"{module}.py") if n not in exported]
            for name in public_names(folder / f"{module}.py"):
                if name in exported and exported[name] != module:
                    self.say(f"warning: {name} of {module} hidden by {exported[name]}'s")
            exported.update(dict.fromkeys(names, module))
            if names:
                body.append(f"from {MODELS_PACKAGE}.{module} import {', '.join(names)}\n")
            else:
                body.append(f"import {MODELS_PACKAGE}.{module}  # noqa: F401\n")
        body.append("\n__all__ = [\n" + "".join(f'    "{n}",\n' for n in exported) + "]\n")
        text = self.ruff_normal(INIT_HEADER + "".join(body), "storage/models/__init__.py")
        init = folder / "__init__.py"
        if init.is_file() and init.read_text(encoding="utf-8") == text:
            return None
        if self.dry_run:
            self.say("would write storage/models/__init__.py")
            return None
        existed = init.is_file()
        init.write_text(text, encoding="utf-8")
        if not existed:
            self.git("add", "storage/models/__init__.py")
        self.say(f"wrote storage/models/__init__.py ({len(exported)} names)")
        return init

    # 4. ruff ---------------------------------------------------------------------------------

    def ruff(self) -> str | None:
        ruff = self.root / ".venv" / "bin" / "ruff"
        return str(ruff) if ruff.is_file() else shutil.which("ruff")

    def ruff_normal(self, text: str, name: str) -> str:
        """The text as ruff would leave it (imports and ``__all__`` sorted, formatted), so that
        a second run compares equal."""
        command = self.ruff()
        if command is None:
            return text
        for args in (["check", "-q", "--select", "I,RUF022", "--fix"], ["format", "-q"]):
            done = subprocess.run(  # noqa: S603 (our own text on stdin)
                [command, *args, "--stdin-filename", name, "-"],
                input=text,
                capture_output=True,
                text=True,
                cwd=self.root,
                check=False,
            )
            text = done.stdout or text
        return text

    def tidy(self, paths: list[Path]) -> None:
        python = [str(p) for p in paths if p.suffix == ".py"]
        command = self.ruff()
        if not python or self.dry_run:
            return
        if command is None:
            self.say("ruff not found: sort imports and format the rewritten files by hand")
            return
        sort = [command, "check", "-q", "--select", "I", "--fix", *python]
        subprocess.run(sort, check=False)  # noqa: S603 (our own file list)
        subprocess.run([command, "format", "-q", *python], check=False)  # noqa: S603
        self.say(f"sorted imports and formatted {len(python)} Python files with ruff")


def public_names(path: Path) -> list[str]:
    """Names a model module defines at its top level (classes, functions, constants)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            names += [e.id for e in elements if isinstance(e, ast.Name)]
    return [n for n in dict.fromkeys(names) if not n.startswith("_")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="say what would change")
    args = parser.parse_args(argv)
    relayer = Relayer(repo_root(), args.dry_run)
    relayer.move_all()
    touched = relayer.rewrite_all()
    init = relayer.models_init()
    if init is not None:
        touched.append(init)
    relayer.tidy(touched)
    if not touched and not relayer.changed:
        print("relayer: nothing to do, the tree is already laid out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
