"""Every name that the README and the manual (docs/) give in backticks exists (issue 31): a module,
function, class or constant of ours (`approvals.services.decide_step`), a file or folder
(`approvals/reminders.py`), a make target (`make chaos`), a management command
(`manage.py verify_audit`) or a setting read from the environment (`TANDEM_SSO_ONLY`). A rename
then fails here instead of leaving the manual pointing at nothing.

Names are checked without importing our modules (their attributes are read from the source), so
naming `settings.production` runs none of it."""

import ast
import os
import re
from functools import cache
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"`([^`]+)`")  # a span may go on over a line break
DOTTED = re.compile(r"[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")
PATH = re.compile(r"[\w.-]+(/[\w.*-]+)*/?")
SETTING = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+")
COMMAND = re.compile(r"(?:python )?manage\.py (\w+)")
# Made by running Tandem or its tools, git-ignored; a page may name them.
GENERATED = ("var/", "site/", "test-results/", "staticfiles/")
SKIPPED_DIRS = {".git", ".venv", "node_modules", "site", "var", "__pycache__", "staticfiles"}


def spans() -> list[tuple[str, str]]:
    """(page, text) of every inline code span outside fenced blocks."""
    found = []
    for page in PAGES:
        text = FENCE.sub("", page.read_text())
        found += [(str(page.relative_to(ROOT)), " ".join(s.split())) for s in SPAN.findall(text)]
    return found


SPANS = spans()


@cache
def packages() -> set[str]:
    return {p.parent.name for p in ROOT.glob("*/__init__.py")}


@cache
def file_names() -> set[str]:
    names = set()
    for _folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        names.update(files)
    return names


@cache
def source_text() -> str:
    """Everything that may read a setting or variable: our Python, the Makefile, compose, CI."""
    parts = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS | {"docs", "tests"}]
        for name in files:
            path = Path(folder) / name
            if path.suffix in {".py", ".yml", ".toml"} or path.parent.name in {"bin", ".ci"}:
                parts.append(path.read_text(errors="replace"))
    parts += [(ROOT / name).read_text() for name in ("Makefile", "Dockerfile")]
    return "\n".join(parts)


@cache
def defined_names(source: Path) -> dict[str, ast.AST]:
    tree = ast.parse(source.read_text())
    return names_in(tree.body)


def names_in(body) -> dict[str, ast.AST]:
    names = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update((t.id, node) for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update(((a.asname or a.name).split(".")[0], node) for a in node.names)
    return names


def resolves(dotted: str) -> bool:
    """A module path, then attributes defined in it (a class's own attributes too)."""
    first, *rest = dotted.split(".")
    where = ROOT / first
    while rest and ((where / rest[0]).is_dir() or (where / f"{rest[0]}.py").is_file()):
        where = where / rest.pop(0)
    if not rest:
        return True
    source = where / "__init__.py" if where.is_dir() else where.with_suffix(".py")
    names = defined_names(source)
    for attribute in rest:
        node = names.get(attribute)
        if node is None:
            return False
        names = names_in(node.body) if isinstance(node, ast.ClassDef) else {}
    return True


def path_exists(path: str) -> bool:
    if path.startswith(GENERATED):
        return True
    if "/" not in path:
        return path in file_names()
    return any(ROOT.glob(path.rstrip("/"))) if "*" in path else (ROOT / path).exists()


@cache
def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def kind_of(span: str) -> str | None:
    if COMMAND.fullmatch(span.split(" [")[0].split(" --")[0]) or span.startswith("manage.py "):
        return "command"
    if span.startswith("make "):
        return "make"
    if DOTTED.fullmatch(span) and span.split(".")[0] in packages():
        return "dotted"
    if SETTING.fullmatch(span):
        return "setting"
    ours = not span.startswith("../")  # shared/ lies beside the repository
    if PATH.fullmatch(span) and ours and ("/" in span or span.endswith(".py")):
        return "path"
    return None


def missing(span: str) -> bool:
    kind = kind_of(span)
    if kind == "command":
        return COMMAND.match(span).group(1) not in get_commands()
    if kind == "make":
        return span.split()[1] not in make_targets()
    if kind == "dotted":
        return not resolves(span)
    if kind == "setting":
        return span not in source_text()
    if kind == "path":
        return not path_exists(span)
    return False


def test_every_name_in_the_manual_exists():
    broken = sorted({f"{page}: `{span}`" for page, span in SPANS if missing(span)})
    assert not broken, "names that do not exist:\n" + "\n".join(broken)


def test_the_check_finds_names_of_each_kind():
    """The check is not vacuous: the manual names each kind, and a wrong name of each fails."""
    kinds = {kind_of(span) for _, span in SPANS}
    assert {"command", "make", "dotted", "setting", "path"} <= kinds
    for wrong in (
        "approvals.services.decide_everything",
        "approvals.no_such_module.thing",
        "approvals/no_such_file.py",
        "make no-such-target",
        "manage.py no_such_command",
        "TANDEM_NO_SUCH_SETTING",
    ):
        assert missing(wrong), wrong


@pytest.mark.parametrize(
    "name",
    [
        "approvals.services.decide_step",
        "approvals.models.ApprovalStep.closed_because",
        "settings.production",
        "approvals/reminders.py",
        "make lint",
        "manage.py verify_audit",
        "TANDEM_SSO_ONLY",
    ],
)
def test_a_real_name_of_each_kind_resolves(name):
    assert not missing(name)
