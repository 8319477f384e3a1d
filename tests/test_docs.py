"""The documentation keeps up with the code: every hook is in the plugin guide, and the README
leads to the guide."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from panel import hookspecs

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_GUIDE = ROOT / "docs" / "plugins.md"


def hook_signatures() -> list[str]:
    """``name(params)`` of every hook spec, exactly as panel/hookspecs.py declares it."""
    return [f"{name}{inspect.signature(function)}"
            for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(function, "panel_spec")]


def test_there_are_hooks_to_document():
    assert "select_process(order)" in hook_signatures()


def headings(markdown: str) -> list[str]:
    """The heading lines of a Markdown text, leaving out fenced code blocks."""
    result, in_code = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            result.append(line)
    return result


@pytest.mark.parametrize("signature", hook_signatures())
def test_plugin_hooks_are_documented(signature):
    guide = headings(PLUGIN_GUIDE.read_text(encoding="utf-8"))

    assert any(f"`{signature}`" in heading for heading in guide), (
        f"docs/plugins.md has no heading with `{signature}`")


def test_readme_links_to_the_plugin_guide():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    assert re.search(r"\]\(\.?/?docs/plugins\.md(#[^)]*)?\)", readme), (
        "README.md does not link to docs/plugins.md")
