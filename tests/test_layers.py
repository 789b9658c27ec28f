"""The top-level packages form a DAG, counting every import (module level, in functions, under TYPE_CHECKING).

Read with ast, so nothing is imported and no tool is needed. A cycle between packages is how layers
start running both ways; docs/architecture.md shows the layers this test keeps.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_PRODUCT = {"tests", "bench"}
# Bottom first. A package may import only packages of the layers below its own (docs/architecture.md).
LAYERS = [
    ["core"],  # mechanics: errors, validation primitives, quantities, locks, driver protocol, kind registry
    ["specs", "dataplane", "operatorapi"],  # typed REC/REDB specs; the Redis data-plane library; operator fields
    ["accounts", "timeline"],
    ["targets"],  # Target, and what every managed object shares (model base, write path, API base)
    ["clusters"],
    ["databases"],
    ["access"],  # users, roles, role bindings, ACLs (docs/acl.md)
    ["engine"],  # reconcile, periodic pass, tasks, enqueue
    ["localtarget", "kube"],  # target drivers, plugged in through core's registries
    ["metrics"],  # /metrics, database samples and alerts (docs/metrics.md)
    ["manifests"],  # YAML documents, /api/v1/apply/, the kubectl-like commands
    ["backups"],  # backups, restore, import, live migration (drivers reached through core's registry)
    ["frontend"],  # the dashboard
    ["controlplane"],  # settings, URLs, ASGI, Celery: the project itself
]


def product_packages() -> set[str]:
    return {p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in NOT_PRODUCT}


def imported_modules(path: Path, module: str) -> list[str]:
    """Every module `path` imports, relative imports resolved against `module`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                found.append(".".join(base + ([node.module] if node.module else [])))
            else:
                found.append(node.module or "")
    return found


def package_graph() -> dict[str, set[str]]:
    """package -> the other product packages it imports, with one example module edge each."""
    packages = product_packages()
    graph: dict[str, set[str]] = defaultdict(set)
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for imported in imported_modules(path, module):
                top = imported.split(".")[0]
                if top in packages and top != package:
                    graph[package].add(top)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one package: each is a cycle (or several)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
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

    for node in sorted(set(graph) | {s for targets in graph.values() for s in targets}):
        if node not in index:
            visit(node)
    return components


def test_packages_form_a_dag():
    cycles = strongly_connected(package_graph())
    assert cycles == [], f"import cycles between packages: {cycles}"


def test_the_cycle_finder_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_every_package_has_a_layer():
    placed = {package for layer in LAYERS for package in layer}
    unplaced = product_packages() - placed
    assert not unplaced, f"place these in LAYERS and docs/architecture.md: {unplaced}"


def test_imports_point_down_the_layers():
    layer_of = {package: index for index, layer in enumerate(LAYERS) for package in layer}
    upward = sorted((package, imported) for package, imports in package_graph().items() for imported in imports
                    if layer_of.get(imported, -1) >= layer_of.get(package, -1))
    assert upward == [], f"imports that do not point to a lower layer: {upward}"


KIND_WORDS = {"cluster", "database", "RedisEnterpriseCluster", "RedisEnterpriseDatabase"}
KIND_CONSTANTS = {"REC_KIND", "REDB_KIND"}


def kind_comparisons() -> list[str]:
    """`x == "cluster"`, `kind != REDB_KIND`, `kind in ("cluster", ...)` in product code: each a branch on a
    kind's name where the kind registry (core/kinds.py) should be asked instead."""
    found = []
    for package in product_packages():
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Compare):
                    continue
                operands = [node.left, *node.comparators]
                values = [leaf for operand in operands for leaf in ast.walk(operand)]
                if any(isinstance(v, ast.Constant) and v.value in KIND_WORDS for v in values) or \
                        any(isinstance(v, ast.Name) and v.id in KIND_CONSTANTS for v in values):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_at_most_three_branches_on_kind_names():
    found = kind_comparisons()
    assert len(found) <= 3, f"branches on kind names (ask core/kinds.py instead): {found}"
