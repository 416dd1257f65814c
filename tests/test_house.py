"""House checks anyone can run on the installed package's source: pyflakes clean, no import cycle and no
import up a layer (every import, the ones inside functions too; see tests/import_layers.py), the layer
table in docs/architecture.md generated from the code, and no monster files or functions.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_layers  # noqa: E402  (tests/ is not a package)

REPO = import_layers.REPO
ROOTS = import_layers.ROOTS
# Only monsters: a file or a function this long is several concepts, whatever else it is. A file's length is
# not a goal; below these, one concept per module decides where code goes.
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 120
# Kept exceptions to the size limits: "path" (a file) or "path:function" -> why it stays as it is.
# Each must still be needed: an entry whose file or function is back within the limit fails the test.
EXCEPTIONS: dict[str, str] = {}


def oversized() -> dict[str, int]:
    """"path" -> lines of each file over MAX_FILE_LINES, "path:function" -> lines of each function over
    MAX_FUNCTION_LINES (methods and nested functions count on their own; "Class.method" for methods)."""
    found = {}
    for path in import_layers.sources().values():
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


def test_no_import_cycle():
    cycles = import_layers.find_cycles(import_layers.import_graph())
    assert not cycles, "import cycles (every import, inside functions too):\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_import_goes_up_a_layer():
    up = import_layers.upward_imports(import_layers.import_graph())
    assert not up, ("imports up a layer (move the code down, or name a plugin point in tests/import_layers.py); a "
                    "module importing itself is in no layer:\n" + "\n".join(f"{a} -> {b}" for a, b in up))


def test_the_architecture_page_shows_the_layers_of_this_code():
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    graph = import_layers.import_graph()
    for part in (import_layers.layer_table(graph), import_layers.summary(graph)):
        assert part in page, ("docs/architecture.md's layer table or summary is not the code's: run "
                              "`.venv/bin/python tests/import_layers.py --write`")


def test_the_checker_sees_cycles_through_packages_and_in_functions_but_not_type_checking(tmp_path):
    """The checker itself: a cycle through a package's __init__ is named; an in-function import is an edge, a
    TYPE_CHECKING import is none; a relative import resolves against its package; an import from a lower
    layer up is found unless it is a plugin point."""
    tree = {
        "affectllm/__init__.py": "",
        "affectllm/a.py": "from affectllm.pkg.b import thing\n",
        "affectllm/pkg/__init__.py": "from affectllm import a\n",
        "affectllm/pkg/b.py": "thing = 1\n",
        "affectllm/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from affectllm import d\n",
        "affectllm/d.py": "import affectllm.c\ndef f():\n    from affectllm import e\n",
        "affectllm/e.py": "from .c import x\n",
    }
    for rel, text in tree.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    graph = import_layers.import_graph(import_layers.sources(tmp_path, {"affectllm": "affectllm"}))
    assert graph["affectllm.a"] == {"affectllm.pkg", "affectllm.pkg.b"} and graph["affectllm.pkg"] == {"affectllm.a"}
    assert graph["affectllm.c"] == set() and graph["affectllm.d"] == {"affectllm.c", "affectllm.e"}
    assert graph["affectllm.e"] == {"affectllm.c"}
    assert import_layers.find_cycles(graph) == [["affectllm.a", "affectllm.pkg", "affectllm.a"]]
    real = {"affectllm.core.errors": set(), "affectllm.cli": {"affectllm.core.errors"},
            "affectllm.core.records": {"affectllm.cli"}, "affectllm.caption.__main__": {"affectllm.cli"},
            "affectllm.newpkg.x": set()}
    assert import_layers.upward_imports(real) == [("affectllm.core.records", "affectllm.cli"),
                                                  ("affectllm.newpkg.x", "affectllm.newpkg.x")]


def test_no_file_or_function_over_the_limits():
    found = oversized()
    over = {k: v for k, v in found.items() if k not in EXCEPTIONS}
    assert not over, (f"over {MAX_FILE_LINES} lines per file / {MAX_FUNCTION_LINES} per function (split it, or list "
                      "it in EXCEPTIONS with the reason):\n" + "\n".join(f"{k}: {v}" for k, v in sorted(over.items())))
    stale = sorted(set(EXCEPTIONS) - set(found))
    assert not stale, f"back within the limits, remove from EXCEPTIONS: {', '.join(stale)}"
