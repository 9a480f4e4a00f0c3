"""Imports point down: core imports no other app (not even for type checking or inside a
function), and no module imports another module's private ``_name``."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
APPS = sorted(p.name for p in (ROOT / "autocrm").iterdir() if (p / "apps.py").exists())


def _modules(*dirs: str) -> Iterator[Path]:
    for directory in dirs:
        for path in sorted((ROOT / directory).rglob("*.py")):
            if not {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
                yield path


# Run in a child interpreter: CPython 3.11 keeps the AST builder's recursion counter in
# per-interpreter state shared by every thread, and another thread of this xdist worker
# (a live server's thread formatting a traceback: 3.11's traceback carets call ast.parse)
# can move it mid-parse: "SystemError: AST constructor recursion depth mismatch"
# (python/cpython#106905). A thread of its own did not help; a process of its own does.
_LIST_IMPORTS = """
import ast, json, sys
out = {}
for path in sys.argv[1:]:
    found = []
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read(), path)):
        if isinstance(node, ast.Import):
            found += [[node.lineno, alias.name, []] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append([node.lineno, node.module, [alias.name for alias in node.names]])
    out[path] = found
json.dump(out, sys.stdout)
"""


@functools.cache
def _all_imports() -> dict[str, list[tuple[int, str, list[str]]]]:
    """Every import of every module under autocrm/ and config/, wherever it is (module
    level, functions, if blocks), parsed once per test process."""
    paths = [str(path) for path in _modules("autocrm", "config")]
    result = subprocess.run(  # our own interpreter on our own files
        [sys.executable, "-c", _LIST_IMPORTS, *paths], capture_output=True, text=True, check=True
    )
    found = json.loads(result.stdout)
    return {
        path: [(line, module, names) for line, module, names in rows]
        for path, rows in found.items()
    }


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    return _all_imports()[str(path)]


def test_the_walk_sees_the_apps_and_core() -> None:
    assert {"core", "accounts", "tickets", "notifications"} <= set(APPS)
    assert len(list(_modules("autocrm/core"))) > 20


def test_core_imports_no_other_app() -> None:
    others = tuple(f"autocrm.{app}" for app in APPS if app != "core")
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _modules("autocrm/core")
        for line, module, names in _imports(path)
        for imported in [module, *(f"{module}.{n}" for n in names)]
        if imported.startswith(others) or (module == "autocrm" and set(names) & set(APPS))
    ]
    assert found == []


def test_no_module_imports_a_private_name_of_another() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}.{name}"
        for path in _modules("autocrm", "config")
        for line, module, names in _imports(path)
        if module.startswith(("autocrm", "config"))
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert found == []
