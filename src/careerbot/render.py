"""HTML for the chat UI: answers with linked [n] markers, the sources panel and the article list.

Article text, questions and answers are untrusted: every piece of them goes through `esc` here, and
only markup written in this module reaches the page. Usage: html = render_answer(answer.text, answer.citations, 1)
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

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


STREAMING = '<div class="cb-answer cb-streaming">'


def render_partial(text: str) -> str:
    """An answer still being composed: the escaped text after a fixed opening tag, so each longer piece
    only appends to the last one (Gradio then streams just the new characters). CSS keeps the line breaks
    and draws the cursor; markers are linked when the answer is done. esc works character by character,
    so render_partial(a + b) == render_partial(a) + esc(b)."""
    return STREAMING + esc(text)


def plain_answer(text: str, citations: Sequence[Citation]) -> str:
    """An answer as plain text for the clipboard and screen readers: the prose with its [n] markers, then
    a "Sources:" list (title, section, date). Usage: plain_answer(answer.text, answer.citations)"""
    lines = [text.strip()]
    if citations:
        lines += ["", "Sources:"]
        for c in citations:
            parts = [c.hit.title] + [p for p in (c.hit.section_name if c.hit.section_name != c.hit.title else "",
                                                 c.hit.date or "") if p]
            lines.append(f"[{c.n}] " + " — ".join(parts))
    return "\n".join(lines)


def render_answer(text: str, citations: Sequence[Citation], turn: int, abstained: bool = False) -> str:
    """A finished answer: escaped prose whose [n] markers link to the matching source entry. A hidden
    span carries the plain text (plain_answer) that copying and screen readers use (the chat's sanitiser
    keeps classes, not data attributes)."""
    known = {c.n for c in citations}
    body = _paragraphs(text, lambda line: _link_markers(esc(line), turn, known))
    css = "cb-answer cb-abstained" if abstained else "cb-answer"
    return f'<div class="{css}">{body}<span class="cb-plain">{esc(plain_answer(text, citations))}</span></div>'


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
                                                   hit.date or "") if part)
        items.append(
            f'<li class="cb-source" id="{source_id(turn, citation.n)}" data-source="{esc(hit.source)}">'
            f'<div class="cb-source-title" title="File: {esc(hit.source)}"><span class="cb-n">[{citation.n}]</span> '
            f'{esc(hit.title)}</div>'
            f'<div class="cb-source-meta">{meta}</div>'
            f'<blockquote class="cb-passage">{highlight(hit.text, citation.quote)}</blockquote>'
            f'{article_button(hit.source, hit.title, hit.chunk_id, citation.quote)}</li>')
    return f'<section class="cb-turn" id="cb-turn-{turn}">{head}<ol class="cb-sources">{"".join(items)}</ol></section>'


def article_button(source: str, title: str, chunk_id: str = "", quote: str = "") -> str:
    """A button that opens the whole article (ui.js asks the server for it), at the cited passage if given."""
    label = "Read the whole article" if chunk_id else "Read"
    return (f'<button type="button" class="cb-open-article" data-source="{esc(source)}" data-chunk="{esc(chunk_id)}"'
            f' data-quote="{esc(quote)}" aria-label="{esc(label)}: {esc(title)}">{label}</button>')


def render_panel(sections: Iterable[str]) -> str:
    """The sources panel: the newest answer's sources first. On a phone it is a sheet with a way back."""
    sections = list(sections)
    back = ('<button type="button" class="cb-sheet-close" aria-label="Close the sources and go back to the answer">'
            "← Back to the answer</button>")
    if not sections:
        return (f'<div class="cb-panel">{back}<p class="cb-none">Sources of each answer appear here. '
                "Click a number like [1] in an answer to see its passage.</p></div>")
    return f'<div class="cb-panel">{back}' + "".join(reversed(sections)) + "</div>"


def render_mode(mode: str) -> str:
    """The visible note of how answers are made, in plain words; the technical name is in the tooltip."""
    if not mode or mode == "extractive":
        text, detail = ("Answers are sentences quoted from the articles; no AI model writes them.",
                        "Extractive mode: no language model is used.")
    else:
        text, detail = ("Answers are written by a local AI model, only from the passages it cites.",
                        f"Model: {mode}")
    return f'<div class="cb-mode" title="{esc(detail)}">{esc(text)}</div>'


def render_articles(articles: Sequence) -> str:
    """The Articles tab table: title, date and passage count of every indexed article (the file name in the
    tooltip), each with Read and Remove buttons."""
    if not articles:
        return '<p class="cb-none">No article is indexed yet.</p>'
    rows = "".join(
        f'<tr data-source="{esc(a.source)}" title="File: {esc(a.source)}"><td class="cb-title">{esc(a.title)}</td>'
        f"<td>{esc(a.date or '—')}</td><td>{a.chunks}</td><td class=\"cb-row-actions\">"
        f"{article_button(a.source, a.title)}"
        f'<button type="button" class="cb-remove" data-source="{esc(a.source)}" data-title="{esc(a.title)}" '
        f'aria-label="Remove: {esc(a.title)}">Remove</button></td></tr>' for a in articles)
    return (f'<table class="cb-articles"><thead><tr><th>Title</th><th>Date</th>'
            f'<th title="Passages the article is split into for search">Passages</th><th><span class="cb-sr">'
            f"Actions</span></th></tr></thead><tbody>{rows}</tbody></table>"
            f'<p class="cb-count">{len(articles)} article(s), '
            f"{sum(a.chunks for a in articles)} passages.</p>")


def render_status(lines: Sequence[tuple[str, ...]]) -> str:
    """Upload and removal results: (kind, message[, detail]) with kind ok, warn or error; the detail (file
    names, counts, timings) goes in a tooltip."""
    items = "".join(f'<li class="cb-{esc(line[0])}"' + (f' title="{esc(line[2])}"' if len(line) > 2 else "")
                    + f">{esc(line[1])}</li>" for line in lines)
    return f'<ul class="cb-status" role="status">{items}</ul>'


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
