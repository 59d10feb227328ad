"""The package's import graph, read from source with ``ast`` (nothing is imported).

Shared by the architecture tests (cycles, layers, function-level imports). An import counts
wherever it sits in a file, inside functions too: a function-level import still ties the two
modules together, it only postpones the tie. Only ``if TYPE_CHECKING:`` blocks are left out,
since they never run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "plastilab"


@dataclass(frozen=True)
class Import:
    """One imported module, as written at one line of one module."""

    importer: str  # dotted name of the importing module
    target: str  # dotted name of the imported module (resolved; a package means its __init__)
    line: int
    in_function: bool  # inside a def: runs when called, not when the module is imported


def module_files(package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Every module of the package by dotted name (a package's ``__init__`` by its own name)."""
    root = package_dir.name
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = (root, *path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, in_function: bool = False):
    """(import node, in_function) for every import under ``node``, skipping TYPE_CHECKING."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, in_function
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:  # the else branch does run
                yield from _walk_statement(other, in_function)
        else:
            deeper = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            yield from _walk(child, deeper)


def _walk_statement(statement: ast.stmt, in_function: bool):
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        yield statement, in_function
    else:
        yield from _walk(statement, in_function)


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest known module that ``name`` names (``a.b.Thing`` -> ``a.b``)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def written_imports(module: str, path: Path) -> list[tuple[str, int, bool]]:
    """(absolute dotted name, line, in_function) for everything ``module`` imports, third-party
    included; ``from x import y`` gives ``x.y`` (a module or a name inside ``x``)."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node, in_function in _walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno, in_function) for alias in node.names)
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            origin = ".".join(base + ([node.module] if node.module else []))
        else:
            origin = node.module or ""
        found.extend((f"{origin}.{alias.name}", node.lineno, in_function) for alias in node.names)
    return found


def package_imports(package_dir: Path = PACKAGE_DIR) -> list[Import]:
    """Every import from one module of the package to another (itself excluded)."""
    known = module_files(package_dir)
    edges = []
    for module, path in known.items():
        for name, line, in_function in written_imports(module, path):
            target = resolve(name, known)
            if target is not None and target != module:
                edges.append(Import(module, target, line, in_function))
    return edges


def graph(edges: list[Import]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for edge in edges:
        out.setdefault(edge.importer, set()).add(edge.target)
        out.setdefault(edge.target, set())
    return out


def cycles(edges_by_module: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0

    for start in sorted(edges_by_module):
        if start in index:
            continue
        # Iterative Tarjan: (node, iterator over its successors) frames.
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        frames = [(start, iter(sorted(edges_by_module[start])))]
        while frames:
            node, successors = frames[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    frames.append((successor, iter(sorted(edges_by_module.get(successor, ())))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            frames.pop()
            if frames:
                parent = frames[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)
