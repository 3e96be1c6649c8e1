"""No import cycle between the top-level parts of ssj/ (issue #15).

The graph is read from the source with `ast`, without importing anything:
an edge a -> b for every module-level `import`/`from ... import` in a
module of part a (a package such as ssj/exports, or a module such as
ssj/clock.py) that names something in part b. Imports inside functions are
left out on purpose — they are the few late imports listed in
docs/architecture.md — and so are imports under `if TYPE_CHECKING:`.

Areas that need each other's behaviour meet through registries instead
(exports.jobs.register for export builders, ssj.todo.provider for to-do
items, audit.hooks.on_signed_in_commit for the session stamp), so the
lower layer never imports the area that registers with it.
"""
from __future__ import annotations

import ast
from pathlib import Path

SSJ = Path(__file__).resolve().parent.parent / "ssj"


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(SSJ.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not node.level:
        return [node.module or ""]
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    if node.module:
        return [".".join([*base, node.module])]
    return [".".join([*base, alias.name]) for alias in node.names]


def _module_level_imports(tree: ast.Module):
    """Import statements outside any function body and outside `if TYPE_CHECKING:`."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            else:
                stack.append(child)


def _part(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "ssj" and len(parts) > 1 else None


def import_graph() -> dict[str, dict[str, set[str]]]:
    """part -> {imported part -> the files that import it}."""
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted(SSJ.rglob("*.py")):
        module, is_package = _module_name(path)
        source = _part(module)
        if source is None:
            continue  # ssj/__init__.py: the app factory, which wires every part together
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _module_level_imports(tree):
            for target in _targets(node, module, is_package):
                dest = _part(target)
                if dest is not None and dest != source:
                    graph.setdefault(source, {}).setdefault(dest, set()).add(str(path.relative_to(SSJ.parent)))
    return graph


def cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """The strongly connected components with more than one part (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_cycle_between_parts_of_ssj():
    graph = import_graph()
    found = cycles(graph)
    detail = [
        f"{a} -> {b}: {', '.join(sorted(graph[a][b]))}"
        for component in found for a in component for b in component if b in graph.get(a, {})
    ]
    assert not found, "import cycles between parts of ssj/:\n" + "\n".join(detail)


def test_the_check_sees_a_cycle():
    graph = {"exports": {"imports": {"x"}}, "imports": {"publication": {"y"}}, "publication": {"exports": {"z"}},
             "clock": {}}
    assert cycles(graph) == [["exports", "imports", "publication"]]
    assert cycles({"a": {"b": {"x"}}, "b": {}}) == []


def test_the_graph_reads_relative_imports():
    graph = import_graph()
    # Known module-level edges, one of each form: `from ..x import y`, `from .. import x`.
    assert "ssj/exports/jobs.py" in graph["exports"]["audit"]
    assert "clock" in graph["exports"]
    assert "exports" in graph["imports"] and "exports" in graph["publication"]
