"""The package's modules import one way: no cycles, counting imports inside functions too, and no pipeline
stage imports an edge (cli, ui, http_api)."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "careerbot"
EDGES = {"careerbot.cli", "careerbot.ui", "careerbot.http_api"}


def module_graph() -> dict[str, set[str]]:
    modules = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                targets = [f"{module}.{a.name}" for a in node.names]
                if node.module:
                    targets.append(module)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert cycles(module_graph()) == []


def is_edge(module: str) -> bool:
    """An edge module or one inside an edge package (careerbot.ui.chat)."""
    return any(module == edge or module.startswith(edge + ".") for edge in EDGES)


def test_no_stage_imports_an_edge():
    graph = module_graph()
    assert "careerbot.ui.chat" in graph and is_edge("careerbot.ui.chat") and not is_edge("careerbot.uix")
    for module, imports in graph.items():
        if not is_edge(module) and module not in {"careerbot", "careerbot.__main__"}:
            edges = {m for m in imports if is_edge(m)}
            assert not edges, (module, edges)


def test_the_walker_sees_imports_inside_functions():
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert "careerbot.answer.llm" in module_graph()["careerbot.answer.respond"]  # imported inside stream_answer


# The pipeline's stages, upstream first: a stage may use the ones before it, never one after it. Ranking
# (retrieve) reads any store's index through a protocol (retrieve.search.Searchable), so it comes before the
# index package, whose in-memory Index offers .search() through it.
STAGES = ["careerbot.ingest", "careerbot.chunk", "careerbot.retrieve", "careerbot.index", "careerbot.answer"]


def stage_of(module: str) -> int | None:
    return next((i for i, s in enumerate(STAGES) if module == s or module.startswith(s + ".")), None)


def test_data_flows_downstream_between_the_stage_packages():
    upstream = []
    for module, targets in module_graph().items():
        here = stage_of(module)
        for target in targets:
            there = stage_of(target)
            if here is not None and there is not None and there > here:
                upstream.append(f"{module} imports {target}")
    assert not upstream, upstream


def test_importing_careerbot_changes_no_environment_variable():
    """A library must not rewrite its caller's environment at import (the offline switches are set where the
    model is first loaded, index.embed.offline_model_libraries)."""
    probe = ("import json, os, sys; before = dict(os.environ)\n"
             "import careerbot, careerbot.kb, careerbot.index.embed, careerbot.ui, careerbot.http_api, careerbot.cli\n"
             "changed = [k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k)]\n"
             "print(json.dumps(sorted(changed)))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "TOKENIZERS_", "GRADIO_"))}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == []
