"""handler/ imports in one direction: no module reaches itself again through the modules it imports.

A circle holds even when its imports run only under ``TYPE_CHECKING`` (contribution -> outcome ->
fold -> contribution was one, for a type): the modules cannot be read, changed or moved one at a
time, and turning such an import into a runtime one fails at import time. So the graph here counts
every ``from .x import`` and ``from . import x`` of a module, at its top, under ``TYPE_CHECKING``
or inside a function alike, as the source says it, without importing anything.
"""

import ast
from pathlib import Path

HANDLER = Path(__file__).resolve().parents[2] / "handler"


def imports_within(path: Path) -> set[str]:
    """The handler modules ``path`` imports by a relative import, wherever in the file it stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {path.stem: path for path in HANDLER.glob("*.py")}
    return {name: imports_within(path) & set(modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each circle found by a depth-first walk, as the path that closes it (``a -> b -> a``)."""
    found: list[list[str]] = []
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> None:
        if module in path:
            found.append([*path[path.index(module) :], module])
            return
        if module in done:
            return
        for imported in sorted(graph[module]):
            walk(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        walk(module, [])
    return found


def test_the_handler_has_no_import_circle():
    circles = [" -> ".join(circle) for circle in cycles(import_graph())]
    assert not circles, f"handler/ imports in a circle: {circles}"


def test_the_walk_finds_a_circle_and_reads_every_kind_of_import(tmp_path):
    """The check itself: a circle closed only by a TYPE_CHECKING import, and one by an import in a function."""
    (tmp_path / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n")
    (tmp_path / "b.py").write_text("from .c import C\n")
    (tmp_path / "c.py").write_text("def f():\n    from . import a\n")
    graph = {path.stem: imports_within(path) for path in tmp_path.glob("*.py")}
    assert graph == {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
