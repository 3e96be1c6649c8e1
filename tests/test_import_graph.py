"""No import cycle between the top-level parts of ssj/ (issue #15).

The graph is read from the source with `ast`, without importing anything:
an edge a -> b for every `import`/`from ... import` in a module of part a
(a package such as ssj/exports, or a module such as ssj/clock.py) that
names something in part b. Two graphs are checked: the module-level imports
(what happens at import time), and every import, those inside functions
too, so that no late import hides a cycle. Only the app factory,
ssj/__init__.py, which wires every part together, is left out.

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


def _imports(tree: ast.Module, *, in_functions: bool):
    """Import statements, those in function bodies only if asked; never those under `if TYPE_CHECKING:`."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and not in_functions:
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            else:
                stack.append(child)


PARTS = {p.stem for p in SSJ.glob("*.py") if p.stem != "__init__"} | {p.parent.name for p in SSJ.glob("*/__init__.py")}


def _part(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "ssj" and len(parts) > 1 and parts[1] in PARTS else None


def import_graph(*, in_functions: bool = False) -> dict[str, dict[str, set[str]]]:
    """part -> {imported part -> the files that import it}."""
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted(SSJ.rglob("*.py")):
        module, is_package = _module_name(path)
        source = _part(module)
        if source is None:
            continue  # ssj/__init__.py: the app factory, which wires every part together
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports(tree, in_functions=in_functions):
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


def _explain(graph: dict[str, dict[str, set[str]]], found: list[list[str]]) -> str:
    return "\n".join(
        f"{a} -> {b}: {', '.join(sorted(graph[a][b]))}"
        for component in found for a in component for b in component if b in graph.get(a, {})
    )


def test_no_cycle_between_parts_of_ssj():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles between parts of ssj/:\n" + _explain(graph, found)


def test_no_import_inside_a_function_hides_a_cycle():
    """A late import must not be what keeps two parts apart: use a registry, or move the shared rule down."""
    graph = import_graph(in_functions=True)
    found = cycles(graph)
    assert not found, "import cycles between parts of ssj/, counting imports inside functions:\n" + _explain(graph, found)


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
