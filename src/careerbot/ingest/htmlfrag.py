"""Text of an HTML fragment (inline or block HTML inside Markdown), through lxml: tags reduced to their
text, scripts, styles and comments dropped.

Usage: html_fragment_text('<p align="center">Caption <b>bold</b></p>') == "Caption bold"
"""
from __future__ import annotations

import html
import re

_DROP = ("script", "style", "noscript", "template", "svg", "iframe")
_SPACED = ("br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article")


def html_fragment_text(fragment: str) -> str:
    """Visible text of an HTML fragment; '' for comments, scripts and styles."""
    if not fragment.strip():
        return ""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError, AssertionError):  # lxml asserts on some broken fragments
        return html.unescape(re.sub(r"<[^>]*>", " ", fragment))
    for element in list(root.iter(etree.Comment, *_DROP)):
        if element is root:
            continue
        tail = element.tail
        parent = element.getparent()
        if parent is not None:
            previous = element.getprevious()
            if tail:
                if previous is not None:
                    previous.tail = (previous.tail or "") + tail
                else:
                    parent.text = (parent.text or "") + tail
            parent.remove(element)
    for element in root.iter(*_SPACED):
        element.tail = " " + (element.tail or "")
    return " ".join(root.text_content().split())
