"""The layering the code relies on, checked by reading the source (imports and calls).

Bottom to top: settings/enums/models/routes/db/outbound -> domain -> queries ->
live, access, monitoring, notify -> web, ui, api -> statusapp.py, serve -> cli. A module imports only from
layers below its own (or its own package). Each failure names the file and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "statusapp"

# Lower rank = lower layer. A module of rank r may import statusapp modules of rank < r, or
# modules inside its own top-level package (statusapp.ui.* from statusapp.ui.*).
RANKS = {
    "__init__": 0, "clock": 0, "settings": 0, "enums": 0, "routes": 0, "models": 1, "markdown": 0, "db": 1, "outbound": 1,
    "domain": 2,
    "queries": 3, "demo": 3,
    "live": 4, "access": 4, "monitoring": 4, "notify": 4,
    "web": 5, "web_subscriptions": 5, "ui": 5, "api": 5, "jobs": 5,
    "statusapp": 6, "serve": 6,
    "cli": 7,
}
WRITE_METHODS = {"commit", "flush", "add_all", "merge", "bulk_save_objects"}
SESSION_WRITES = {"add", "delete"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _top(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(tree: ast.AST) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            out += [f"{node.module}.{a.name}" for a in node.names]
    return out


def _rel(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


MODULES = _modules()


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_imports_only_from_lower_layers(path):
    own = _top(path)
    assert own in RANKS, f"{_rel(path)}: new top-level module '{own}': give it a rank in tests/test_architecture.py"
    bad = []
    for name in _imports(ast.parse(path.read_text())):
        parts = name.split(".")
        if parts[0] != "statusapp" or len(parts) < 2 or parts[1] not in RANKS:
            continue
        target = parts[1]
        if target != own and RANKS[target] >= RANKS[own]:
            bad.append(name)
    assert not bad, f"{_rel(path)} imports upward or sideways: {sorted(set(bad))}"


@pytest.mark.parametrize("path", [p for p in MODULES if _top(p) == "domain"], ids=_rel)
def test_domain_imports_neither_reflex_nor_fastapi(path):
    names = {n.split(".")[0] for n in _imports(ast.parse(path.read_text()))}
    assert not names & {"reflex", "reflex_base", "fastapi", "starlette"}, f"{_rel(path)} imports a web framework"


@pytest.mark.parametrize("path", [p for p in MODULES if _top(p) not in ("domain", "db")], ids=_rel)
def test_only_the_domain_writes(path):
    """Outside domain/ (and db.py, which defines the unit of work) nothing commits, flushes or
    adds rows to a session: every change of state goes through a domain operation."""
    bad = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, receiver = node.func.attr, node.func.value
            receiver_name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
            if method in WRITE_METHODS or (method in SESSION_WRITES and "session" in receiver_name.lower()):
                bad.append(f"line {node.lineno}: .{method}()")
        if isinstance(node, ast.ImportFrom) and node.module in ("sqlalchemy", "sqlmodel"):
            bad += [f"line {node.lineno}: imports {a.name}" for a in node.names if a.name in ("insert", "update", "delete")]
    assert not bad, f"{_rel(path)} writes to the database outside the domain: {bad}"


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_only_notification_modules_import_resend(path):
    names = {n.split(".")[0] for n in _imports(ast.parse(path.read_text()))}
    if "resend" in names:
        assert _rel(path).startswith("statusapp/notify/"), f"{_rel(path)} imports resend outside statusapp/notify/"


def test_the_checks_can_fail():
    """The layer check really reads imports: a module importing the UI from the domain fails."""
    tree = ast.parse("from statusapp.ui.public import PAGE_TARGET\nimport statusapp.live")
    assert "statusapp.ui.public" in _imports(tree) and "statusapp.live" in _imports(tree)
    assert RANKS["ui"] > RANKS["domain"]
