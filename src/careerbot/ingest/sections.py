"""Blocks → a tree of sections: each heading opens a section at its level, under the nearest heading
above it of a lower level. A section's path is the tuple of headings from the top.

Usage: sections = build_sections(blocks)  # (Section(heading="Skills", level=2, path=("Skills",), ...), ...)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..records import Section
from .blocks import HEADING, LIST, Block


@dataclass
class _Open:
    heading: str
    level: int
    path: tuple[str, ...]
    blocks: list[str] = field(default_factory=list)
    children: list[_Open] = field(default_factory=list)

    def freeze(self) -> Section | None:
        children = tuple(s for s in (c.freeze() for c in self.children) if s is not None)
        if not self.blocks and not children:
            return None
        return Section(self.heading, self.level, self.path, tuple(self.blocks), children)


def render(block: Block) -> str:
    """A block as section text: a paragraph as is, a list as '- item' lines (what the chunker reads)."""
    return "\n".join(f"- {item}" for item in block.items) if block.kind == LIST else block.text


def build_sections(blocks: list[Block]) -> tuple[Section, ...]:
    """The section tree of an article's blocks; text before the first heading is a lead section, path ()."""
    root = _Open("", 0, ())
    stack = [root]
    for block in blocks:
        if block.kind == HEADING:
            level = max(1, block.level)
            while len(stack) > 1 and stack[-1].level >= level:
                stack.pop()
            node = _Open(block.text, level, stack[-1].path + (block.text,))
            stack[-1].children.append(node)
            stack.append(node)
        else:
            stack[-1].blocks.append(render(block))
    lead = Section("", 0, (), tuple(root.blocks)) if root.blocks else None
    tops = tuple(s for s in (c.freeze() for c in root.children) if s is not None)
    return ((lead,) if lead else ()) + tops
