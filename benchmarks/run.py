"""careerbot benchmarks: build, update, query (1k … 1M chunks), start-up, memory, serving throughput (app and HTTP
API against the engine), and LlamaIndex side by side.

Prints a markdown table and writes benchmarks/results.json (one entry per target: name, ratio, target, pass,
plus absolute figures). Caches generated corpora, embeddings and large indexes under benchmarks/work/.
Usage: python benchmarks/run.py [--quick] [--only build,update,query,scale,startup,serve,peer] [--readme]
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

from common import BENCH, CAREERBOT, PEER_PY, ROOT, WORK, log, machine, median, run_child, run_worker  # noqa: E402
from common import VENV_PY as PY  # noqa: E402
from report import evaluate_targets, render, update_readme  # noqa: E402

SECTIONS = ("build", "update", "query", "scale", "startup", "serve", "peer")
PROFILES = {
    "full": {"build_articles": 40, "build_reps": 4, "peer_articles": 100, "update_sizes": [1000, 250], "update_reps": 3,
             "real": 10_000, "sizes": [1_000, 10_000, 100_000, 1_000_000], "query_rounds": 3, "scale_rounds": 2,
             "startup_reps": 5, "peer_reps": 2},
    "quick": {"build_articles": 10, "build_reps": 2, "peer_articles": 10, "update_sizes": [100, 25], "update_reps": 2,
              "real": 1_000, "sizes": [1_000, 10_000, 100_000], "query_rounds": 2, "scale_rounds": 1,
              "startup_reps": 2, "peer_reps": 2},
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
        # In a child process: on Linux a child's peak RSS (wait4) starts at its parent's peak, so a parent
        # that had loaded the model would inflate every start-up figure measured after it.
        result = run_child([str(CAREERBOT), "index", "build", "--corpus", str(corpus), "--index", str(index)])
        if result["rc"] != 0:
            raise RuntimeError(f"building {index} failed: {result['stderr'][-2000:]}") from None
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


def _batch_size() -> int:
    """careerbot's configured encoder batch size: the peer embeds with the same one."""
    sys.path.insert(0, str(ROOT / "src"))
    from careerbot.settings import Settings

    return Settings.from_env().batch_size


def run_peer(corpus: Path, profile: dict) -> dict:
    """careerbot and LlamaIndex each build and query the same corpus in a fresh process, alternated
    `peer_reps` times; each side keeps its best build time and query p50 and its largest peak RSS."""
    from common import QUESTIONS

    payload = {"task": "peer_side", "corpus": str(corpus), "rounds": profile["query_rounds"]}
    if not PEER_PY.exists():
        return {"careerbot": run_worker(PY, "bench_build.py", payload), "peer": None,
                "peer_missing": "benchmarks/.venv-peer is missing; see benchmarks/README.md to create it"}
    runs: dict[str, list] = {"careerbot": [], "peer": []}
    for _ in range(profile["peer_reps"]):
        runs["careerbot"].append(run_worker(PY, "bench_build.py", payload))
        runs["peer"].append(run_worker(PEER_PY, "peer_llamaindex.py", {
            "chunks": runs["careerbot"][-1]["chunks_jsonl"], "questions": QUESTIONS,
            "rounds": profile["query_rounds"], "batch_size": _batch_size()}))
    out = {}
    for side, results in runs.items():
        best = dict(min(results, key=lambda r: r["build_s"]))
        best["builds_s"] = [r["build_s"] for r in results]
        best["query_s"] = min((r["query_s"] for r in results), key=median)
        best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in results)
        out[side] = best
    return out


def _startup(index: Path, corpus: Path, profile: dict) -> tuple[dict, dict]:
    from bench_startup import app_startup, cli_startup

    return cli_startup(index, profile["startup_reps"]), app_startup(index, corpus)


def run_serve(index: Path, corpus: Path, quick: bool) -> dict:
    """bench_serve.py in its own process (it loads the model for the engine side and starts the server)."""
    out = WORK / "serve-figures.json"
    command = [str(PY), str(BENCH / "bench_serve.py"), "--index", str(index), "--corpus", str(corpus),
               "--out", str(out)] + (["--quick"] if quick else [])
    result = run_child(command)
    if result["rc"] != 0:
        raise RuntimeError(f"bench_serve.py failed: {result['stderr'][-2000:]}")
    return json.loads(out.read_text(encoding="utf-8"))["figures"]


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
    steps = {
        "build": lambda: run_worker(PY, "bench_build.py", {"task": "build", "reps": profile["build_reps"],
                                                           "corpus": str(build_corpus(profile["build_articles"]))}),
        "update": lambda: run_worker(PY, "bench_build.py", {"task": "update", "sizes": profile["update_sizes"],
                                                            "reps": profile["update_reps"]}),
        "query": lambda: run_worker(PY, "bench_query.py", {"task": "query", "index": str(index),
                                                           "rounds": profile["query_rounds"]}),
        "scale": lambda: run_worker(PY, "bench_query.py", {"task": "scale", "real": profile["real"],
                                                           "sizes": profile["sizes"], "rounds": profile["scale_rounds"]},
                                    timeout=7200),
        "startup": lambda: _startup(index, corpus, profile),
        "serve": lambda: run_serve(index, corpus, name == "quick"),
        "peer": lambda: run_peer(build_corpus(profile["peer_articles"]), profile),
    }
    for section in SECTIONS:
        if section not in only:
            continue
        log(f"{section} …")
        try:
            result = steps[section]()
        except Exception as exc:  # one failing section must not lose the others' figures
            log(f"{section} failed: {exc}")
            results.setdefault("errors", {})[section] = str(exc)[-2000:]
            continue
        if section == "startup":
            figures["startup"], figures["app"] = result
        else:
            figures[section] = result
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
