"""HTML → markdown-ish text: the main content of a page, without scripts, styles, navigation or footers.

Usage: text = html_to_markdown("<article><h2>Skills</h2><ul><li>Python</li></ul></article>")
"""
from __future__ import annotations

import re
from html.parser import HTMLParser


class _HTMLText(HTMLParser):
    """Collects the main text of a page as markdown-ish lines, skipping scripts, styles and chrome."""

    SKIP = {"script", "style", "nav", "footer", "header", "aside", "form", "noscript", "svg", "iframe",
            "button", "template"}
    BLOCK = {"p", "div", "section", "article", "main", "br", "tr", "table", "ul", "ol", "blockquote", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIP:
            self.skip_depth += 1
        elif tag == "title":
            self._in_title = True
        elif not self.skip_depth:
            if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                self.out.append("\n\n" + "#" * int(tag[1]) + " ")
            elif tag == "li":
                self.out.append("\n- ")
            elif tag in self.BLOCK:
                self.out.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "title":
            self._in_title = False
        elif not self.skip_depth and (tag in self.BLOCK or tag.startswith("h")):
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self.skip_depth:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_markdown(html: str) -> str:
    """Main text of an HTML page as markdown: headings (#), list items (-) and paragraphs."""
    main = re.search(r"<(article|main)\b.*?</\1>", html, re.IGNORECASE | re.DOTALL)
    parser = _HTMLText()
    parser.feed(main.group(0) if main else html)
    body = "".join(parser.out)
    body = "\n".join(line.strip() for line in body.split("\n"))
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    if parser.title.strip() and not body.startswith("#"):
        body = f"# {parser.title.strip()}\n\n{body}"
    if main and not body.startswith("#"):
        titled = _HTMLText()
        titled.feed(html)
        if titled.title.strip():
            body = f"# {titled.title.strip()}\n\n{body}"
    return body
