"""Small modules with one idea: production modules stay under 400 lines and functions
under 50, so the engine reads in one sitting. A failure names the place to split."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ground", "schemas", "producer", "worker", "herald", "sandbox")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50


def production_modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_there_are_modules_to_check() -> None:
    assert len(production_modules()) > 50


def test_modules_are_at_most_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in production_modules()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules (> {MAX_MODULE_LINES} lines): {long}"


def test_functions_are_at_most_50_lines() -> None:
    long = {}
    for path in production_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert not long, f"split these functions (> {MAX_FUNCTION_LINES} lines): {long}"


def test_docstrings_cite_only_what_the_repository_holds() -> None:
    cited = {
        f"{path.relative_to(ROOT)}:{n}": line.strip()
        for path in production_modules()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if any(word in line for word in ("DESIGN.md", "the seed", "catalogue", "catalogued"))
    }
    assert not cited, f"these cite documents that are not in the repository: {cited}"
