"""HTML of the app's own views: the article reader, the saved-chat list, and the first screen (a summary of
what the knowledge base covers and example questions drawn from it). Like render.py, every piece of article
or user text goes through `esc`.

Usage: html = render_article(article, passage=hit.text, quote=citation.quote)
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ..answer.library import Library
from ..records import Article
from ..render import BULLET, esc, highlight

HIT_ID = "cb-reader-hit"  # the element ui.js scrolls into view when an article opens
_PAIR = re.compile(r"^(.+?)\s+(?:vs\.?|versus)\s+(.+?)(?:\s*[:?].*)?$", re.IGNORECASE)
_SPLIT = re.compile(r"\s+(?:vs\.?|versus|and|or|&)\s+|[:,;|–—]\s*|\s+-\s+", re.IGNORECASE)


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def _in_passage(block: str, passage: str) -> bool:
    """Whether a block is (part of) the cited passage; a chunk may start or end inside a long block."""
    b = _norm(BULLET.sub("", block))
    if not b or not passage:
        return False
    return b in passage or passage in b or (len(passage) > 60 and (passage[:60] in b or passage[-60:] in b))


def render_article(article: Article, passage: str = "", quote: str = "") -> str:
    """The whole cleaned article: title, date, byline, headed sections; the blocks of the cited passage are
    shaded and the quoted sentence marked (id HIT_ID on the first mark, or on the passage's first block)."""
    passage_n, quote_n = _norm(passage), _norm(quote)
    state = {"target": False}

    def line_html(line: str) -> str:
        if quote_n and quote_n in _norm(line):
            marked = highlight(line, quote)
            if not state["target"] and "<mark" in marked:
                state["target"] = True
                return marked.replace('<mark class="cb-quote">', f'<mark class="cb-quote" id="{HIT_ID}">', 1)
            return marked
        return esc(line)

    def block_html(block: str) -> str:
        shaded = _in_passage(block, passage_n)
        lines = [x for x in block.split("\n") if x.strip()]
        if lines and all(BULLET.match(x) for x in lines):
            inner = "<ul>" + "".join(f"<li>{line_html(BULLET.sub('', x))}</li>" for x in lines) + "</ul>"
            tag = "div"
        else:
            inner, tag = "<br>".join(line_html(x) for x in lines), "p"
        if not shaded:
            return f"<{tag}>{inner}</{tag}>"
        target = ""
        if not state["target"] and not quote_n:
            state["target"], target = True, f' id="{HIT_ID}"'
        return f'<{tag} class="cb-in-passage"{target}>{inner}</{tag}>'

    parts = [f'<h2 class="cb-reader-title" id="cb-reader-title">{esc(article.title)}</h2>']
    meta = " · ".join(esc(x) for x in (article.date, article.byline) if x)
    if meta:
        parts.append(f'<p class="cb-reader-meta">{meta}</p>')
    for section in article.walk():
        if section.heading and section.level:
            level = min(6, section.level + 2)
            parts.append(f"<h{level}>{esc(section.heading)}</h{level}>")
        parts.extend(block_html(block) for block in section.blocks)
    if (quote_n or passage_n) and not state["target"]:
        parts.insert(1, '<p class="cb-note">The cited passage is no longer in this article as it reads now.</p>')
    return f'<article class="cb-reader-article" aria-labelledby="cb-reader-title">{"".join(parts)}</article>'


def render_chat_list(chats: Sequence[dict], current: str = "") -> str:
    """Saved chats, newest first, each with an open and a delete button (ui.js turns clicks into events)."""
    if not chats:
        return '<p class="cb-none cb-chats-empty">Your chats are kept in this browser and listed here.</p>'
    items = []
    for chat in chats:
        cid, title = esc(chat.get("id", "")), esc(chat.get("title") or "Untitled chat")
        when = esc(str(chat.get("updated", ""))[:10])
        here = chat.get("id") == current
        css, aria = (" cb-current", ' aria-current="true"') if here else ("", "")
        items.append(
            f'<li class="cb-chat-item{css}">'
            f'<button type="button" class="cb-chat-open" data-chat="{cid}"{aria}>'
            f'<span class="cb-chat-title">{title}</span><span class="cb-chat-date">{when}</span></button>'
            f'<button type="button" class="cb-chat-delete" data-chat="{cid}" aria-label="Delete chat: {title}" '
            f'title="Delete this chat">×</button></li>')
    return f'<ul class="cb-chats" aria-label="Saved chats">{"".join(items)}</ul>'


def topics(titles: Sequence[str], n: int = 10) -> list[str]:
    """The phrases that recur across article titles (the parts of "X vs. Y: Z" titles), most common first.
    Usage: topics(["A vs. B", "A vs. C"]) == ["A", "B", "C"]"""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for title in titles:
        seen = set()
        for part in _SPLIT.split(title):
            phrase = part.strip(" .?!'\"“”")
            key = phrase.lower()
            if 2 < len(phrase) <= 60 and len(phrase.split()) <= 6 and key not in seen:
                seen.add(key)
                counts[key] += 1
                shown.setdefault(key, phrase)
    return [shown[key] for key, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def example_questions(kb: Library, n: int = 4) -> list[str]:
    """Example questions drawn from the articles themselves, one per article: a title that is a question,
    the pair a "X vs. Y" title compares, or a heading the article asks ("What Is A Journeyman Electrician?").
    Usage: example_questions(kb)  # ["How do Research Scientist and Lead Machine Learning Engineer differ?", …]"""
    headings: dict[str, str] = {}
    for record in kb.snapshot.records:
        asked = next((h for h in record.chunk.section if h.rstrip().endswith("?")), None)
        if asked and record.chunk.source not in headings:
            headings[record.chunk.source] = asked
    out: list[str] = []
    for article in kb.articles():
        pair = _PAIR.match(article.title)
        question = (article.title if article.title.rstrip().endswith("?") else
                    f"How do {pair.group(1).strip()} and {pair.group(2).strip()} differ?" if pair
                    else headings.get(article.source))
        if question and question not in out:
            out.append(question)
        if len(out) >= n:
            break
    return out


def render_coverage(titles: Sequence[str], max_titles: int = 8) -> str:
    """The first screen: what the knowledge base covers, by article title (or, when there are many, the
    topics the titles share), above the example questions."""
    if not titles:
        return "<p><b>No article is indexed yet.</b> Add some in the Articles tab.</p>"
    head = f"<p><b>Answers come only from {len(titles)} article{'s' if len(titles) != 1 else ''}</b>"
    if len(titles) <= max_titles:
        body = "".join(f"<li>{esc(t)}</li>" for t in titles)
        return f'{head}:</p><ul class="cb-covers">{body}</ul><p>Ask anything about them, or start from an example:</p>'
    shared = topics(titles)
    return (f"{head} (the Articles tab lists them), about:</p>"
            f'<p class="cb-covers">{esc(", ".join(shared))}</p>'
            "<p>Ask anything about them, or start from an example:</p>")


def render_notice(message: str) -> str:
    """A notice under the question box (e.g. a question over the length limit), read out by screen readers."""
    return f'<p class="cb-notice" role="alert">{esc(message)}</p>'
