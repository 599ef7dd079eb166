"""Crash safety: SIGKILL `index build` and `index update` at random points, at least 20 times.

After every kill the index that loads is the previous one or the new one, complete and consistent
(manifest, FAISS vectors, chunk store, sentence vectors and BM25 index agree, checked here independently
of the loader's own checks), or — before the first build ever finished — there is none. A half-written
index never loads.

Cost control, because each new Python process spends many seconds importing torch: most kills hit a
forked copy of a "zygote" process that has imported careerbot and loaded the model once, and then runs
exactly what the console script runs, `careerbot.cli.main(["index", "build"|"update", ...])`. Two more
kills hit the real console entry point (`python -m careerbot.cli`) in fresh processes. Kill points: a
random delay across the whole run, the moment a temporary version directory appears (the write phase),
or the moment the new version is renamed into place (publish and prune). Nothing in the product knows it
is being tested. Set CRASH_SEED to replay a run.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CORPUS, DS_VS_LEAD, MLE_VS_LEAD, RS_VS_LEAD

from careerbot import KnowledgeBase
from careerbot.chunk import split_units
from careerbot.corpus import list_corpus
from careerbot.errors import IndexNotFound
from careerbot.files import sha256_file
from careerbot.index.embed import Embedder

pytestmark = pytest.mark.slow

MIN_KILLS = 20
REAL_CLI_KILLS = 2

ZYGOTE = r"""
import json, os, sys
import faiss  # before the model, so the thread setting below covers FAISS's OpenMP pool as well
from careerbot import cli, kb
from careerbot.index.embed import Embedder
from careerbot.settings import Settings
Embedder.load(Settings.from_env())
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:  # the child: exactly the console script's code path, logging to a file
        log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(log, 1)
        os.dup2(log, 2)
        try:
            code = cli.main(job["argv"])
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 99
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    print(pid, flush=True)
    print(os.waitpid(pid, 0)[1], flush=True)
"""


def env() -> dict:
    # One thread: forking a process whose OpenMP pool is running is unsafe, and it keeps runs comparable.
    return dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", CAREERBOT_PROGRESS="off",
                CAREERBOT_THREADS="1", TOKENIZERS_PARALLELISM="false")


def synthetic_article(n: int, rng: random.Random) -> str:
    """A short article made of real corpus sentences, with a marker word only it contains."""
    sentences = [s for name in (RS_VS_LEAD, DS_VS_LEAD) for s in
                 (CORPUS / name).read_text(encoding="utf-8").replace("\n", " ").split(". ") if 40 < len(s) < 300]
    picked = rng.sample(sentences, 8)
    return (f"Career note {n}: crashmarker{n}\n\nMarch 3, 2024\n\nOverview\n\n"
            + ". ".join(picked[:4]) + f". Crashmarker{n} closes this part.\n\nSkills\n\n"
            + "\n".join(f"- {s.strip()}" for s in picked[4:]) + "\n")


def corpus_state(corpus: Path) -> dict[str, str]:
    root = corpus.resolve()
    return {str(p.resolve().relative_to(root)): sha256_file(p) for p in list_corpus(corpus)}


class Zygote:
    def __init__(self, log: Path) -> None:
        self.log = log
        self.stderr = open(log.with_suffix(".zygote.log"), "w")
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env())
        assert self.proc.stdout.readline().strip() == "ready", "the zygote could not load careerbot"

    def start(self, argv: list[str]) -> int:
        self.proc.stdin.write(json.dumps({"argv": argv, "log": str(self.log)}) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def wait(self) -> int:
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.stderr.close()


def kill_at(pid: int, alive, index: Path, strategy: str, rng: random.Random, typical: float) -> dict:
    """Watch the index directory and SIGKILL pid at the point the strategy picks. Returns what was seen."""
    before = set(os.listdir(index)) if index.exists() else set()
    started = time.monotonic()
    delay = rng.uniform(0, typical) if strategy == "random" else None
    seen = {"tmp": False, "published": False}
    while alive():
        names = set(os.listdir(index)) if index.exists() else set()
        if any(n.startswith(".tmp-") for n in names - before):
            seen["tmp"] = True
        if any(n.startswith("v-") for n in names - before):
            seen["published"] = True
        if strategy == "random" and time.monotonic() - started >= delay:
            break
        if strategy == "write" and seen["tmp"]:
            time.sleep(rng.uniform(0, 0.03))
            break
        if strategy == "publish" and seen["published"]:
            time.sleep(rng.uniform(0, 0.004))
            break
        time.sleep(0.0005)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return seen


def check_index(index: Path, settings, embedder, previous: dict | None, target: dict, rng: random.Random,
                context: str) -> dict | None:
    """The live index is the previous or the target state, and its parts agree. Returns its files."""
    try:
        kb = KnowledgeBase.load(index, settings)
    except IndexNotFound:
        assert previous is None, f"{context}: an index existed, and now none loads"
        return None
    snapshot, manifest = kb.snapshot, kb.snapshot.manifest
    files = {source: meta["sha256"] for source, meta in manifest["files"].items()}
    assert files in (previous, target), f"{context}: the live index is neither the previous nor the new one"
    records = snapshot.records
    # Chunk store ↔ manifest: every article's chunks, and nothing else.
    per_source: dict[str, int] = {}
    for record in records:
        per_source[record.chunk.source] = per_source.get(record.chunk.source, 0) + 1
    assert per_source == {s: m["chunks"] for s, m in manifest["files"].items() if m["chunks"]}, context
    # FAISS ↔ chunk store ↔ BM25 ↔ sentence vectors.
    assert snapshot.faiss_index.ntotal == len(records) == manifest["counts"]["chunks"], context
    scored = next(r.terms for r in records if r.terms)  # bm25s scores every document it indexed
    assert len(snapshot.keyword.scores(list(scored))) == len(records), context
    assert len(snapshot.unit_vectors) == manifest["counts"]["units"] == sum(r.unit_count for r in records)
    for i in rng.sample(range(len(records)), 3):
        record = records[i]
        vector = snapshot.faiss_index.reconstruct(i)
        assert float(vector @ embedder.encode([record.chunk.embed_text])[0]) > 0.99, f"{context}: vector {i}"
        units = split_units(record.chunk.text)
        assert len(units) == record.unit_count, context
        unit_vector = snapshot.unit_vectors[record.unit_start]
        if manifest.get("sentence_vectors") == "late":  # pooled from the chunk's own pass
            expected = embedder.encode_with_spans([record.chunk.embed_text], [record.chunk.text], [units])[1][0]
        else:
            expected = embedder.encode([units[0]])[0]
        assert float(unit_vector @ expected) > 0.99, f"{context}: units of {i}"
        if record.terms:
            assert snapshot.keyword.scores(list(record.terms))[i] > 0, f"{context}: BM25 row {i}"
    assert kb.search("What does a machine learning engineer earn?", k=3), context
    return files


def mutate(corpus: Path, step: int, rng: random.Random) -> str:
    """Give the next update something to do: add, change or remove an article."""
    synthetic = sorted(p for p in corpus.glob("note_*.txt"))
    action = ("add", "change", "remove")[step % 3] if synthetic else "add"
    if action == "add":
        (corpus / f"note_{step:03d}.txt").write_text(synthetic_article(step, rng), encoding="utf-8")
    elif action == "change":
        with open(rng.choice(synthetic), "a", encoding="utf-8") as out:
            out.write(f"\nA further remark, number {step}, about mentoring junior engineers.\n")
    else:
        rng.choice(synthetic).unlink()
    return action


def test_sigkill_during_build_and_update_never_breaks_the_index(tmp_path, settings):
    seed = int(os.environ.get("CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    # One torch thread here too: on a busy machine two spinning OpenMP threads make each encode ~40x slower.
    settings = settings.with_overrides(threads=1)
    corpus, index, log = tmp_path / "corpus", tmp_path / "index", tmp_path / "runs.log"
    corpus.mkdir()
    shutil.copy2(CORPUS / MLE_VS_LEAD, corpus / MLE_VS_LEAD)  # small on purpose: every build embeds it all
    embedder = Embedder.load(settings)
    clock = time.monotonic()
    zygote = Zygote(log)
    print(f"zygote ready in {time.monotonic() - clock:.1f}s")
    stats = {"kills": 0, "completed": 0, "mid_write": 0, "previous": 0, "new": 0, "none": 0}
    outcomes: list[str] = []
    try:
        # A first build that runs to completion measures the typical durations for random kill delays.
        typical = {}
        for op in ("build", "update"):
            if op == "update":
                mutate(corpus, 0, rng)
            started = time.monotonic()
            pid = zygote.start(["index", op, "--corpus", str(corpus), "--index", str(index)])
            status = zygote.wait()
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, log.read_text()
            typical[op] = time.monotonic() - started
        print(f"typical durations: {typical}")
        # The first kills go to an empty index directory: nothing may load until a build completes.
        fresh = tmp_path / "fresh-index"
        previous = {fresh: None,
                    index: check_index(index, settings, embedder, None, corpus_state(corpus), rng, "baseline")}
        step = 0
        while stats["kills"] < MIN_KILLS + REAL_CLI_KILLS and step < 80:
            step += 1
            cli_kills = sum(1 for o in outcomes if o.startswith("cli"))
            real_cli = step % 8 == 0 and cli_kills < REAL_CLI_KILLS
            op = "build" if step % 5 == 1 or step < 3 or (real_cli and cli_kills == 0) else "update"
            target_index = fresh if step < 3 else index
            if op == "update":
                mutate(corpus, step, rng)
            strategy = "write" if real_cli else rng.choice(("random", "random", "write", "write", "publish"))
            target = corpus_state(corpus)
            prior = previous[target_index]
            argv = ["index", op, "--corpus", str(corpus), "--index", str(target_index)]
            before = set(os.listdir(target_index)) if target_index.exists() else set()
            step_started = time.monotonic()
            if real_cli:
                proc = subprocess.Popen([sys.executable, "-m", "careerbot.cli", *argv], env=env(),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                kill_at(proc.pid, lambda proc=proc: proc.poll() is None, target_index, strategy, rng, 0)
                code = proc.wait(timeout=600)
                killed = code == -signal.SIGKILL
                assert killed or code == 0, f"seed {seed}: real CLI {op} exited {code}"
            else:
                pid = zygote.start(argv)

                def alive(pid: int = pid) -> bool:
                    try:  # the zygote reaps the child; a zombie-free check that it still runs
                        os.kill(pid, 0)
                        return not Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
                    except (ProcessLookupError, FileNotFoundError):
                        return False

                kill_at(pid, alive, target_index, strategy, rng, typical[op])
                status = zygote.wait()
                killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
                assert killed or (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0), \
                    f"seed {seed}: {op} exited with status {status}; log:\n{log.read_text()[-3000:]}"
            context = f"seed {seed}, step {step}, {op}, {strategy}, {'killed' if killed else 'completed'}"
            files = check_index(target_index, settings, embedder, prior, target, rng, context)
            if killed:
                stats["kills"] += 1
                leftovers = [n for n in set(os.listdir(target_index)) - before if n.startswith(".tmp-")] \
                    if target_index.exists() else []
                stats["mid_write"] += bool(leftovers)  # this kill interrupted the write itself
                state = "none" if files is None else "new" if files == target and files != prior else "previous"
                stats[state] += 1
                outcomes.append(f"{'cli ' if real_cli else ''}{op}/{strategy}/{state}"
                                f"{'/mid-write' if leftovers else ''} {time.monotonic() - step_started:.1f}s")
            else:
                stats["completed"] += 1
                assert files == target, context
            previous[target_index] = files
        # Finally an update runs to completion: it starts from whatever the kills left and cleans up.
        mutate(corpus, 1000, rng)
        zygote.start(["index", "update", "--corpus", str(corpus), "--index", str(index)])
        assert os.WEXITSTATUS(zygote.wait()) == 0, log.read_text()[-3000:]
        final = check_index(index, settings, embedder, previous[index], corpus_state(corpus), rng, "final")
        assert final == corpus_state(corpus)
        assert [p.name for p in index.iterdir() if p.name not in ("CURRENT", ".lock")] == \
            [KnowledgeBase.load(index, settings).snapshot.path.name], "leftovers of killed writes remain"
    finally:
        zygote.close()
    print(f"crash seed {seed}: {stats}\n  " + "\n  ".join(outcomes))
    assert stats["kills"] >= MIN_KILLS + REAL_CLI_KILLS, (seed, stats)
    assert sum(1 for o in outcomes if o.startswith("cli")) == REAL_CLI_KILLS, outcomes
    # The kills must have hit the dangerous phase, not only imports: some left a half-written version.
    assert stats["mid_write"] >= 1, (seed, stats, outcomes)
