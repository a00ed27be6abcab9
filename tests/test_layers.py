"""The code's shape holds: imports run one way, typer stays in cli/, rich in output/, formulas off the catalog."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "llamacalc"
FORMULAS = ("budget", "scaling", "memory", "goodput", "efficiency", "fit", "flops")


def imports(path: Path, annotations: bool = True) -> set[str]:
    """Every module a file imports, at the top or inside a function; without `annotations`, not
    those under `if TYPE_CHECKING:` (types for annotations, never imported at run time)."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if not annotations and id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def modules(annotations: bool = True) -> list[tuple[str, set[str]]]:
    return [
        (".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts), imports(path, annotations))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def uses(found: set[str], package: str) -> bool:
    return any(name == package or name.startswith(package + ".") for name in found)


@pytest.mark.parametrize(("name", "found"), modules(), ids=lambda v: v if isinstance(v, str) else "")
def test_imports_run_one_way(name, found):
    if not name.startswith(("llamacalc.cli", "llamacalc.__main__")):
        assert not uses(found, "typer"), f"{name} imports typer: only cli/ may"
        assert not uses(found, "llamacalc.cli"), f"{name} imports the CLI"
        assert not any("._" in n and n.startswith("typer") for n in found)
    if not name.startswith("llamacalc.output"):
        assert not uses(found, "rich"), f"{name} imports rich: only output/ may"
    if name.removeprefix("llamacalc.") in FORMULAS:
        assert not uses(found, "llamacalc.catalog"), f"{name}: formulas take specs and numbers, never the catalog"
        assert not uses(found, "llamacalc.resolve") and not uses(found, "llamacalc.estimates")
    if name in ("llamacalc.specs", "llamacalc.units", "llamacalc.errors"):
        assert not uses(found, "llamacalc.catalog") and not uses(found, "llamacalc.resolve")


@pytest.mark.parametrize(("name", "found"), modules(annotations=False), ids=lambda v: v if isinstance(v, str) else "")
def test_output_imports_result_types_only_for_annotations(name, found):
    """Renderers read results; at run time output/ needs only units, the input names, the fast path
    (whose writer writes the train document), and itself."""
    if name.startswith("llamacalc.output"):
        ours = {n for n in found if n.startswith("llamacalc")}
        assert all(
            n.startswith(
                ("llamacalc.output", "llamacalc.units", "llamacalc.inputs", "llamacalc.errors", "llamacalc.fastpath")
            )
            for n in ours
        ), ours


def test_no_private_typer_import():
    for name, found in modules():
        assert not any(n.startswith("typer._") for n in found), name
