"""Ingestion cost per kilobyte: parsing (decode, repair, format parser, furniture, sections) and chunking,
without the encoder, for this checkout and for another git revision, on the same files in one run; parsing
alone is reported too (the chunker is not ingestion's and can dominate on long list items). Times are the
process's CPU time (single-threaded), so other load on a shared machine counts less than in wall time.

Usage: python benchmarks/bench_ingest.py [--against 2b44bdd] [--reps 5] [--rounds 5]
       [--out benchmarks/results-ingest.json]
Files: the bundled corpus (.txt), ../shared/devset/articles (.md, .html, .txt) when present, and a generated
corpus of 200 articles (.txt). Each side runs in its own process with its own source tree on sys.path.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from careerbot.ingest import parse_file
from careerbot.chunk import Chunker, chunk_article
from careerbot.errors import CareerbotError
sets = json.loads(sys.argv[2]); reps = int(sys.argv[3])
chunker = Chunker()
out = {}
for name, files in sets.items():
    paths = [Path(f) for f in files]
    kb = sum(p.stat().st_size for p in paths) / 1024
    best = parse_best = None
    for _ in range(reps):
        took = parsing = 0.0
        for p in paths:
            start = time.process_time()
            try:
                article = parse_file(p, p.parent)
                parsed = time.process_time()
                chunk_article(article, chunker)
            except CareerbotError:
                parsed = time.process_time()
            took += time.process_time() - start
            parsing += parsed - start
        best = took if best is None else min(best, took)
        parse_best = parsing if parse_best is None else min(parse_best, parsing)
    out[name] = {"files": len(paths), "kb": round(kb, 1), "ms_per_kb": 1000 * best / kb,
                 "parse_ms_per_kb": 1000 * parse_best / kb}
print(json.dumps(out))
"""


def file_sets(work: Path) -> dict[str, list[str]]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import write_corpus

    generated = work / "generated"
    write_corpus(generated, 200, "short")
    sets = {"bundled .txt": sorted(str(p) for p in (ROOT / "corpus").glob("*.txt")),
            "generated .txt (200)": sorted(str(p) for p in generated.glob("*.txt"))}
    devset = ROOT.parent / "shared" / "devset" / "articles"
    if devset.is_dir():
        for suffix in (".md", ".html", ".txt"):
            sets[f"devset {suffix}"] = sorted(str(p) for p in devset.glob(f"*{suffix}"))
    return sets


def run_side(src: Path, sets: dict, reps: int) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, str(src), json.dumps(sets), str(reps)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", default="2b44bdd", help="git revision to compare with")
    parser.add_argument("--reps", type=int, default=5, help="passes over the files per round (best kept)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of the two sides")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results-ingest.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        old = work / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.against],
                       check=True, capture_output=True)
        try:
            sets = file_sets(work)
            # Alternate the two sides, several rounds, the order flipping each round, and keep each side's
            # best: load on the machine then falls on both alike. Each round's pair also gives a ratio of its
            # own; their median is robust to a burst of load that hits one side of one round.
            best: dict[str, dict] = {"now": {}, "before": {}}
            paired: dict[str, dict[str, list[float]]] = {}
            sources = {"now": ROOT / "src", "before": old / "src"}
            for round_ in range(args.rounds):
                order = ("now", "before") if round_ % 2 == 0 else ("before", "now")
                got = {side: run_side(sources[side], sets, args.reps) for side in order}
                for side, rows_ in got.items():
                    for name, row in rows_.items():
                        kept = best[side].setdefault(name, dict(row))
                        for key in ("ms_per_kb", "parse_ms_per_kb"):
                            kept[key] = min(kept[key], row[key])
                for name, row in got["now"].items():
                    for key in ("ms_per_kb", "parse_ms_per_kb"):
                        paired.setdefault(name, {}).setdefault(key, []).append(row[key] / got["before"][name][key])
            now, before = best["now"], best["before"]
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False,
                           capture_output=True)
    rows = {name: {"files": now[name]["files"], "kb": now[name]["kb"],
                   "ms_per_kb_now": round(now[name]["ms_per_kb"], 3),
                   f"ms_per_kb_{args.against}": round(before[name]["ms_per_kb"], 3),
                   "ratio": round(now[name]["ms_per_kb"] / before[name]["ms_per_kb"], 2),
                   "parse_ms_per_kb_now": round(now[name]["parse_ms_per_kb"], 3),
                   f"parse_ms_per_kb_{args.against}": round(before[name]["parse_ms_per_kb"], 3),
                   "parse_ratio": round(now[name]["parse_ms_per_kb"] / before[name]["parse_ms_per_kb"], 2),
                   "ratio_median": round(statistics.median(paired[name]["ms_per_kb"]), 2),
                   "parse_ratio_median": round(statistics.median(paired[name]["parse_ms_per_kb"]), 2),
                   "round_ratios": [round(r, 2) for r in paired[name]["ms_per_kb"]]}
            for name in now}
    Path(args.out).write_text(json.dumps({"against": args.against, "reps": args.reps, "rounds": args.rounds,
                                          "sets": rows}, indent=2))
    print(f"{'files':<22} {'n':>4} {'KB':>8} {'now ms/KB':>10} {'before':>10} {'ratio':>6} {'median':>6}"
          f" {'parse now':>10} {'before':>8} {'ratio':>6} {'median':>6}")
    for name, row in rows.items():
        print(f"{name:<22} {row['files']:>4} {row['kb']:>8} {row['ms_per_kb_now']:>10} "
              f"{row[f'ms_per_kb_{args.against}']:>10} {row['ratio']:>6} {row['ratio_median']:>6} "
              f"{row['parse_ms_per_kb_now']:>10} {row[f'parse_ms_per_kb_{args.against}']:>8} {row['parse_ratio']:>6} "
              f"{row['parse_ratio_median']:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
