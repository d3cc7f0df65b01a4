"""The layer map of the project and an import graph read from the source (no module is run).

Layers, highest first. A module may import its own layer and every layer below it, never one
above. A module belongs to the layer of the longest prefix that names it; ``scripts/relayer.py``
rewrites the prefixes here when it moves modules, like every other module path in the tree.

Run ``python -m tests.layers`` to print the arrows that break the rule and the import cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "knowledge", "storage")

#: Highest first: (layer, module prefixes). ``bot`` alone is the runtime (app, server, CLI,
#: channels, dispatcher, workers); the rest of ``bot`` is carved out of it below.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("runtime", ("bot",)),
    (
        "handlers",
        (
            "handlers",
            # They compose citizen-facing notifications from the handlers' texts and queue them;
            # handlers call them, so they stand beside the handlers, above the domain.
            "bot.kb_review",
            "bot.reflections.delivery",
            "bot.reflections.escalation",
        ),
    ),
    (
        "domain",
        (
            "bot.domain",
            "bot.domain.dossiers",
            "bot.domain.stats",
            "bot.domain.privacy",
            "bot.domain.event_order",
            "bot.domain.ingest",
            "bot.domain.dossier_files",
            "bot.domain.registry_import",
            "bot.domain.reflections.rules",
            "bot.domain.reflections.photos",
        ),
    ),
    ("storage", ("storage",)),
    # Vietnamese text and the knowledge-base format: pure functions and types, no database and
    # no runtime. Storage keeps its entries (``knowledge.entry``) and folds text for its indexes.
    ("knowledge", ("knowledge",)),
    # The channel-neutral message types every layer speaks (no project imports of their own).
    ("core", ("bot.messages", "bot.flowstate", "bot.json_text")),
)

#: Third-party packages a layer must never import (handlers return data; adapters send it).
FORBIDDEN_LIBRARIES: dict[str, tuple[str, ...]] = {
    "handlers": ("telegram", "aiohttp"),
    "domain": ("telegram", "aiohttp"),
    "knowledge": ("telegram", "aiohttp"),
    "storage": ("telegram", "aiohttp"),
    "core": ("telegram", "aiohttp"),
}


@dataclass(frozen=True, slots=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (or package), as written
    line: int
    top_level: bool  # executed at import time (not inside a function or TYPE_CHECKING)


def layer_of(module: str, layers: Iterable[tuple[str, tuple[str, ...]]] = LAYERS) -> str | None:
    best: tuple[int, str] | None = None
    for name, prefixes in layers:
        for prefix in prefixes:
            named = module == prefix or module.startswith(prefix + ".")
            if named and (best is None or len(prefix) > best[0]):
                best = (len(prefix), name)
    return None if best is None else best[1]


def rank(layer: str, layers: Iterable[tuple[str, tuple[str, ...]]] = LAYERS) -> int:
    """0 for the highest layer; a larger number is lower."""
    return [name for name, _ in layers].index(layer)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path = ROOT) -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _deferred(node: ast.AST) -> bool:
    """Code that does not run when the module is imported: a function, or a TYPE_CHECKING block."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return True
    return isinstance(node, ast.If) and _is_type_checking(node.test)


def imports_of(path: Path, root: Path = ROOT) -> list[Import]:
    """Every import statement of one file, absolute, with whether it runs at import time."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(module, a.name, child.lineno, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - child.level + 1]
                    prefix = ".".join([*base, child.module] if child.module else base)
                else:
                    prefix = child.module or ""
                for alias in child.names:
                    # ``from bot import delivery`` imports the module bot.delivery when it is one
                    candidate = f"{prefix}.{alias.name}"
                    target = candidate if _exists(candidate, root) else prefix
                    found.append(Import(module, target, child.lineno, top))
            else:
                visit(child, top and not _deferred(child))

    visit(tree, True)
    return found


def _exists(module: str, root: Path) -> bool:
    path = root.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def project_imports(root: Path = ROOT) -> list[Import]:
    return [i for path in source_files(root) for i in imports_of(path, root)]


def upward_arrows(
    imports: Iterable[Import], layers: tuple[tuple[str, tuple[str, ...]], ...] = LAYERS
) -> list[str]:
    """Imports of a higher layer, or of a library the importing layer must not use."""
    problems: list[str] = []
    for i in imports:
        source_layer = layer_of(i.source, layers)
        top_package = i.target.split(".")[0]
        if source_layer is None:
            continue
        if top_package in FORBIDDEN_LIBRARIES.get(source_layer, ()):
            problems.append(f"{i.source}:{i.line} ({source_layer}) imports {i.target}")
            continue
        target_layer = layer_of(i.target, layers)
        if target_layer is None:
            continue
        if rank(target_layer, layers) < rank(source_layer, layers):
            problems.append(
                f"{i.source}:{i.line} ({source_layer}) imports {i.target} ({target_layer})"
            )
    return problems


def cycles(imports: Iterable[Import]) -> list[list[str]]:
    """Strongly connected groups of modules (more than one) that import each other.

    Every import counts, a function-local one too: moving an import into a function hides a
    cycle from the interpreter, not from the design.
    """
    graph: dict[str, set[str]] = {}
    modules = {i.source for i in imports}
    for i in imports:
        graph.setdefault(i.source, set())
        if i.target in modules and i.target != i.source:
            graph[i.source].add(i.target)
    # Tarjan's algorithm, iterative
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return sorted(groups)


if __name__ == "__main__":
    found = project_imports()
    for problem in upward_arrows(found):
        print("upward:", problem)
    for group in cycles(found):
        print("cycle:", " <-> ".join(group))
