"""The import rules of DESIGN.md that the import-linter contracts can't state.

The layering itself is checked by `lint-imports` (``make lint``; the contracts
are in pyproject.toml). One rule needs a module that doesn't exist yet, and
import-linter refuses to name missing modules in a `forbidden` contract, so it
is checked here from the same import graph: no module imports the CLI.
"""

from __future__ import annotations

import pytest

grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter (`make dev`)")

CLI = "axon.cli"
# `python -m axon` is the one module allowed to import the CLI.
ALLOWED_IMPORTERS = {"axon.__main__"}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("axon", cache_dir=None)


def test_nothing_imports_the_cli(graph):
    if CLI not in graph.modules:
        pytest.skip(f"{CLI} does not exist yet")
    cli_modules = {CLI} | graph.find_descendants(CLI)
    offenders = []
    for target in sorted(cli_modules):
        for importer in sorted(graph.find_modules_that_directly_import(target)):
            if importer in cli_modules or importer in ALLOWED_IMPORTERS:
                continue
            lines = graph.get_import_details(importer=importer, imported=target)
            where = ", ".join(f"l.{d['line_number']}" for d in lines)
            offenders.append(f"{importer} -> {target} ({where})")
    assert not offenders, (
        "No module imports from the CLI (DESIGN.md); move what they share below it:\n  "
        + "\n  ".join(offenders)
    )


def test_the_root_package_imports_subpackages_not_the_other_way(graph):
    """Inside axon, import the module you need, never the root package ``axon``.

    ``import axon`` runs axon/__init__.py, which imports nn (and later optim,
    data ...): from ops or nn that is an upward import in disguise. lint-imports
    reports it too, as a chain through ``axon``; this names the fix.
    """
    offenders = sorted(m for m in graph.find_modules_that_directly_import("axon") if m != "axon")
    assert not offenders, (
        "These modules import the root package `axon`; import the submodule instead "
        f"(e.g. `from axon.tensor import Tensor`): {offenders}"
    )
