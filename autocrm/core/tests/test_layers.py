"""Imports point down: core imports no other app (not even for type checking or inside a
function), and no module imports another module's private ``_name``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
APPS = sorted(p.name for p in (ROOT / "autocrm").iterdir() if (p / "apps.py").exists())


def _modules(*dirs: str) -> Iterator[Path]:
    for directory in dirs:
        for path in sorted((ROOT / directory).rglob("*.py")):
            if not {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
                yield path


def _parse(path: Path) -> ast.Module:
    """``ast.parse`` in a thread of its own. CPython 3.11 checks the AST builder's recursion
    depth against the calling thread's counters, which a browser test's greenlets (the same
    xdist worker ran Playwright before) can leave skewed: "SystemError: AST constructor
    recursion depth mismatch" (python/cpython#106905). A new thread starts from zero."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(ast.parse, path.read_text(), str(path)).result()


def _imports(path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """Every import in the module, wherever it is (module level, functions, if blocks)."""
    for node in ast.walk(_parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, [alias.name for alias in node.names]


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
