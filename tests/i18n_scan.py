"""Find text in templates and Python views that a user would read but that is not marked for
translation (tests/test_translations.py fails on any).

Templates: the template's own text (outside ``{{ }}``, ``{% %}`` and ``{% trans %}``) is put
back together with a placeholder for each expression and read as HTML; what a user reads
(text between tags, and the attributes title, placeholder, aria-label, alt, and the value of
buttons) must hold no word. String constants inside expressions that read like a sentence
or a label ("Current password", "Refund amount of item %d") must be an argument of ``_()``
(or gettext/ngettext/pgettext). Python: the first argument of ``flash()`` must not be a
literal or an f-string.
"""
from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment, nodes

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "\x00"
WORD = re.compile(r"[^\W\d_]{2,}")
# Words that read the same in German: names, units, codes.
SAME_IN_EVERY_LANGUAGE = {
    "Order", "Panel", "OMS", "CSV", "PDF", "SKU", "ID", "UTC", "API", "EUR", "USD", "GBP",
    "XML", "SVG", "Spryker", "OK", "kg", "min", "JSON", "URL", "IP", "of",
}
# "Order Panel" is the product's name; "of" only inside it is not worth a second rule.
SAME_PHRASES = ("Order Panel",)
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-confirm"}
SKIP_ELEMENTS = {"script", "style"}
GETTEXT_NAMES = {"_", "gettext", "ngettext", "pgettext", "npgettext", "_l", "lazy_gettext"}
# A constant that reads as human text: a capital letter, then a lowercase word, or several
# words; css classes, endpoints and keys are lowercase or have dots and underscores.
LABEL = re.compile(r"^[A-Z][a-z']+(?:[ ,:;.!?()%-]+[\w'%()]+)*[.!?:]?$")


def _env() -> Environment:
    return Environment(extensions=["jinja2.ext.i18n", "jinja2.ext.do"])


def _words(text: str) -> list[str]:
    for phrase in SAME_PHRASES:
        text = text.replace(phrase, " ")
    return [w for w in WORD.findall(text.replace(PLACEHOLDER, " "))
            if w not in SAME_IN_EVERY_LANGUAGE]


class _Reader(HTMLParser):
    """Collects what a user reads in HTML whose expressions are placeholders."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_ELEMENTS:
            self._skip += 1
        attrs = dict(attrs)
        for name, value in attrs.items():
            if value and (name in READ_ATTRIBUTES or (  # an input button shows its value
                    tag == "input" and name == "value"
                    and attrs.get("type") in ("submit", "button"))):
                if _words(value):
                    self.found.append(f'{name}="{value.replace(PLACEHOLDER, "{}")}"')

    def handle_endtag(self, tag):
        if tag in SKIP_ELEMENTS and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and _words(data):
            self.found.append(" ".join(data.replace(PLACEHOLDER, "{}").split()))


def _template_text(source: str, env: Environment) -> str:
    """The template's literal text outside trans blocks, each Jinja construct a placeholder."""
    parts: list[str] = []
    in_trans = False
    block: list[str] = []
    in_block = False
    for _, kind, value in env.lex(source):
        if kind == "block_begin":
            in_block, block = True, []
            continue
        if in_block:
            if kind == "block_end":
                in_block = False
                name = block[0] if block else ""
                if name == "trans":
                    in_trans = True
                elif name == "endtrans":
                    in_trans = False
                parts.append(PLACEHOLDER)
            elif kind == "name":
                block.append(value)
            continue
        if kind == "data":
            parts.append(PLACEHOLDER if in_trans else value)
        elif kind in ("variable_begin", "comment_begin", "raw_begin"):
            parts.append(PLACEHOLDER)
    return "".join(parts)


def _unmarked_constants(tree: nodes.Template) -> list[str]:
    found = []
    marked: set[int] = set()
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in GETTEXT_NAMES:
            for arg in call.args:
                marked.add(id(arg))
    for const in tree.find_all(nodes.Const):
        value = const.value
        if isinstance(value, str) and id(const) not in marked and LABEL.match(value) \
                and _words(value):
            found.append(repr(value))
    return found


def unmarked_in_template(path: Path) -> list[str]:
    env = _env()
    source = path.read_text(encoding="utf-8")
    reader = _Reader()
    reader.feed(_template_text(source, env))
    reader.close()
    return reader.found + _unmarked_constants(env.parse(source))


def _bare_text(node: ast.AST) -> bool:
    """Whether the expression holds a literal with words, or an f-string, outside gettext."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) in GETTEXT_NAMES:
        return False
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_words(node.value))
    return any(_bare_text(child) for child in ast.iter_child_nodes(node))


def unmarked_in_python(path: Path) -> list[str]:
    """flash() calls whose message holds a literal or an f-string not given to gettext."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "flash" \
                and node.args and _bare_text(node.args[0]):
            found.append(f"line {node.lineno}: flash({ast.unparse(node.args[0])[:60]})")
    return found


def templates() -> list[Path]:
    return sorted((ROOT / "templates").rglob("*.html"))


def python_views() -> list[Path]:
    return sorted((ROOT / "panel").rglob("*.py"))


if __name__ == "__main__":  # python -m tests.i18n_scan: the worklist
    total = 0
    for path in templates():
        for text in unmarked_in_template(path):
            print(f"{path.relative_to(ROOT)}: {text}")
            total += 1
    for path in python_views():
        for text in unmarked_in_python(path):
            print(f"{path.relative_to(ROOT)}: {text}")
            total += 1
    print(total, "unmarked")
