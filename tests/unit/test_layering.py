"""The dependency direction of DESIGN.md: ui -> reporter_app -> capture, and no widgets in the core.

Read from the source (AST), so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports(package: str) -> list[tuple[str, int, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            found += [(str(path.relative_to(ROOT)), node.lineno, name) for name in names]
    return found


def offending(package: str, forbidden: tuple[str, ...], allowed_files: tuple[str, ...] = ()) -> list[str]:
    return [f"{file}:{line}: {name}" for file, line, name in imports(package)
            if file not in allowed_files and any(name == f or name.startswith(f + ".") for f in forbidden)]


def test_capture_imports_neither_the_core_nor_the_ui_nor_widgets():
    assert offending("capture", ("reporter_app", "ui", "PySide6.QtWidgets")) == []


def test_core_never_imports_widgets_and_only_the_entry_point_imports_ui():
    assert offending("reporter_app", ("PySide6.QtWidgets",)) == []
    assert offending("reporter_app", ("ui",), allowed_files=("reporter_app/cli.py",)) == []


def test_the_check_itself_sees_imports():
    # Guard against a walker that finds nothing and so passes vacuously.
    names = {name for _, _, name in imports("ui")}
    assert "PySide6.QtWidgets" in names or any(n.startswith("PySide6.QtWidgets") for n in names)
