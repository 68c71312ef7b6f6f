"""Find the ways around the "no library shortcut" rule in a student's source code.

An exercise such as "write the LSTM yourself" is checked at run time: the worker switches off
PyTorch's fused recurrent kernels while the student's module runs (see
``worker.forbid_builtin_rnns``). Code running in the same interpreter can switch such a check off
again (``torch._C.DisableTorchFunction``, ``torch._C._VariableFunctions.lstm``, TorchScript,
attributes fetched by computed names...), so the grading process, which the student cannot
touch, also reads the submitted source and refuses those means wherever they appear. Honest
code for these notebooks needs none of them.

:func:`findings` returns one line per finding, naming the cell, the line and what was found.
"""

from __future__ import annotations

import ast
import symtable

from autograder.inside.modules import FUSED_KERNELS

# names that reach torch's internals, or code and attributes by computed names
ESCAPES = {
    "_C": "torch._C (PyTorch's internals)",
    "_VF": "torch._VF (PyTorch's fused kernels)",
    "_VariableFunctions": "torch._C._VariableFunctions (PyTorch's fused kernels)",
    "DisableTorchFunction": "DisableTorchFunction (switches the grader's check off)",
    "DisableTorchFunctionSubclass": "DisableTorchFunctionSubclass",
    "_pop_mode": "torch.overrides._pop_mode",
    "_push_mode": "torch.overrides._push_mode",
    "_disable_current_modes": "_disable_current_modes",
    "overrides": "torch.overrides",
    "jit": "torch.jit (TorchScript)",
    "CompilationUnit": "torch.jit.CompilationUnit",
    "ops": "torch.ops (PyTorch's operators by name)",
    "library": "torch.library",
    "_dynamo": "torch._dynamo",
    "compile": "compile / torch.compile",
    "ctypes": "ctypes",
    "pickle": "pickle",
    "marshal": "marshal",
    "importlib": "importlib",
    "import_module": "import_module",
    "resolve_name": "pkgutil.resolve_name",
    "locate": "pydoc.locate",
    "attrgetter": "operator.attrgetter",
    "methodcaller": "operator.methodcaller",
    "getattr_static": "inspect.getattr_static",
    "getmembers": "inspect.getmembers",
    "CodeType": "types.CodeType",
    "FunctionType": "types.FunctionType",
    # the run-time check watches the thread the tests call the student's code in; code run in
    # another thread or process is out of its sight
    "threading": "threading (code in another thread is not checked)",
    "_thread": "_thread (code in another thread is not checked)",
    "Thread": "Thread (code in another thread is not checked)",
    "ThreadPoolExecutor": "ThreadPoolExecutor (code in another thread is not checked)",
    "ProcessPoolExecutor": "ProcessPoolExecutor (code in another process is not checked)",
    "concurrent": "concurrent.futures (code in another thread is not checked)",
    "multiprocessing": "multiprocessing (code in another process is not checked)",
    "subprocess": "subprocess (code in another process is not checked)",
}
# PyTorch's fused recurrent kernels (torch.lstm, torch.gru_cell...): refused as attributes of
# the torch module (or a name it was imported as) and as imports from it, not as the names of a
# student's own helpers
TORCH_KERNELS = FUSED_KERNELS
# words a student may well use as variable names: refused as attributes and imports only
COMMON_WORDS = {"ops", "library", "overrides", "jit", "compile", "locate"}
# builtins that run code or reach objects by computed names (as names, not as attributes:
# ``model.eval()`` is fine)
ESCAPE_BUILTINS = {"exec", "eval", "compile", "globals", "locals", "vars", "__import__"}
BY_NAME = {"getattr", "setattr", "hasattr", "delattr"}
DUNDERS_OK = {
    "__init__",
    "__name__",
    "__class__",
    "__doc__",
    "__module__",
    "__qualname__",
    "__len__",
    "__call__",
    "__repr__",
    "__str__",
}
SUSPECT_TEXT = ("_VF", "_VariableFunctions", "aten::", "DisableTorchFunction", "torch._C")


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _torch_names(tree: ast.AST) -> set[str]:
    """The names the torch module is bound to in ``tree`` (``import torch as T`` gives T)."""
    out = {"torch"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.asname or a.name for a in node.names if a.name == "torch")
    return out


def _scan(tree: ast.AST, kernels: set[str]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []

    def add(node, what):
        found.append((getattr(node, "lineno", 0), what))

    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    torch_names = _torch_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            a = node.attr
            base = _dotted(node.value).split(".")[0]
            if a in TORCH_KERNELS and base in torch_names:
                add(node, f"{_dotted(node)} (a built-in recurrent kernel)")
            elif a in ESCAPES:
                add(node, ESCAPES[a])
            elif a in kernels:
                add(node, f"{_dotted(node)} (a built-in recurrent layer)")
            elif a.startswith("__") and a.endswith("__") and a not in DUNDERS_OK:
                add(node, f"the attribute {a}")
            elif a == "modules" and isinstance(node.value, ast.Name) and node.value.id == "sys":
                add(node, "sys.modules")
        elif isinstance(node, ast.Name):
            if node.id in BY_NAME and id(node) not in called:
                add(node, f"{node.id} passed on or renamed (attributes by computed names)")
            elif node.id in ESCAPE_BUILTINS:
                add(node, f"{node.id}()")
            elif node.id in ESCAPES and node.id not in COMMON_WORDS:
                add(node, ESCAPES[node.id])
            elif node.id in ("__builtins__", "__loader__", "__spec__", "__dict__"):
                add(node, node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names]
            if isinstance(node, ast.ImportFrom):
                modules = [f"{node.module or ''}.{m}" for m in modules]
            for m in modules:
                parts = set(m.split("."))
                bad = sorted(p for p in parts if p in ESCAPES or p in kernels)
                if m.startswith("torch.") and m.rsplit(".", 1)[-1] in TORCH_KERNELS:
                    bad.append(m)
                if bad:
                    add(node, f"import {m.strip('.')}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in BY_NAME and len(node.args) >= 2:
                name = node.args[1]
                if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                    add(node, f"{node.func.id}() with a computed attribute name")
                elif name.value in ESCAPES or name.value in kernels:
                    add(node, f"{node.func.id}(..., {name.value!r})")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if any(t in node.value for t in SUSPECT_TEXT):
                add(node, f"the text {node.value[:40]!r}")
    return found


def findings(sources: list[str], kernels: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Every escape from the shortcut check in ``sources`` (the student's cells, in order),
    plus attribute uses of the names in ``kernels`` (e.g. ``nn.LSTM``), as readable lines."""
    out = []
    for i, src in enumerate(sources, 1):
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for line, what in sorted(set(_scan(tree, set(kernels)))):
            out.append(f"your cell {i}, line {line}: {what}")
    return out


# --------------------------------------------------------------------------- reachable code
def _bound(stmt: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the notebook's namespace: its definitions, imports
    and assignment targets (not the locals of functions it defines), and the globals its
    functions declare with ``global``."""
    out: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
            out.update(n for g in ast.walk(node) if isinstance(g, ast.Global) for n in g.names)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        stack.extend(ast.iter_child_nodes(node))
    return out


def _stores_into_objects(stmt: ast.stmt) -> bool:
    """True if a top-level statement changes an attribute of some object (``torch.tanh = f``,
    ``setattr(np, ...)``, ``sys.modules[...] = m``): code that runs later may be changed by it,
    whatever name it goes by, so it counts as reachable from every exercise."""
    for node in ast.walk(stmt):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for t in targets:
            if isinstance(t, ast.Attribute):
                return True
            if isinstance(t, ast.Subscript) and not isinstance(t.value, ast.Name):
                return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("setattr", "delattr"):
                return True
    return False


def _names_read(stmt: ast.stmt) -> set[str]:
    """The global names a top-level statement reads, its functions' and classes' bodies included
    (their own locals and parameters are not globals: ``symtable`` tells them apart)."""
    try:
        top = symtable.symtable(ast.unparse(stmt), "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    out: set[str] = set()
    tables = [top]
    while tables:
        t = tables.pop()
        for sym in t.get_symbols():
            if (t is top and sym.is_referenced()) or (t is not top and sym.is_global()):
                out.add(sym.get_name())
        tables.extend(t.get_children())
    return out


def reachable(sources: list[str], name: str) -> list[list[ast.stmt]]:
    """For each cell of ``sources``, the top-level statements the exercise ``name`` can reach.

    A cell that defines ``name`` (its answer cell, wherever it was moved) counts whole: all of
    it runs when the answer is defined. From there every name read is followed, transitively and
    across cells, to the statements that bind it (helpers, constants, imports, aliases); and a
    statement that changes an attribute of some object at top level (a monkeypatch) counts too.
    Everything else (experiments, scratch work in other cells) is not the exercise's code.
    """
    trees: list[list[ast.stmt]] = []
    for src in sources:
        try:
            trees.append(list(ast.parse(src).body))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            trees.append([])
    keep = [[False] * len(body) for body in trees]
    wanted: set[str] = {name}
    todo: list[ast.stmt] = []
    binds = [[_bound(s) for s in body] for body in trees]
    for c, body in enumerate(trees):
        whole = any(name in b for b in binds[c])
        for i, stmt in enumerate(body):
            if whole or _stores_into_objects(stmt):
                keep[c][i] = True
                todo.append(stmt)
    while todo:
        new = set()
        for stmt in todo:
            new |= _names_read(stmt) - wanted
        wanted |= new
        todo = []
        for c, body in enumerate(trees):
            for i, stmt in enumerate(body):
                if not keep[c][i] and binds[c][i] & new:
                    keep[c][i] = True
                    todo.append(stmt)
    return [
        [s for s, k in zip(body, ks, strict=True) if k]
        for body, ks in zip(trees, keep, strict=True)
    ]


def reachable_findings(
    sources: list[str], name: str, kernels: set[str] | frozenset[str] = frozenset()
) -> list[str]:
    """:func:`findings` over only the code exercise ``name`` can reach (see :func:`reachable`):
    an honest answer never loses marks for what an unrelated cell says."""
    out = []
    for i, stmts in enumerate(reachable(sources, name), 1):
        found = set()
        for stmt in stmts:
            found.update(_scan(stmt, set(kernels)))
        out += [f"your cell {i}, line {line}: {what}" for line, what in sorted(found)]
    return out
