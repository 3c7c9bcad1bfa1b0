"""The package's shape is the data flow: floors, no import circles, small modules, said in the README."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import REPO

PACKAGE = REPO / "tracker"
#: The stage floors in data-flow order; a module may import its own floor and lower ones only.
FLOORS = {"base": 0, "ingest": 1, "enrich": 2, "learn": 3, "index": 4, "report": 5, "serve": 6}
#: ``cli``, ``pipeline``, ``analyze`` and ``__main__`` sit on top of every stage.
TOP = len(FLOORS)
#: "No module over ~600 lines": the tilde leaves room for a docstring, not for a second concern.
MAX_LINES = 660


def module_name(path: Path) -> str:
    """``tracker/enrich/head.py`` -> ``tracker.enrich.head`` (a package's ``__init__`` is the package)."""
    name = ".".join(path.relative_to(REPO).with_suffix("").parts)
    return name.removesuffix(".__init__")


def floor(module: str) -> int:
    """The floor of a tracker module: its stage's rank, the top for the modules on top."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("models", "sample_feeds"):
        return -1  # the root package (its version) and packaged data sit under everything
    return FLOORS.get(parts[1], TOP)


def modules() -> Iterator[Path]:
    """Every Python module of the package."""
    yield from sorted(PACKAGE.rglob("*.py"))


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path, *, top_level_only: bool) -> Iterator[tuple[str, int]]:
    """The tracker modules ``path`` imports, with line numbers.

    ``top_level_only`` keeps the imports that run when the module is imported (not those in
    functions or under ``TYPE_CHECKING``): the ones that can make an import circle.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes: list[ast.AST]
    if top_level_only:
        nodes = [n for n in tree.body if not (isinstance(n, ast.If) and _type_checking(n))]
        nodes = [sub for n in nodes for sub in ast.walk(n)
                 if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    else:
        nodes = list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("tracker"):
            assert node.module is not None
            for alias in node.names:
                # ``from tracker.enrich import head`` imports the module ``tracker.enrich.head``.
                candidate = f"{node.module}.{alias.name}"
                sub = REPO.joinpath(*candidate.split("."))
                yield (candidate if sub.with_suffix(".py").exists() or sub.is_dir() else node.module), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tracker"):
                    yield alias.name, node.lineno


def test_lower_floors_never_import_higher_ones() -> None:
    """base <- ingest <- enrich <- learn <- index <- report <- serve <- cli/pipeline, lazily or not."""
    wrong = [f"{module_name(p)}:{line} imports {target}"
             for p in modules() for target, line in imports(p, top_level_only=False)
             if floor(target) > floor(module_name(p))]
    assert not wrong, "\n".join(wrong)


def test_no_import_circles() -> None:
    """The graph of import-time imports between tracker modules has no cycle."""
    graph = {module_name(p): {t for t, _ in imports(p, top_level_only=True)} for p in modules()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph or nxt == node or nxt.startswith(node + "."):
                continue  # a package importing its own submodule is its __init__ re-exporting
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            pytest.fail("import circle: " + " -> ".join(cycle))


def test_no_module_is_over_the_size_limit() -> None:
    """One module, one concern: none over ~600 lines."""
    long = {module_name(p): n for p in modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


def test_each_stage_package_says_what_it_takes_and_returns() -> None:
    """Each stage's ``__init__`` has a docstring (what the stage takes and returns)."""
    missing = [name for name in FLOORS if not ast.get_docstring(
        ast.parse((PACKAGE / name / "__init__.py").read_text(encoding="utf-8")))]
    assert not missing


def test_the_readme_layout_lists_every_module() -> None:
    """README's "Layout" section names every module of every stage package, and nothing that is gone."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Layout\n(.*?)^## ", readme, flags=re.S | re.M)
    assert match, "README.md has no '## Layout' section"
    section = match.group(1)
    listed = set(re.findall(r"`(tracker/[\w/]+\.py)`", section))
    actual = {p.relative_to(REPO).as_posix() for p in modules() if p.name != "__init__.py"}
    assert not actual - listed, f"modules missing from README's Layout: {sorted(actual - listed)}"
    assert not listed - actual, f"README's Layout lists modules that do not exist: {sorted(listed - actual)}"
