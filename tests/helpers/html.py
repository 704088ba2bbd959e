"""Reading a built index.html: its tags and inline scripts."""

from __future__ import annotations

import html.parser
from pathlib import Path


class TagCollector(html.parser.HTMLParser):
    """Every start tag with its attributes, and the text of inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_texts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.script_texts.append(data)


def parse(page: Path) -> TagCollector:
    """The tags and inline scripts of an HTML file."""
    collector = TagCollector()
    collector.feed(page.read_text())
    return collector
