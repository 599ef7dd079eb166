"""The Articles tab's handlers: uploads indexed at once, removal (with the engine's incremental, atomic
update) and the article reader that opens a whole cleaned article at a cited passage.

Usage: h = ArticleHandlers(kb, settings); h.read_article({"source": "a.md", "chunk_id": "a.md#3", "quote": ...})
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ..errors import CareerbotError, UnsupportedFile
from ..fulltext import indexed_article
from ..kb import KnowledgeBase
from ..render import esc, render_articles, render_status
from ..settings import Settings
from .uploads import store_upload
from .views import render_article


class ArticleHandlers:
    """Event handlers of the Articles tab and the reader; they share the app's knowledge base."""

    def __init__(self, kb: KnowledgeBase, settings: Settings) -> None:
        self.kb = kb
        self.settings = settings

    @property
    def corpus(self) -> Path:
        return Path(self.settings.corpus_dir)

    def table(self) -> str:
        return render_articles(self.kb.articles())

    def add_articles(self, files: list[str] | None, progress=gr.Progress()):  # noqa: B008 (Gradio finds its progress tracker by this default)
        """Validate uploads, save them into the corpus under safe names and update the index."""
        if not files:
            return render_status([("warn", "Choose one or more .txt, .md or .html files first.")]), gr.skip(), None
        lines: list[tuple[str, ...]] = []
        saved = []
        for path in files:
            try:
                target = store_upload(Path(path), self.corpus, self.settings.max_file_bytes)
            except UnsupportedFile as exc:
                lines.append(("error", str(exc)))
                gr.Warning(str(exc))
                continue
            if target is None:
                lines.append(("warn", f"{Path(path).name} is already in the knowledge base."))
            else:
                saved.append(target)
        if saved:
            try:
                report = self.kb.update(self.corpus, progress=lambda f, m: progress(f, desc=m))
            except CareerbotError as exc:
                for target in saved:  # keep corpus/ in step with the index the user sees
                    target.unlink(missing_ok=True)
                lines.append(("error", f"The articles could not be added: {exc}"))
                return render_status(lines), gr.skip(), gr.skip()
            titles = {a.source: a for a in self.kb.articles()}
            for target in saved:
                info = titles.get(target.name)
                if info:
                    lines.append(("ok", f"Added “{info.title}”. You can ask about it now.",
                                  f"Saved as {target.name}, {info.chunks} passages; {report.summary()}"))
                else:
                    lines.append(("error", f"{target.name} has no article text that could be indexed."))
        return render_status(lines), self.table(), None

    def remove(self, event: gr.EventData):
        """Remove the article named by the event (the table's Remove button, after the user confirmed)."""
        source = str((event._data or {}).get("source", ""))
        title = next((a.title for a in self.kb.articles() if a.source == source), source)
        try:
            report = self.kb.remove(source, self.corpus)
        except CareerbotError as exc:
            return render_status([("error", f"“{title}” could not be removed: {exc}")]), self.table()
        return (render_status([("ok", f"Removed “{title}”. Questions are no longer answered from it.",
                                f"{source}; {report.summary()}")]), self.table())

    def read_article(self, request: Any) -> str:
        """The reader's HTML for {"source", "chunk_id", "quote"}: the whole cleaned article with the cited
        passage shaded and its quote marked. Called from the page (a Gradio server function)."""
        request = request if isinstance(request, dict) else {}
        source = str(request.get("source", ""))
        try:
            article = indexed_article(self.kb, self.corpus, source)
        except CareerbotError as exc:
            return f'<p class="cb-error">This article cannot be shown: {esc(exc)}</p>'
        snapshot = self.kb.snapshot
        row = snapshot.by_id.get(str(request.get("chunk_id", "")))
        passage = snapshot.records[row].chunk.text if row is not None else ""
        return render_article(article, passage, str(request.get("quote", "")))
