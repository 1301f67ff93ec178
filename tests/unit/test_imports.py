"""The project's imports: no circle between its modules, and no import hidden in a function without a measured reason.

The modules are those of ``app.py``, ``chalicelib/``, ``local/``, ``infra/`` and ``bench/``, read with ``ast`` (nothing
is imported). Every import counts, at module level or inside a function, relative ones resolved: an import moved into
a function does not remove a circle, it only hides it until the function runs. A circle is a strongly connected
component of more than one module; the test names its modules and the imports that close it.

In the deployed code (``app.py`` and ``chalicelib/``), an import inside a function is allowed only with a comment on
its line, or in the comment block just above it (or above the group of imports it belongs to), that starts with
``# cold start:`` and gives the measured cost in ms (``python -X importtime``, cumulative, over what the function
already loads: ``app.py`` for the API), e.g. ``# cold start: zxcvbn 22 ms, only the routes that set a password need
it``. A Lambda function pays every module-level import at its start; the rule of this code base is that a module that
costs 2 ms or more there and that most of the function's calls do not need waits for its first use (the API's import
had about 6 ms of room under its target in bench/coldstart.py), and that everything else is imported at the top.

``local/``, ``infra/``, ``bench/`` and ``tests/`` are exempt from that rule: they are developer tools whose start-up
is no user's wait, and their lazy imports keep a tool from loading what only another sub-command needs.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
DEPLOYED = ("app.py", "chalicelib/")
MARKER = re.compile(r"#\s*cold start:.*\d\s*ms", re.IGNORECASE)

# Lazy imports tolerated without a reason while their module is being rewritten: (file, imported module). Each one is
# to leave this list when its import moves to the top of its module or gets its `# cold start:` reason. None today.
KNOWN_LAZY_IMPORTS: set[tuple[str, str]] = set()
# Circles tolerated in the same way, as the set of their modules. None today.
KNOWN_CIRCLES: list[frozenset[str]] = []


def project_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project (packages by their ``__init__``)."""
    paths = [PROJECT_DIR / "app.py"]
    paths += sorted((PROJECT_DIR / "chalicelib").rglob("*.py"))
    for folder in ("local", "infra", "bench"):
        paths += sorted((PROJECT_DIR / folder).glob("*.py"))
    modules = {}
    for path in paths:
        parts = list(path.relative_to(PROJECT_DIR).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


class Import:
    """One import statement: where it is, what it names, whether it sits inside a function."""

    def __init__(self, node: ast.Import | ast.ImportFrom, targets: list[str], in_function: bool):
        self.node, self.targets, self.in_function = node, targets, in_function


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> list[str]:
    """The dotted names an import statement loads: ``from .x import y`` is ``pkg.x.y`` when y is a module, else
    ``pkg.x``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)] if node.level else []
    prefix = ".".join(base + ([node.module] if node.module else []))
    names = []
    for alias in node.names:
        candidate = f"{prefix}.{alias.name}" if prefix else alias.name
        names.append(candidate if candidate in known else prefix)
    return names


def imports_of(module: str, path: Path, known: dict[str, Path]) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(Import(child, _targets(module, path, child, known), in_function))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)
    return found


def _project_module(name: str, known: dict[str, Path]) -> str | None:
    """The project module an imported name belongs to (``a.b.c`` of a module ``a.b``), None for anything else."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], int]]:
    """Edges between project modules, and the line of one import for each edge (to name it in a failure)."""
    known = project_modules()
    edges: dict[str, set[str]] = {module: set() for module in known}
    lines: dict[tuple[str, str], int] = {}
    for module, path in known.items():
        for found in imports_of(module, path, known):
            for target in found.targets:
                target = _project_module(target, known)
                if target and target != module:
                    edges[module].add(target)
                    lines.setdefault((module, target), found.node.lineno)
    return edges, lines


def circles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def _describe(circle: frozenset[str], edges: dict[str, set[str]], lines: dict[tuple[str, str], int]) -> str:
    inside = sorted(f"{source} -> {target} (line {lines[source, target]})"
                    for source in circle for target in edges[source] if target in circle)
    return "{" + ", ".join(sorted(circle)) + "}: " + "; ".join(inside)


def test_no_import_circle_between_the_projects_modules():
    edges, lines = import_graph()
    found = [circle for circle in circles(edges) if circle not in KNOWN_CIRCLES]
    assert not found, "import circles:\n" + "\n".join(_describe(circle, edges, lines) for circle in found)


def test_the_circle_finder_finds_a_circle_closed_inside_a_function(tmp_path):
    """The check itself: a circle whose closing import is inside a function is a circle."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from . import b\n")
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    from .a import g  # cold start: 1 ms\n")
    (tmp_path / "pkg" / "c.py").write_text("import pkg.a\n")
    known = {"pkg": tmp_path / "pkg" / "__init__.py",
             **{f"pkg.{name}": tmp_path / "pkg" / f"{name}.py" for name in "abc"}}
    edges = {module: {t for i in imports_of(module, path, known) for n in i.targets
                      if (t := _project_module(n, known)) and t != module}
             for module, path in known.items()}
    assert edges["pkg.b"] == {"pkg.a"} and edges["pkg.c"] == {"pkg.a"}
    assert circles(edges) == [frozenset({"pkg.a", "pkg.b"})]


def _marked(source_lines: list[str], node: ast.stmt, import_lines: set[int]) -> bool:
    """A ``# cold start: ... N ms`` comment on the import's lines, or in the comment block right above it or above
    the run of imports it belongs to."""
    if any(MARKER.search(source_lines[number - 1]) for number in range(node.lineno, node.end_lineno + 1)):
        return True
    number = node.lineno - 1
    while number >= 1 and number in import_lines:
        number -= 1
    while number >= 1 and source_lines[number - 1].strip().startswith("#"):
        if MARKER.search(source_lines[number - 1]):
            return True
        number -= 1
    return False


def lazy_imports_without_reason() -> list[tuple[str, int, str]]:
    """(file, line, imported module) of each import inside a function of the deployed code with no measured reason."""
    known = project_modules()
    missing = []
    for module, path in known.items():
        relative = path.relative_to(PROJECT_DIR).as_posix()
        if not relative.startswith(DEPLOYED):
            continue
        source_lines = path.read_text(encoding="utf-8").splitlines()
        found = imports_of(module, path, known)
        import_lines = {number for i in found if i.in_function
                        for number in range(i.node.lineno, i.node.end_lineno + 1)}
        for lazy in (i for i in found if i.in_function):
            if _marked(source_lines, lazy.node, import_lines):
                continue
            for target in sorted({_project_module(t, known) or t for t in lazy.targets}):
                if (relative, target) not in KNOWN_LAZY_IMPORTS:
                    missing.append((relative, lazy.node.lineno, target))
    return missing


def test_every_import_inside_a_function_of_the_deployed_code_gives_its_measured_cold_start_cost():
    missing = lazy_imports_without_reason()
    assert not missing, ("imports inside functions without a '# cold start: <module> <N> ms, <why>' comment (move "
                         "them to the top of their module, or measure them):\n"
                         + "\n".join(f"{path}:{line} {target}" for path, line, target in missing))


def test_the_known_lazy_imports_still_exist():
    """The allow-list only shrinks: an entry whose import was moved or commented must leave it."""
    known = project_modules()
    present = set()
    for module, path in known.items():
        relative = path.relative_to(PROJECT_DIR).as_posix()
        source_lines = path.read_text(encoding="utf-8").splitlines()
        found = imports_of(module, path, known)
        import_lines = {number for i in found if i.in_function
                        for number in range(i.node.lineno, i.node.end_lineno + 1)}
        for lazy in (i for i in found if i.in_function and not _marked(source_lines, i.node, import_lines)):
            present |= {(relative, _project_module(t, known) or t) for t in lazy.targets}
    assert not KNOWN_LAZY_IMPORTS - present, sorted(KNOWN_LAZY_IMPORTS - present)
    edges, _ = import_graph()
    assert all(circle in circles(edges) for circle in KNOWN_CIRCLES)


def test_the_marker_check_reads_the_comment_above_a_group_of_imports(tmp_path):
    source = ("def f():\n"
              "    # cold start: argon2 3 ms, only logins hash\n"
              "    from argon2 import PasswordHasher\n"
              "    from argon2.profiles import RFC_9106_LOW_MEMORY\n"
              "\n"
              "def g():\n"
              "    # imported here: cheaper\n"
              "    import json\n"
              "\n"
              "def h():\n"
              "    import hmac  # cold start: hmac\n")
    tree = ast.parse(source)
    lines = source.splitlines()
    nodes = sorted((n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))), key=lambda n: n.lineno)
    import_lines = {n.lineno for n in nodes}
    assert [_marked(lines, n, import_lines) for n in nodes] == [True, True, False, False]
