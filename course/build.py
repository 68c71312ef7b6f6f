"""Build the course: notebook sources -> instructor notebooks -> student release -> executed.

    python course/build.py notebooks   # course/notebooks/NN.py -> course/source/NN/NN.ipynb
    python course/build.py release     # nbgrader generate_assignment -> course/release/
    python course/build.py execute     # run the instructor notebooks -> course/executed/
    python course/build.py samples     # course/samples/NN_name/<student>.py -> course/submitted/
    python course/build.py autograde   # samples, then `python -m autograder grade`, the table
    python course/build.py nbgrader-autograde   # the same with `nbgrader autograde`
    python course/build.py check       # fail if any built notebook is stale
    python course/build.py all         # notebooks, release, execute

The sources are jupytext "percent" files. Lines starting with ``#| `` are build directives and
never reach a notebook:

``#| nbgrader: answer id=NAME``          autograded answer cell (students write code here)
``#| nbgrader: tests id=NAME points=P``  test cell for exercise NAME; the build appends the
                                         hidden region running autograder/suites/<nb>/test_NAME.py
``#| nbgrader: written id=NAME points=P`` manually graded written answer (markdown)
``#| nbgrader: given``                   read-only cell students must not change
``#| solution: MODULE.FUNCTION``         insert that function from solutions/ (no decorators),
                                         with its body between ### BEGIN/END SOLUTION
``#| inline: MODULE[.NAME]``            insert code verbatim (helpers the notebook needs): a whole
                                         module, or one top-level function, class or constant
                                         (with the module-level imports it uses that the notebook
                                         has not made yet)
``#| collapse: source``                 show the cell with its code collapsed (JupyterLab)

A directive's code goes where the directive line is, so a cell can open with a comment. Inlined
code may not import the reference package or the autograder: the notebooks stand on their own.

In markdown, ``attachment:NAME.png`` embeds assets/figures/NAME.png in the notebook.
Built files are never edited by hand; `check` (run by the tests) rebuilds and compares.
"""

from __future__ import annotations

import ast
import base64
import importlib
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat

COURSE = Path(__file__).resolve().parent
ROOT = COURSE.parent
SOURCES = COURSE / "notebooks"
FIGURES = ROOT / "assets" / "figures"
SAMPLES = COURSE / "samples"
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder.config import from_reference  # noqa: E402 (the repository is on sys.path now)
from autograder.environ import environ, run_nbgrader, tools_env  # noqa: E402


class BuildError(Exception):
    pass


# --------------------------------------------------------------------------- code extraction
def _module_and_tree(module_name: str):
    mod = importlib.import_module(module_name)
    path = Path(mod.__file__)
    text = path.read_text()
    return path, text, ast.parse(text)


def _find(tree, name, where):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return node
    raise BuildError(f"{where}: no function or class {name}")


def _assigned_names(node) -> list[str]:
    """Names a top-level assignment binds (``X = ...``, ``X: int = ...``, ``X = Y = ...``)."""
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _find_any(tree, name, where) -> tuple[ast.AST, int]:
    """A top-level function, class or constant, and its last line (a constant's docstring, the
    string literal right after it, is included)."""
    body = tree.body
    for k, node in enumerate(body):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return node, node.end_lineno
        if name in _assigned_names(node):
            nxt = body[k + 1] if k + 1 < len(body) else None
            is_doc = (
                isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            )
            return node, nxt.end_lineno if is_doc else node.end_lineno
    raise BuildError(f"{where}: no top-level function, class or constant {name}")


def _is_reference_import(node) -> bool:
    if isinstance(node, ast.Import):
        return any(from_reference(a.name) for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or from_reference(node.module or "")
    return False


def _bound_names(source: str) -> set[str]:
    """Names that the top level of ``source`` binds unconditionally (imports, defs, assignments)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics and the like: nothing is counted
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            names.update(_assigned_names(node))
    return names


def _used_names(node) -> set[str]:
    """Every name a definition reads, its decorators left out (the build drops them)."""
    used: set[str] = set()
    for field, value in ast.iter_fields(node):
        if field == "decorator_list":
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST):
                used.update(n.id for n in ast.walk(child) if isinstance(n, ast.Name))
    return used


def inline_definition(qualname: str, bound: set[str], where: str) -> tuple[str, str]:
    """(imports, code) for ``#| inline: MODULE.NAME``.

    ``code`` is the definition verbatim (decorators dropped). ``imports`` holds the module-level
    imports of MODULE that the definition reads and that are not in ``bound`` (the names the
    notebook has made so far). The definition may not read another top-level name of MODULE
    unless it is bound already (inline that one first), nor anything imported from the reference
    package or the autograder.
    """
    module_name, name = qualname.rsplit(".", 1)
    path, text, tree = _module_and_tree(module_name)
    node, last = _find_any(tree, name, f"{where}: {_rel(path)}")
    first = node.lineno  # for a decorated def this is the `def` line: decorators stay out
    code = "\n".join(text.splitlines()[first - 1 : last])
    imports: dict[str, ast.AST] = {}  # bound name -> the import (one name) that binds it
    defined: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                imports[(alias.asname or alias.name).split(".")[0]] = ast.Import(names=[alias])
        elif isinstance(stmt, ast.ImportFrom) and stmt.module != "__future__":
            for alias in stmt.names:
                one = ast.ImportFrom(module=stmt.module, names=[alias], level=stmt.level)
                imports[alias.asname or alias.name] = one
        elif isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            defined.add(stmt.name)
        else:
            defined.update(_assigned_names(stmt))
    used = _used_names(node) - bound - {name}
    missing = sorted(used & defined - set(imports))
    if missing:
        raise BuildError(
            f"{where}: {qualname} uses {missing[0]}; add `#| inline: {module_name}.{missing[0]}` "
            "before it."
        )
    lines = []
    for bound_name, stmt in imports.items():  # in the module's order
        if bound_name not in used:
            continue
        if _is_reference_import(stmt):
            raise BuildError(
                f"{where}: {qualname} uses {bound_name}, which {_rel(path)} imports with "
                f"`{ast.unparse(stmt)}`; a notebook may not import the reference package or the "
                "autograder: inline that definition instead."
            )
        lines.append(ast.unparse(stmt))
    return "\n".join(lines), code


def definition_source(qualname: str, solution: bool) -> str:
    """Source of a top-level function/class, without decorators.

    With ``solution`` the body after the docstring is wrapped in ### BEGIN/END SOLUTION; for a
    class, the body of every method (each needs a docstring) is wrapped on its own.
    """
    module_name, name = qualname.rsplit(".", 1)
    path, text, tree = _module_and_tree(module_name)
    node = _find(tree, name, str(path))
    lines = text.splitlines()
    if not solution:
        return "\n".join(lines[node.lineno - 1 : node.end_lineno])
    if isinstance(node, ast.FunctionDef):
        regions = [_solution_region(node, qualname)]
    else:  # a class: each method's body is a solution region, the rest stays visible
        regions = [
            _solution_region(m, f"{qualname}.{m.name}")
            for m in node.body
            if isinstance(m, ast.FunctionDef)
        ]
    out = []
    pos = node.lineno - 1
    for first, last, indent in regions:  # 0-based line ranges [first, last)
        out += lines[pos:first] + [f"{indent}### BEGIN SOLUTION"]
        out += lines[first:last] + [f"{indent}### END SOLUTION"]
        pos = last
    out += lines[pos : node.end_lineno]
    return "\n".join(out)


def _solution_region(fn: ast.FunctionDef, where: str) -> tuple[int, int, str]:
    """Lines (0-based, end exclusive) of a function's body after its docstring, and indent."""
    body = fn.body
    has_doc = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    if not has_doc or len(body) < 2:
        raise BuildError(f"{where}: a solution needs a docstring and a body")
    return body[0].end_lineno, fn.end_lineno, " " * body[1].col_offset


def module_source(module_name: str) -> str:
    """A module's code without its docstring and ``from __future__`` imports."""
    path, text, tree = _module_and_tree(module_name)
    lines = text.splitlines()
    start = 0
    for node in tree.body:
        is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if is_doc or is_future:
            start = node.end_lineno
        else:
            break
    return "\n".join(lines[start:]).strip("\n")


def _rel(path: Path) -> str:
    """``path`` relative to the repository (as it is when it lies outside, e.g. in a test)."""
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


# --------------------------------------------------------------------------- cells
def _nbgrader_meta(kind: str, args: dict[str, str], where: str) -> dict:
    base = {"schema_version": 3, "task": False}
    if kind == "answer":
        meta = dict(grade=False, solution=True, locked=False, grade_id=args["id"])
    elif kind == "tests":
        meta = dict(grade=True, solution=False, locked=True, grade_id="test_" + args["id"])
        meta["points"] = float(args["points"])
    elif kind == "written":
        meta = dict(grade=True, solution=True, locked=False, grade_id=args["id"])
        meta["points"] = float(args["points"])
    elif kind == "given":
        meta = dict(grade=False, solution=False, locked=True, grade_id=args["id"])
    else:
        raise BuildError(f"{where}: unknown nbgrader cell kind {kind!r}")
    return {**base, **meta}


def _hidden_region(assignment: str, exercise: str, points: float) -> str:
    return (
        "### BEGIN HIDDEN TESTS\n"
        "from autograder.hidden import run_hidden_suite\n\n"
        f'run_hidden_suite("{assignment}", "{exercise}", globals(), points={points:g})\n'
        "### END HIDDEN TESTS"
    )


def _attachments(source: str, where: str) -> dict:
    out = {}
    for part in source.split("attachment:")[1:]:
        name = part.split(")")[0].strip()
        path = FIGURES / name
        if not path.is_file():
            raise BuildError(f"{where}: attachment {name} not found in {_rel(FIGURES)}")
        mime = "image/png" if name.endswith(".png") else "image/svg+xml"
        data = path.read_bytes()
        out[name] = {
            mime: base64.b64encode(data).decode() if mime == "image/png" else data.decode()
        }
    return out


def _segments(source: str) -> list[tuple[str, str]]:
    """A cell's lines as ("directive", text after "#| ") and ("text", a run of other lines)."""
    out: list[tuple[str, str]] = []
    run: list[str] = []
    for line in [*source.splitlines(), None]:
        if line is None or line.startswith("#| "):
            chunk = "\n".join(run).strip("\n")
            if chunk:
                out.append(("text", chunk))
            run = []
            if line is not None:
                out.append(("directive", line[3:].strip()))
        else:
            run.append(line)
    return out


def _inline_module(value: str, where: str) -> str | None:
    """The code of ``#| inline: value`` when ``value`` names a whole module (else None)."""
    try:
        module = importlib.import_module(value)
    except ModuleNotFoundError:
        return None
    origin = _rel(Path(module.__file__))
    code = module_source(value)
    if any(_is_reference_import(n) for n in ast.walk(ast.parse(code))):
        raise BuildError(
            f"{where}: {origin} imports the reference package or the autograder; a notebook may "
            "not."
        )
    return f"# From {origin}, inlined by course/build.py.\n\n{code}"


def _import_block(lines: list[str]) -> str:
    """Import lines in isort's order: the standard library, a blank line, the rest."""

    def key(line: str):
        module = line.split()[1].split(".")[0]
        return (module not in sys.stdlib_module_names, line.startswith("from"), line.lower())

    ordered = sorted(dict.fromkeys(lines), key=key)
    groups = [[x for x in ordered if key(x)[0] == g] for g in (False, True)]
    return "\n\n".join("\n".join(g) for g in groups if g)


def build_notebook(src: Path) -> nbformat.NotebookNode:
    """Turn one jupytext source into the instructor notebook (no outputs)."""
    assignment = src.stem
    nb = jupytext.read(src)
    cells = []
    given = 0
    bound: set[str] = set()  # names the code cells so far bind at their top level
    for i, cell in enumerate(nb.cells):
        where = f"{_rel(src)} cell {i}"
        meta: dict = {}
        parts: list[str] = []
        tests_for = None
        # Inlined definitions: one "# From MODULE" line per run from one module, and the imports
        # they need gathered in one block before the first of them.
        last_origin = None
        import_slot, cell_imports = None, []
        for kind_of_line, chunk in _segments(cell.source):
            if kind_of_line == "text":
                parts.append(chunk)
                last_origin = None
                if cell.cell_type == "code":
                    bound.update(_bound_names(chunk))
                continue
            key, _, value = chunk.partition(":")
            value = value.strip()
            if key == "nbgrader":
                kind, *kv = shlex.split(value)
                args = dict(x.split("=", 1) for x in kv)
                if kind == "given":
                    given += 1
                    args.setdefault("id", f"given_{given:02d}")
                meta["nbgrader"] = _nbgrader_meta(kind, args, where)
                if kind == "tests":
                    tests_for = (args["id"], float(args["points"]))
            elif key == "solution":
                parts.append(definition_source(value, solution=True))
                bound.update(_bound_names(parts[-1]))  # an answer cell defines its function
                last_origin = None
            elif key == "inline" and (code := _inline_module(value, where)) is not None:
                parts.append(code)
                bound.update(_bound_names(code))
                last_origin = None
            elif key == "inline":
                imports, code = inline_definition(value, bound, where)
                bound.update(_bound_names(imports) | _bound_names(code))
                cell_imports += imports.splitlines()
                if import_slot is None:
                    import_slot = len(parts)
                    parts.append("")
                origin = _rel(Path(importlib.import_module(value.rsplit(".", 1)[0]).__file__))
                if origin == last_origin:
                    parts[-1] += "\n\n\n" + code
                else:
                    parts.append(f"# From {origin}, inlined by course/build.py.\n\n{code}")
                last_origin = origin
            elif key == "collapse" and value == "source":
                meta["jupyter"] = {"source_hidden": True}
            else:
                raise BuildError(f"{where}: unknown directive {chunk!r}")
        if import_slot is not None:
            parts[import_slot] = _import_block(cell_imports)
            parts = [x for x in parts if x]
        if tests_for is not None:
            parts.append(_hidden_region(assignment, *tests_for))
        source = "\n\n".join(parts)
        if cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(source, metadata=meta)
            att = _attachments(source, where)
            if att:
                new["attachments"] = att
        else:
            new = nbformat.v4.new_code_cell(source, metadata=meta)
        new["id"] = meta.get("nbgrader", {}).get("grade_id", f"cell-{i:03d}").replace("_", "-")
        cells.append(new)
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata = {
        "kernelspec": KERNEL,
        "language_info": {"name": "python"},
        "course": {
            "generated_from": _rel(src),
            "generator": "course/build.py",
            "note": "Generated file: edit the source named above and rebuild, never this file.",
        },
    }
    _check_unique_ids(out, src)
    return out


def _check_unique_ids(nb, src):
    seen = set()
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid is None:
            continue
        if gid in seen:
            raise BuildError(f"{_rel(src)}: grade_id {gid} used twice")
        seen.add(gid)


def sources() -> list[Path]:
    return sorted(SOURCES.glob("[0-9][0-9]_*.py"))


def _dump(nb) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def build_all(out_root: Path = COURSE / "source") -> list[Path]:
    written = []
    for src in sources():
        nb = build_notebook(src)
        nbformat.validate(nb)
        dest = out_root / src.stem / f"{src.stem}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(_dump(nb))
        written.append(dest)
    return written


# --------------------------------------------------------------------------- nbgrader steps
def nbgrader(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = run_nbgrader(COURSE, *args)
    if check and proc.returncode != 0:
        raise BuildError(f"{' '.join(proc.args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def release() -> None:
    for src in sources():
        nbgrader("generate_assignment", src.stem, "--force", "--log-level=WARN")


def execute(names=None, autograde_mode: bool = False, out_dir: Path | None = None) -> dict:
    """Execute instructor notebooks top to bottom; return seconds per notebook."""
    from nbclient import NotebookClient
    from traitlets.config.loader import PyFileConfigLoader

    # the course's Jupyter settings (its kernels' transport encryption, for one)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()
    out_dir = out_dir or COURSE / "executed"
    out_dir.mkdir(parents=True, exist_ok=True)
    timings = {}
    with environ(NBGRADER_EXECUTION="autograde" if autograde_mode else None):
        for src in sources():
            if names and src.stem not in names:
                continue
            path = COURSE / "source" / src.stem / f"{src.stem}.ipynb"
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(
                nb,
                timeout=600,
                kernel_name="python3",
                resources={"metadata": {"path": path.parent}},
                config=config,
            )
            t0 = time.perf_counter()
            client.execute()
            timings[src.stem] = time.perf_counter() - t0
            nbformat.write(nb, out_dir / path.name)
    return timings


# --------------------------------------------------------------------------- samples
def build_samples(
    samples_root: Path = SAMPLES,
    out_root: Path = COURSE / "submitted",
    release_root: Path = COURSE / "release",
) -> list[Path]:
    """Fill the student release with each sample's answers -> <out_root>/<student>/<nb>/<nb>.ipynb.

    A sample is <samples_root>/<nb>/<student>.py: each top-level function or class whose name
    is an answer cell's grade_id replaces that cell's code; ``ANSWERS = {grade_id: text}`` fills
    written answers. Cells a sample does not mention stay unanswered. Other top-level statements
    (``EXPECT``, ``NAMES``: what the tests expect of the sample) are not copied.
    """
    written = []
    for folder in sorted(p for p in samples_root.glob("[0-9][0-9]_*") if p.is_dir()):
        release = release_root / folder.name / f"{folder.name}.ipynb"
        for sample in sorted(folder.glob("*.py")):
            nb = nbformat.read(release, as_version=4)
            text = sample.read_text()
            tree = ast.parse(text)
            lines = text.splitlines()
            funcs = {
                n.name: "\n".join(lines[n.lineno - 1 - len(n.decorator_list) : n.end_lineno])
                for n in tree.body
                if isinstance(n, (ast.FunctionDef, ast.ClassDef))
            }
            answers = {}
            for n in tree.body:
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "ANSWERS":
                    answers = ast.literal_eval(n.value)
            for cell in nb.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if cell.cell_type == "code" and gid in funcs:
                    cell.source = funcs[gid]
                elif cell.cell_type == "markdown" and gid in answers:
                    cell.source = answers[gid]
            dest = out_root / sample.stem / folder.name / release.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, dest)
            written.append(dest)
    return written


def autograde(use_nbgrader: bool = False) -> str:
    """Grade every bundled sample and return the score tables.

    By default with the course's grading command (``python -m autograder grade``, sandboxed);
    with ``use_nbgrader`` with ``nbgrader autograde`` instead (the hidden regions of the test
    cells call the same suites).
    """
    from autograder.gradebook import format_table, max_points, scores

    build_samples()
    db = f"sqlite:///{COURSE / 'gradebook.db'}"
    tables = []
    for src in sources():
        if not (SAMPLES / src.stem).is_dir():
            continue
        if use_nbgrader:
            nbgrader("autograde", src.stem, "--create", "--force", "--log-level=WARN")
            table = format_table(scores(db, src.stem), max_points(db, src.stem))
            tables.append(f"{src.stem} (nbgrader autograde)\n{table}")
            continue
        cmd = [sys.executable, "-m", "autograder", "grade", src.stem, "--no-progress"]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=tools_env())
        if proc.returncode != 0:
            raise BuildError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
        tables.append(f"{src.stem} (python -m autograder grade)\n{proc.stdout.strip()}")
    return "\n\n".join(tables)


# --------------------------------------------------------------------------- check
def stale() -> list[str]:
    """Names of built notebooks that differ from a fresh build of their sources."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for fresh in build_all(Path(tmp)):
            committed = COURSE / "source" / fresh.parent.name / fresh.name
            if not committed.is_file() or committed.read_text() != fresh.read_text():
                out.append(_rel(committed))
    return out


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "all"
    if cmd in ("notebooks", "all"):
        for p in build_all():
            print("built", _rel(p))
    if cmd in ("release", "all"):
        release()
        print("released", ", ".join(s.stem for s in sources()))
    if cmd in ("execute", "all"):
        for name, secs in execute().items():
            print(f"executed {name} in {secs:.1f} s -> course/executed/{name}.ipynb")
    if cmd == "samples":
        for p in build_samples():
            print("sample", _rel(p))
    if cmd == "autograde":
        print(autograde())
    if cmd == "nbgrader-autograde":
        print(autograde(use_nbgrader=True))
    if cmd == "check":
        bad = stale()
        if bad:
            print("stale (run `python course/build.py notebooks`):", *bad, sep="\n  ")
            return 1
        print("all built notebooks are fresh")
    known = ("notebooks", "release", "execute", "samples", "autograde", "nbgrader-autograde")
    if cmd not in (*known, "check", "all"):
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
