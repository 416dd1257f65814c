"""House checks anyone can run on the installed package's source: pyflakes clean, no module-level import cycle,
no file over 300 lines and no function over 60 lines (the kept exceptions are listed, each with its reason).

Covers affectllm/ and the two top-level folders installed inside it (data_recipes/ as affectllm.recipes,
prompts/ as affectllm.prompt_templates). Everything is static (ast, pyflakes), so the whole file runs in a few
seconds and never imports the code it checks.
"""

from __future__ import annotations

import ast
import io
import sys
from pathlib import Path

from pyflakes.api import checkRecursive
from pyflakes.reporter import Reporter

REPO = Path(__file__).resolve().parents[1]
# Source folder -> the package name it installs as (pyproject.toml packages / package-dir).
ROOTS = {"affectllm": "affectllm", "data_recipes": "affectllm.recipes", "prompts": "affectllm.prompt_templates"}
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 60
# Kept exceptions to the size limits: "path" (a file) or "path:function" -> why it stays as it is.
# Each must still be needed: an entry whose file or function is back within the limit fails the test.
EXCEPTIONS: dict[str, str] = {}


def _sources() -> dict[str, Path]:
    """Module name -> file, for every .py file under ROOTS."""
    modules = {}
    for folder, package in ROOTS.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def _module_level(body: list[ast.stmt]):
    """Statements that run when the module is imported: not function bodies, not `if TYPE_CHECKING:` blocks."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        yield node
        if isinstance(node, ast.If):
            checking = isinstance(node.test, (ast.Name, ast.Attribute)) and ast.unparse(node.test).endswith(
                "TYPE_CHECKING")
            yield from _module_level(node.orelse if checking else node.body + node.orelse)
        elif isinstance(node, (ast.Try, ast.With, ast.ClassDef, ast.For, ast.While)):
            inner = list(node.body) + list(getattr(node, "orelse", [])) + list(getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                inner += handler.body
            yield from _module_level(inner)


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports when it is imported (a target's parent packages included,
    except the importer's own, which are already being imported)."""
    sources = _sources()
    graph: dict[str, set[str]] = {}
    for module, path in sources.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in _module_level(ast.parse(path.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                submodules = {f"{base}.{alias.name}" for alias in node.names} & sources.keys()
                targets.update(submodules)
                if len(submodules) < len(node.names):  # a name defined in `base` itself needs it run
                    targets.add(base)
        own = set(_ancestors(module))
        edges = set()
        for target in targets:
            for name in (*_ancestors(target), target):
                if name in sources and name != module and (name == target or name not in own):
                    edges.add(name)
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a path a -> ... -> a) per strongly connected component that has one (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_through(graph, component) for component in components]


def _cycle_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """The shortest path from the component's first module back to itself, inside the component."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return paths[node] + [start]
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # a strongly connected component always has one


def oversized() -> dict[str, int]:
    """"path" -> lines of each file over MAX_FILE_LINES, "path:function" -> lines of each function over
    MAX_FUNCTION_LINES (methods and nested functions count on their own; "Class.method" for methods)."""
    found = {}
    for path in _sources().values():
        rel = path.relative_to(REPO).as_posix()
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_FILE_LINES:
            found[rel] = len(text.splitlines())
        tree = ast.parse(text)
        for owner in ast.walk(tree):
            prefix = f"{owner.name}." if isinstance(owner, ast.ClassDef) else ""
            for node in ast.iter_child_nodes(owner):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    span = node.end_lineno - node.lineno + 1
                    if span > MAX_FUNCTION_LINES:
                        found[f"{rel}:{prefix}{node.name}"] = span
    return found


def test_pyflakes_is_clean():
    out = io.StringIO()
    count = checkRecursive([str(REPO / folder) for folder in ROOTS], Reporter(out, out))
    assert count == 0, "pyflakes:\n" + out.getvalue()


def test_no_module_level_import_cycle():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles (module-level imports):\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_cycle_check_sees_cycles_through_packages_and_skips_type_checking(tmp_path, monkeypatch):
    """The checker itself: a cycle through a package's __init__ is named; a TYPE_CHECKING or in-function
    import is no edge; a relative import resolves against its package."""
    tree = {
        "affectllm/__init__.py": "",
        "affectllm/a.py": "from affectllm.pkg.b import thing\n",
        "affectllm/pkg/__init__.py": "from affectllm import a\n",
        "affectllm/pkg/b.py": "thing = 1\n",
        "affectllm/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from affectllm import d\n",
        "affectllm/d.py": "import affectllm.c\ndef f():\n    from affectllm import e\n",
        "affectllm/e.py": "from .d import f\n",
    }
    for rel, text in tree.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "ROOTS", {"affectllm": "affectllm"})
    graph = import_graph()
    assert graph["affectllm.a"] == {"affectllm.pkg", "affectllm.pkg.b"} and graph["affectllm.pkg"] == {"affectllm.a"}
    assert graph["affectllm.c"] == set() and graph["affectllm.d"] == {"affectllm.c"}
    assert graph["affectllm.e"] == {"affectllm.d"}
    assert find_cycles(graph) == [["affectllm.a", "affectllm.pkg", "affectllm.a"]]


def test_no_file_or_function_over_the_limits():
    found = oversized()
    over = {k: v for k, v in found.items() if k not in EXCEPTIONS}
    assert not over, (f"over {MAX_FILE_LINES} lines per file / {MAX_FUNCTION_LINES} per function (split it, or list "
                      "it in EXCEPTIONS with the reason):\n" + "\n".join(f"{k}: {v}" for k, v in sorted(over.items())))
    stale = sorted(set(EXCEPTIONS) - set(found))
    assert not stale, f"back within the limits, remove from EXCEPTIONS: {', '.join(stale)}"
