"""HTML for the chat UI: answers with linked [n] markers, the sources panel and the article list.

Article text, questions and answers are untrusted: every piece of them goes through `esc` here, and
only markup written in this module reaches the page. Usage: html = render_answer(answer.text, answer.citations, 1)
"""
from __future__ import annotations

import html
import re
from typing import Iterable, Sequence

from .records import Answer, Citation

MARKER = re.compile(r"\[(\d{1,3})\]")
BULLET = re.compile(r"^\s*[-•*]\s+")
# Besides HTML, neutralise the characters Gradio's HTML templates (${...}, {{...}}) and KaTeX ($$) react to.
_EXTRA = str.maketrans({"$": "&#36;", "{": "&#123;", "}": "&#125;", "`": "&#96;", "\\": "&#92;"})


def esc(text: object) -> str:
    """Text as inert HTML: tags, quotes, entities and template syntax all show literally."""
    return html.escape(str(text), quote=True).translate(_EXTRA)


def source_id(turn: int, n: int) -> str:
    """DOM id of source [n] of answer `turn`; each answer keeps its own links valid."""
    return f"cb-src-{turn}-{n}"


def _link_markers(escaped: str, turn: int, known: set[int]) -> str:
    def link(match: re.Match) -> str:
        n = int(match.group(1))
        if n not in known:
            return match.group(0)
        return (f'<a class="cb-cite" href="#{source_id(turn, n)}" title="Show source {n}">'
                f"[{n}]</a>")

    return MARKER.sub(link, escaped)


def _paragraphs(text: str, line_html) -> str:
    """Blank-line separated paragraphs; runs of '- ' lines become lists, other newlines <br>."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line for line in block.split("\n") if line.strip()]
        run: list[str] = []
        for i, line in enumerate(lines):
            run.append(line)
            is_item = bool(BULLET.match(line))
            if i + 1 < len(lines) and bool(BULLET.match(lines[i + 1])) == is_item:
                continue
            if is_item:
                out.append("<ul>" + "".join(f"<li>{line_html(BULLET.sub('', x))}</li>" for x in run) + "</ul>")
            else:
                out.append("<p>" + "<br>".join(line_html(x) for x in run) + "</p>")
            run = []
    return "".join(out)


def render_user(text: str) -> str:
    """A question as shown in the chat: plain text, never markup."""
    return _paragraphs(text, esc) or "<p></p>"


def render_partial(text: str) -> str:
    """An answer still being composed: escaped text with a typing cursor; markers are linked at the end."""
    return f'<div class="cb-answer cb-streaming">{_paragraphs(text, esc)}<span class="cb-cursor">▍</span></div>'


def render_answer(text: str, citations: Sequence[Citation], turn: int, abstained: bool = False) -> str:
    """A finished answer: escaped prose whose [n] markers link to the matching source entry."""
    known = {c.n for c in citations}
    body = _paragraphs(text, lambda line: _link_markers(esc(line), turn, known))
    css = "cb-answer cb-abstained" if abstained else "cb-answer"
    return f'<div class="{css}">{body}</div>'


def render_error(message: str) -> str:
    """A problem with a question (too long, empty, ...) as a chat reply."""
    return f'<div class="cb-answer cb-error"><p>{esc(message)}</p></div>'


def highlight(passage: str, quote: str) -> str:
    """The passage escaped, with the supporting sentence wrapped in <mark>."""
    quote = quote.strip()
    if quote:
        start = passage.find(quote)
        end = start + len(quote)
        if start < 0:  # the quote may differ from the passage in spacing or case only
            pattern = r"\s+".join(re.escape(word) for word in quote.split())
            found = re.search(pattern, passage, re.IGNORECASE)
            start, end = (found.start(), found.end()) if found else (-1, -1)
        if start >= 0:
            return (f"{esc(passage[:start])}<mark class=\"cb-quote\">{esc(passage[start:end])}</mark>"
                    f"{esc(passage[end:])}")
        return f'{esc(passage)}<br><mark class="cb-quote">{esc(quote)}</mark>'
    return esc(passage)


def render_sources(answer: Answer, turn: int) -> str:
    """The sources of one answer: title, section, date, source file and passage with the quote marked."""
    head = f'<div class="cb-turn-head">Answer {turn}: <q>{esc(_shorten(answer.question, 90))}</q></div>'
    if not answer.citations:
        note = ("No passage in the articles was close enough to answer this, so nothing is cited."
                if answer.abstained else "This answer cites no passage.")
        return f'<section class="cb-turn" id="cb-turn-{turn}">{head}<p class="cb-none">{note}</p></section>'
    items = []
    for citation in answer.citations:
        hit = citation.hit
        meta = " · ".join(esc(part) for part in (hit.section_name if hit.section_name != hit.title else "",
                                                   hit.date or "", hit.source) if part)
        items.append(
            f'<li class="cb-source" id="{source_id(turn, citation.n)}" data-source="{esc(hit.source)}">'
            f'<div class="cb-source-title"><span class="cb-n">[{citation.n}]</span> {esc(hit.title)}</div>'
            f'<div class="cb-source-meta">{meta}</div>'
            f'<blockquote class="cb-passage">{highlight(hit.text, citation.quote)}</blockquote></li>')
    return f'<section class="cb-turn" id="cb-turn-{turn}">{head}<ol class="cb-sources">{"".join(items)}</ol></section>'


def render_panel(sections: Iterable[str]) -> str:
    """The sources panel: the newest answer's sources first."""
    sections = list(sections)
    if not sections:
        return ('<div class="cb-panel"><p class="cb-none">Sources of each answer appear here. '
                "Click a number like [1] in an answer to jump to its passage.</p></div>")
    return '<div class="cb-panel">' + "".join(reversed(sections)) + "</div>"


def render_mode(mode: str) -> str:
    """The visible note of how answers are made."""
    if not mode or mode == "extractive":
        text = ("<b>Answer mode:</b> extractive — sentences quoted from the articles, "
                "no language model.")
    else:
        text = (f"<b>Answer mode:</b> local model <code>{esc(mode)}</code>, "
                "writing only from the cited passages.")
    return f'<div class="cb-mode">{text}</div>'


def render_articles(articles: Sequence) -> str:
    """The Articles tab table: title, date, chunks and file of every indexed article."""
    if not articles:
        return '<p class="cb-none">No article is indexed yet.</p>'
    rows = "".join(f"<tr><td>{esc(a.title)}</td><td>{esc(a.date or '—')}</td><td>{a.chunks}</td>"
                   f"<td><code>{esc(a.source)}</code></td></tr>" for a in articles)
    return (f'<table class="cb-articles"><thead><tr><th>Title</th><th>Date</th><th>Chunks</th>'
            f"<th>File</th></tr></thead><tbody>{rows}</tbody></table>"
            f'<p class="cb-count">{len(articles)} article(s), '
            f"{sum(a.chunks for a in articles)} chunks indexed.</p>")


def render_status(lines: Sequence[tuple[str, str]]) -> str:
    """Upload results: (kind, message) pairs, kind being ok, warn or error."""
    items = "".join(f'<li class="cb-{esc(kind)}">{esc(message)}</li>' for kind, message in lines)
    return f'<ul class="cb-status">{items}</ul>'


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
