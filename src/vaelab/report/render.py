"""The report as a list of blocks, rendered twice: Markdown for git hosts, one offline HTML file.

Both renderers read the same blocks so README.md and index.html can never disagree. Text
uses four inline marks only: `code`, **bold**, *italic* and [in-page links](#anchor); the
HTML page needs no network and no JS.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Where a figure's image comes from: a relative link or a data: URI; None when it is missing.
ImageSource = Callable[[Path], str | None]


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Figure:
    """An image with its caption; `missing` says what to run when the file is absent."""

    path: Path
    caption: str
    missing: str


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Heading | Paragraph | Bullets | Figure | Table

CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #1b1b1b; }
h1, h2, h3 { line-height: 1.2; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; }
code { background: #f3f3f3; padding: 0 .25em; border-radius: 3px; font-size: 90%; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 90%; color: #444; }
table { border-collapse: collapse; margin: 1em 0; font-size: 85%; display: block;
        overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f6f6f6; } tr:nth-child(even) td { background: #fbfbfb; }
td.holds { background: #e3f4e1 !important; } td.does-not-hold { background: #fbe4e1 !important; }
td.not-measured { background: #eeeeee !important; color: #555; }
td.inconclusive { background: #fdf3d0 !important; }
.missing { border-left: 4px solid #bbb; padding: .5em 1em; background: #f6f6f6; }
"""
VERDICT_CLASSES = {
    "holds": "holds",
    "does not hold": "does-not-hold",
    "inconclusive": "inconclusive",
    "not measured": "not-measured",
}


def _inline_html(text: str) -> str:
    """Escape, then turn `code`, **bold**, *italic* and [links](#anchor) into tags.

    Only in-page links and pages beside it (explorer.html): it must work with no network.
    """
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    escaped = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)
    escaped = re.sub(r"\*([^*]+)\*", r"<em>\1</em>", escaped)
    return re.sub(r"\[([^\]]+)\]\((#[\w-]+|[\w-]+\.html)\)", r'<a href="\2">\1</a>', escaped)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|") or " "


def _markdown_block(block: Block, image: ImageSource) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {block.text}"
    if isinstance(block, Paragraph):
        return block.text
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Figure):
        src = image(block.path)
        if src is None:
            return f"> **not measured**: `{block.path.name}` is missing; {block.missing}"
        return f"![{block.path.name}]({src})\n\n*{block.caption}*"
    lines = [block.header, tuple("---" for _ in block.header), *block.rows]
    return "\n".join("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in lines)


def to_markdown(blocks: Sequence[Block], image: ImageSource) -> str:
    """GitHub-flavoured Markdown; figures link to `image(path)`."""
    return "\n\n".join(_markdown_block(block, image) for block in blocks) + "\n"


def _html_cell(tag: str, text: str) -> str:
    verdict = next(
        (v for v in VERDICT_CLASSES if text in (v, f"**{v}**") or text.startswith(f"**{v}**,")),
        None,
    )
    css = VERDICT_CLASSES.get(verdict) if verdict else None
    attr = f' class="{css}"' if css and tag == "td" else ""
    return f"<{tag}{attr}>{_inline_html(text)}</{tag}>"


def _html_block(block: Block, image: ImageSource) -> str:
    if isinstance(block, Heading):
        anchor = re.sub(r"[^a-z0-9]+", "-", block.text.lower()).strip("-")
        return f'<h{block.level} id="{anchor}">{_inline_html(block.text)}</h{block.level}>'
    if isinstance(block, Paragraph):
        return f"<p>{_inline_html(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Figure):
        src = image(block.path)
        if src is None:
            text = f"**not measured**: `{block.path.name}` is missing; {block.missing}"
            return f'<p class="missing">{_inline_html(text)}</p>'
        alt = html.escape(block.path.name)
        return (
            f'<figure><img src="{src}" alt="{alt}">'
            f"<figcaption>{_inline_html(block.caption)}</figcaption></figure>"
        )
    head = "".join(_html_cell("th", c) for c in block.header)
    body = "".join(
        "<tr>" + "".join(_html_cell("td", c) for c in row) + "</tr>" for row in block.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(blocks: Sequence[Block], title: str, image: ImageSource) -> str:
    """One self-contained page: inline CSS, images from `image(path)` (data: URIs)."""
    body = "\n".join(_html_block(block, image) for block in blocks)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )
