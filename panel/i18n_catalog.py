"""The message catalogs: what is marked for translation, and the German catalog kept in step.

``flask translations update`` (``make translations``) extracts every marked text from the
views, services, plugins and templates, adds the new ones to each language's .po (empty, to
be translated), drops those no longer marked, and compiles the .mo the app reads. The tests
(tests/test_translations.py) fail when a marked text has no translation or the .mo is older
than its .po.
"""
from __future__ import annotations

import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from panel.i18n import DEFAULT, LANGUAGES, TRANSLATIONS

ROOT = TRANSLATIONS.parent.parent
SOURCES = (("panel", "python"), ("plugins", "python"), ("templates", "jinja2"))
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.do", "trimmed": "true"}


def extract(only: list[Path] | None = None) -> Catalog:
    """Every marked text of the project (or of the files and folders ``only`` names), with
    where it is used."""
    catalog = Catalog(project="Order Panel", domain="messages")
    wanted = [path.resolve() for path in only] if only else None
    for folder, method in SOURCES:
        pattern = "**.py" if method == "python" else "**.html"
        options = {pattern: JINJA_OPTIONS} if method == "jinja2" else {}
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / folder, [(pattern, method)], options, keywords=KEYWORDS,
            comment_tags=("Translators:",), strip_comment_tags=True,
        ):
            path = ROOT / folder / filename
            if wanted and not any(path == w or w in path.parents for w in wanted):
                continue
            catalog.add(message, None, [(f"{folder}/{filename}", lineno)],
                        auto_comments=comments, context=context)
    return catalog


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def read(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, domain="messages", project="Order Panel",
                       version="1", copyright_holder="Order Panel", fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def compiled(catalog: Catalog) -> bytes:
    """The .mo bytes of a catalog (fuzzy entries left out, as gettext does)."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        # File names but no line numbers: a change elsewhere in a file moves no entry.
        write_po(handle, catalog, width=100, sort_output=True, include_lineno=False)


def _read_file(path: Path, language: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _fill(catalog: Catalog, source: Catalog) -> None:
    """Give the catalog's untranslated texts the translations ``source`` has."""
    for message in catalog:
        if not message.id or (message.string and not message.fuzzy and (
                not isinstance(message.string, tuple) or all(message.string))):
            continue
        known = source.get(message.id, message.context)
        if known is not None and known.string and not known.fuzzy:
            message.string, message.flags = known.string, message.flags - {"fuzzy"}


def update(parts: list[Path] = ()) -> dict[str, int]:
    """Bring every language's .po in step with the marked texts (taking translations of
    texts still untranslated from the .po files ``parts``) and compile it; return how many
    texts each language still lacks."""
    template = extract()
    missing = {}
    for language in LANGUAGES:
        if language == DEFAULT:
            continue
        catalog = read(language)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()
        for part in parts:
            _fill(catalog, _read_file(part, language))
        path = po_path(language)
        _write(catalog, path)
        path.with_suffix(".mo").write_bytes(compiled(read(language)))
        missing[language] = len(untranslated(read(language)))
    return missing


def update_part(part: Path, only: list[Path], language: str = "de") -> list[str]:
    """Keep a .po file of the texts in ``only`` (files or folders) in step, for translating
    one area apart from the catalog; return its texts without a translation."""
    catalog = _read_file(part, language) if part.exists() else Catalog(locale=language)
    _fill(catalog, read(language))
    catalog.update(extract(only), no_fuzzy_matching=True, update_creation_date=False)
    catalog.obsolete.clear()
    _write(catalog, part)
    return untranslated(_read_file(part, language))


def untranslated(catalog: Catalog) -> list[str]:
    """The ids of the catalog's texts with no translation (or only a fuzzy one)."""
    result = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            result.append(message.id if isinstance(message.id, str) else message.id[0])
    return result
