"""No import cycle between plastilab's modules, counting imports inside functions too (a
function-level import only postpones the tie); ``if TYPE_CHECKING:`` blocks never run and are
left out."""

from import_graph import cycles, graph, package_imports


def describe(component: list[str], edges) -> str:
    """A cycle as its modules and the imports that tie them (importer:line -> target)."""
    members = set(component)
    ties = sorted(
        f"    {e.importer}:{e.line} -> {e.target}" + (" (in a function)" if e.in_function else "")
        for e in edges
        if e.importer in members and e.target in members
    )
    return " <-> ".join(component) + "\n" + "\n".join(ties)


def test_no_import_cycles():
    edges = package_imports()
    found = cycles(graph(edges))
    assert not found, "import cycles:\n" + "\n".join(describe(c, edges) for c in found)


def write_package(root, files: dict[str, str]):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_detector_finds_a_cycle_hidden_in_a_function(tmp_path):
    toy = write_package(
        tmp_path / "toy",
        {
            "__init__.py": "",
            "a.py": "def f():\n    from . import b\n    return b\n",  # relative, `from pkg import module`
            "b.py": "from toy.sub.c import thing\n",
            "sub/__init__.py": "",
            "sub/c.py": "import toy.a\nthing = 1\n",
            "d.py": "from toy import a\n",  # imports into the cycle, not part of it
        },
    )
    assert cycles(graph(package_imports(toy))) == [["toy.a", "toy.b", "toy.sub.c"]]


def test_the_detector_skips_type_checking_imports(tmp_path):
    toy = write_package(
        tmp_path / "toy",
        {
            "__init__.py": "",
            "a.py": "from toy.b import B\n",
            "b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from toy.a import A\n"
                "class B:\n    pass\n"
            ),
        },
    )
    assert cycles(graph(package_imports(toy))) == []
