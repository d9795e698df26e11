"""The package's layers, read from its imports (every import statement, at any depth in a module):
core <- methods <- kinds <- study; nothing imports upwards, and no module reaches itself through imports."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
LAYERS = {"core": 0, "methods": 1, "kinds": 2}  # everything else (study, bench, cli) sits above them


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "lte").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parent + ([base] if base else []))
                targets |= {base} | {f"{base}.{alias.name}" for alias in node.names}
        edges[name] = {t for t in targets if t in modules and t != name}
    return edges


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 9) if len(parts) > 1 else 9


def test_no_layer_imports_a_layer_above_it():
    upward = [f"{a} -> {b}" for a, targets in _imports(_modules()).items() for b in targets if _layer(b) > _layer(a)]
    assert upward == []


def test_the_package_holds_no_import_circle():
    edges = _imports(_modules())

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    circles = sorted(f"{a} <-> {b}" for a in edges for b in edges[a] if a < b and reaches(b, a))
    assert circles == []


def test_no_module_is_over_400_lines():
    long = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    assert {name: n for name, n in long.items() if n > 400} == {}


def test_the_layout_page_names_every_module_of_core_kinds_and_the_top_level():
    layout = (SRC.parent / "docs" / "layout.md").read_text()
    missing = [
        path.name
        for folder in (SRC / "lte", SRC / "lte" / "core", SRC / "lte" / "kinds", SRC / "lte" / "study")
        for path in folder.glob("*.py")
        if path.name not in ("__init__.py", "__main__.py") and f"`{path.name}`" not in layout
    ]
    assert missing == []
