"""Ingestion cost per kilobyte: parsing (decode, repair, format parser, furniture, sections) and chunking,
without the encoder, for this checkout and for another git revision, on the same files in one run; parsing
alone is reported too (the chunker is not ingestion's and can dominate on long list items). Times are the
process's CPU time (single-threaded), so other load on a shared machine counts less than in wall time.

Both sides run in the same process, file by file in turn (this checkout imported as `careerbot`, the other
revision's src/careerbot copied in as `careerbot_old`; both use relative imports only), so a burst of load
falls on both within milliseconds instead of on one side's whole pass.

Usage: python benchmarks/bench_ingest.py [--against 2b44bdd] [--reps 5] [--rounds 5]
       [--out benchmarks/results-ingest.json]
Files: the bundled corpus (.txt), ../shared/devset/articles (.md, .html, .txt) when present, and a generated
corpus of 200 articles (.txt).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import gc, importlib, json, sys, time
from pathlib import Path
sys.path[:0] = [sys.argv[1], sys.argv[2]]
sides = {name: (importlib.import_module(pkg + ".ingest").parse_file, importlib.import_module(pkg + ".chunk"),
                importlib.import_module(pkg + ".errors").CareerbotError)
         for name, pkg in (("now", "careerbot"), ("before", "careerbot_old"))}
chunkers = {name: chunk.Chunker() for name, (_, chunk, _) in sides.items()}
sets = json.loads(sys.argv[3]); reps = int(sys.argv[4]); order = sys.argv[5].split(",")


def ingest(side, path):
    parse_file, chunk, error = sides[side]
    start = time.process_time()
    try:
        article = parse_file(path, path.parent)
        parsed = time.process_time()
        chunk.chunk_article(article, chunkers[side])
    except error:
        parsed = time.process_time()
    return time.process_time() - start, parsed - start


# One untimed pass (lazy imports, caches), then what is alive is frozen out of the garbage collector and a
# collection runs before each timed file: each side pays for collecting its own garbage, not the other's.
for files in sets.values():
    for f in files:
        for side in order:
            ingest(side, Path(f))
gc.collect()
gc.freeze()
out = {}
for name, files in sets.items():
    paths = [Path(f) for f in files]
    kb = sum(p.stat().st_size for p in paths) / 1024
    best = {side: [None, None] for side in order}
    for _ in range(reps):
        took = {side: [0.0, 0.0] for side in order}
        for p in paths:
            for side in order:  # both sides on the same file back to back
                gc.collect()
                total, parsing = ingest(side, p)
                took[side][0] += total
                took[side][1] += parsing
        for side in order:
            best[side] = [t if b is None else min(b, t) for b, t in zip(best[side], took[side])]
    out[name] = {side: {"files": len(paths), "kb": round(kb, 1), "ms_per_kb": 1000 * best[side][0] / kb,
                        "parse_ms_per_kb": 1000 * best[side][1] / kb} for side in order}
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


def run_round(packages: Path, sets: dict, reps: int, order: tuple[str, str]) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, str(ROOT / "src"), str(packages), json.dumps(sets),
                             str(reps), ",".join(order)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", default="2b44bdd", help="git revision to compare with")
    parser.add_argument("--reps", type=int, default=5, help="passes over the files per round (best kept)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (fresh processes), the sides' order flipping")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results-ingest.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        old = work / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.against],
                       check=True, capture_output=True)
        try:
            sets = file_sets(work)
            packages = work / "packages"
            shutil.copytree(old / "src" / "careerbot", packages / "careerbot_old")
            # Several rounds, each a fresh process, the order of the two sides flipping each round; each side
            # keeps its best. Each round's pair also gives a ratio of its own, and their median is reported.
            best: dict[str, dict] = {"now": {}, "before": {}}
            paired: dict[str, dict[str, list[float]]] = {}
            for round_ in range(args.rounds):
                order = ("now", "before") if round_ % 2 == 0 else ("before", "now")
                got = run_round(packages, sets, args.reps, order)
                for name, by_side in got.items():
                    for side, row in by_side.items():
                        kept = best[side].setdefault(name, dict(row))
                        for key in ("ms_per_kb", "parse_ms_per_kb"):
                            kept[key] = min(kept[key], row[key])
                    for key in ("ms_per_kb", "parse_ms_per_kb"):
                        paired.setdefault(name, {}).setdefault(key, []).append(
                            by_side["now"][key] / by_side["before"][key])
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
