"""The house rules of the layout, checked from the source (as the TensorFlow-free test does):
cross-process names are spelled only in `shared/`, and no module imports run in a loop."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from shared import celery_app, redis_keys

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("shared", "webapp", "worker", "trainer", "cli", "devtools")
CHECKED = (*PACKAGES, "bench", "tests")
# built from the shared names themselves, so this file spells neither a key nor a task name
KEY = re.compile(rf"^{re.escape(redis_keys.PREFIX)}:\S")
TASK_NAMES = {celery_app.PREDICT_TASK, celery_app.CLASSIFY_FRAME_TASK,
              celery_app.CLASSIFY_CHUNK_TASK, celery_app.RETRAIN_TASK,
              celery_app.SHADOW_REVIEW_TASK}
CHANNELS = {redis_keys.SOCKETIO_CHANNEL}


def python_files(folders: tuple[str, ...]) -> list[Path]:
    """Every .py file under the given top-level folders."""
    return sorted(p for folder in folders for p in (REPO / folder).rglob("*.py")
                  if ".venv" not in p.parts)


def module_name(path: Path) -> str:
    """`webapp/live.py` -> `webapp.live`; a package's `__init__.py` -> the package."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def raw_contract_strings(path: Path) -> list[str]:
    """String literals in `path` that spell a Redis key, channel or task name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if KEY.match(text) or text in TASK_NAMES or text in CHANNELS:
                found.append(text)
        elif isinstance(node, ast.JoinedStr):  # f"{PREFIX}:..." builds a key by hand
            names = {v.value.id for v in node.values if isinstance(v, ast.FormattedValue)
                     and isinstance(v.value, ast.Name)}
            if "PREFIX" in names:
                found.append(ast.unparse(node))
    return found


def test_no_redis_key_or_task_name_is_spelled_outside_shared() -> None:
    offenders = {str(p.relative_to(REPO)): raw for p in python_files(CHECKED)
                 if p.relative_to(REPO).parts[0] != "shared"
                 and (raw := raw_contract_strings(p))}
    assert offenders == {}, "use the names in shared/redis_keys.py and shared/celery_app.py"


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """First-party modules `path` imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules
            if subs:
                found |= subs
            elif node.module in modules:
                found.add(node.module)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop as a path of module names, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_find_cycle_sees_a_loop() -> None:
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_loop() -> None:
    files = {module_name(p): p for p in python_files(PACKAGES)}
    graph = {name: imports_of(path, set(files)) - {name} for name, path in files.items()}
    assert find_cycle(graph) is None


def test_no_script_folder_shadows_the_standard_library() -> None:
    """`python bench/x.py` puts bench/ first on sys.path: a bench/numbers.py once replaced the
    stdlib `numbers` that numpy imports, and every benchmark died at `import numpy`."""
    for folder in ("bench", "devtools", "cli"):
        names = {p.stem for p in (REPO / folder).glob("*.py")}
        clash = names & set(sys.stdlib_module_names)
        assert not clash, f"{folder}/ shadows the standard library: {sorted(clash)}"
