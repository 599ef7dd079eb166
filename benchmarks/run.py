"""careerbot benchmarks: build, update, query (1k … 1M chunks), start-up, memory, and LlamaIndex side by side.

Prints a markdown table and writes benchmarks/results.json (one entry per target: name, ratio, target, pass,
plus absolute figures). Caches generated corpora, embeddings and large indexes under benchmarks/work/.
Usage: python benchmarks/run.py [--quick] [--only build,update,query,scale,startup,peer] [--readme]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_PY = HERE.parent / ".venv" / "bin" / "python"
if VENV_PY.exists() and Path(sys.prefix).resolve() != VENV_PY.parent.parent.resolve() \
        and not os.environ.get("CAREERBOT_BENCH_REEXEC"):
    os.environ["CAREERBOT_BENCH_REEXEC"] = "1"  # run under the project's virtualenv, where careerbot lives
    os.execv(str(VENV_PY), [str(VENV_PY), __file__, *sys.argv[1:]])
sys.path.insert(0, str(HERE))

from common import BENCH, PEER_PY, ROOT, VENV_PY as PY, WORK, log, machine, median, run_worker  # noqa: E402
from report import evaluate_targets, render, update_readme  # noqa: E402

SECTIONS = ("build", "update", "query", "scale", "startup", "peer")
PROFILES = {
    "full": {"build_articles": 40, "build_reps": 4, "peer_articles": 100, "update_sizes": [1000, 250], "update_reps": 3,
             "real": 10_000, "sizes": [1_000, 10_000, 100_000, 1_000_000], "query_rounds": 3, "scale_rounds": 2,
             "startup_reps": 5},
    "quick": {"build_articles": 10, "build_reps": 2, "peer_articles": 10, "update_sizes": [100, 25], "update_reps": 2,
              "real": 1_000, "sizes": [1_000, 10_000, 100_000], "query_rounds": 2, "scale_rounds": 1,
              "startup_reps": 2},
}


def real_index() -> tuple[Path, Path]:
    """The shipped corpus (corpus/) and its index, built once under benchmarks/work/ and reused."""
    sys.path.insert(0, str(ROOT / "src"))
    from careerbot import KnowledgeBase, Settings
    from careerbot.errors import CareerbotError

    corpus, index = ROOT / "corpus", WORK / "real-index"
    settings = Settings.from_env().with_overrides(progress="off")
    try:
        KnowledgeBase.load(index, settings, corpus=corpus)
    except CareerbotError:
        log("building the index of corpus/ for the query and start-up runs")
        shutil.rmtree(index, ignore_errors=True)
        KnowledgeBase.build(corpus, index, settings)
    return corpus, index


def build_corpus(articles: int) -> Path:
    """The four shipped articles plus `articles` generated ones (the build and peer corpus)."""
    from generate import write_corpus

    corpus = WORK / f"build-corpus-{articles}"
    corpus.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "corpus").iterdir():
        if path.is_file():
            shutil.copy2(path, corpus / path.name)
    write_corpus(corpus, articles, "short", seed=3)
    return corpus


def run_peer(corpus: Path, profile: dict) -> dict:
    """careerbot and LlamaIndex each build and query the same corpus in a fresh process."""
    payload = {"task": "peer_side", "corpus": str(corpus), "rounds": profile["query_rounds"]}
    ours = run_worker(PY, "bench_build.py", payload)
    if not PEER_PY.exists():
        return {"careerbot": ours, "peer": None,
                "peer_missing": "benchmarks/.venv-peer is missing; see benchmarks/README.md to create it"}
    from common import QUESTIONS

    theirs = run_worker(PEER_PY, "peer_llamaindex.py", {"chunks": ours["chunks_jsonl"], "questions": QUESTIONS,
                                                         "rounds": profile["query_rounds"], "batch_size": 32})
    return {"careerbot": ours, "peer": theirs}


def main() -> int:
    parser = argparse.ArgumentParser(description="careerbot benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a run of a few minutes")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--out", type=Path, default=BENCH / "results.json")
    parser.add_argument("--readme", action="store_true",
                        help="also put the table into benchmarks/README.md (done by default for a full run)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other sections of an existing results file (each ratio still comes from "
                             "one run: both of its sides are always measured together)")
    parser.add_argument("--prepare", action="store_true",
                        help="only fill the caches (real embeddings, base indexes, large HNSW graphs); run it "
                             "under `nice` before a full run, timing nothing")
    args = parser.parse_args()
    name = "quick" if args.quick else "full"
    profile = PROFILES[name]
    if args.prepare:
        WORK.mkdir(parents=True, exist_ok=True)
        log(f"preparing the {name} caches under {WORK}")
        from concurrent.futures import ThreadPoolExecutor

        real = run_worker(PY, "bench_query.py", {"task": "prepare_scale", "real": profile["real"], "sizes": []},
                          timeout=14400)
        log(f"real embeddings ready: {real}")
        with ThreadPoolExecutor(2) as pool:  # the update base reuses the real chunk vectors just cached
            jobs = [pool.submit(run_worker, PY, "bench_build.py", {"task": "prepare_update", "sizes":
                                profile["update_sizes"], "reuse": [real["real_cache"]]}, 14400),
                    pool.submit(run_worker, PY, "bench_query.py", {"task": "prepare_scale", "real": profile["real"],
                                "sizes": profile["sizes"]}, 14400)]
            for job in jobs:
                log(f"prepared: {job.result()}")
        return 0
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {SECTIONS}")
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict = {"profile": name, "machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                     "sections": only, "figures": {}}
    figures = results["figures"]
    corpus, index = real_index()
    if "build" in only:
        bcorpus = build_corpus(profile["build_articles"])
        log("build: full build vs raw encoder")
        figures["build"] = run_worker(PY, "bench_build.py", {"task": "build", "corpus": str(bcorpus),
                                                             "reps": profile["build_reps"]})
    if "update" in only:
        log("update: one new article on a large generated corpus")
        figures["update"] = run_worker(PY, "bench_build.py", {"task": "update", "sizes": profile["update_sizes"],
                                                              "reps": profile["update_reps"]})
    if "query" in only:
        log("query: warm search and ask over corpus/")
        figures["query"] = run_worker(PY, "bench_query.py", {"task": "query", "index": str(index),
                                                             "rounds": profile["query_rounds"]})
    if "scale" in only:
        log(f"scale: search at {profile['sizes']} chunks")
        figures["scale"] = run_worker(PY, "bench_query.py", {"task": "scale", "real": profile["real"],
                                                             "sizes": profile["sizes"],
                                                             "rounds": profile["scale_rounds"]}, timeout=7200)
    if "startup" in only:
        from bench_startup import app_startup, cli_startup

        log("start-up: cold careerbot search / ask and the app")
        figures["startup"] = cli_startup(index, profile["startup_reps"])
        figures["app"] = app_startup(index, corpus)
    if "peer" in only:
        log("peer: LlamaIndex on the same chunks")
        figures["peer"] = run_peer(build_corpus(profile["peer_articles"]), profile)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    results["measured"] = {section: stamp for section in figures}
    results["seconds"] = time.perf_counter() - started
    if args.merge and args.out.exists():
        old = json.loads(args.out.read_text(encoding="utf-8"))
        if old.get("profile") == name:
            for section, value in old.get("figures", {}).items():
                if section not in figures:
                    figures[section] = value
                    results["measured"][section] = old.get("measured", {}).get(section, old.get("started"))
            results["sections"] = sorted(set(results["sections"]) | set(old.get("sections", [])))
            results["seconds"] += old.get("seconds", 0.0)
    results["targets"] = evaluate_targets(figures)
    table = render(results)
    print(table)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    if args.readme or (name == "full" and set(results["sections"]) == set(SECTIONS)):
        update_readme(BENCH / "README.md", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
