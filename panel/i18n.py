"""Languages of the back office: English and German, chosen per user (Flask-Babel).

A user's own setting wins; without one, the browser's Accept-Language picks among the
languages we have, English when it names none of them. Text is marked with ``_`` (gettext)
in views and ``_l`` (lazy) where it is defined at import time (menu names, plugin texts),
``{% trans %}`` / ``_()`` in templates. The catalogs are panel/translations/<lang>/
LC_MESSAGES/messages.po, compiled to .mo by ``make translations`` (tests check both).

Mails to a customer are written in the order's language (``order_language``), not the
back-office user's.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from flask import Flask, g, has_request_context, request
from flask_babel import (
    Babel,
    force_locale,
    get_locale,
    get_translations,
    lazy_gettext,
    refresh,
)
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DEFAULT = "en"
# Code: the language's own name, as the setting lists it (never translated).
LANGUAGES = {"en": "English", "de": "Deutsch"}

babel = Babel()
_l = lazy_gettext  # text defined at import time, translated where it is shown
__all__ = ["_", "_l", "ngettext", "N_", "LANGUAGES", "language_of", "order_language",
           "in_language", "current_language", "refresh_language", "init_i18n"]


def N_(text: str) -> str:
    """Mark text for the catalog where it is defined and translate it where it is shown
    (``_(TEXT)``): for constants that also go out untranslated (an API's JSON)."""
    return text


def language_of(locale: str | None) -> str:
    """The language of ours for a locale such as ``de_AT`` or ``en-GB`` (English if none)."""
    code = (locale or "").replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else DEFAULT


def select_locale() -> str:
    """The signed-in user's language, else the browser's best match, else English."""
    if not has_request_context():
        return DEFAULT  # a command or the worker: mails choose their own (order_language)
    try:
        chosen = g.panel_language if "panel_language" in g else \
            getattr(current_user, "locale", None)
    except SQLAlchemyError:
        chosen = None  # an error page while the database is away: the browser's language
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT)


# This request's (language, translations), looked up once: a page asks for them hundreds of
# times (each text, each amount), and Flask-Babel's own lookup walks its context each time.
_CACHED = "_panel_language_and_translations"


def _language_and_translations():
    cached = g.get(_CACHED)
    if cached is None:
        locale = get_locale()
        cached = (locale.language if locale is not None else DEFAULT, get_translations())
        setattr(g, _CACHED, cached)
    return cached


def refresh_language(chosen: str | None) -> None:
    """After the user changed their setting: this request's later text (the flash message)
    in the new language already."""
    g.panel_language = chosen or ""
    g.pop(_CACHED, None)
    refresh()


def current_language() -> str:
    """The language of this request ("en" outside an app context)."""
    return _language_and_translations()[0] if g else DEFAULT


def _(text: str, **values) -> str:
    """``text`` in the request's language, ``%(name)s`` filled from ``values`` (Flask-Babel's
    gettext, with the lookup kept per request; outside an app context, the English)."""
    if g:
        text = _language_and_translations()[1].ugettext(text)
    return text % values if values else text


def ngettext(singular: str, plural: str, num: int, **values) -> str:
    """The singular or plural text for ``num`` (``%(num)d``), as Flask-Babel's ngettext."""
    values.setdefault("num", num)
    if g:
        text = _language_and_translations()[1].ungettext(singular, plural, num)
    else:
        text = singular if num == 1 else plural
    return text % values


def _template_gettext(text: str) -> str:
    return _language_and_translations()[1].ugettext(text)


def _template_ngettext(singular: str, plural: str, n: int) -> str:
    return _language_and_translations()[1].ungettext(singular, plural, n)


def _template_pgettext(context: str, text: str) -> str:
    return _language_and_translations()[1].upgettext(context, text)


def _template_npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _language_and_translations()[1].unpgettext(context, singular, plural, n)


def order_language(order) -> str:
    """The language to write to an order's customer in: the order's locale's."""
    return language_of(getattr(order, "locale", None))


@contextmanager
def in_language(language: str):
    """``with in_language("de"):`` renders text in that language (a mail to a customer)."""
    saved = g.pop(_CACHED, None) if g else None
    try:
        with force_locale(language_of(language)):
            yield
    finally:
        if g:
            g.pop(_CACHED, None)
            if saved is not None:
                setattr(g, _CACHED, saved)


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    babel.init_app(app, locale_selector=select_locale)
    # {% trans %} blocks read as one line of text, however the template wraps them (the
    # catalog is extracted the same way: panel/i18n_catalog.py).
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.install_gettext_callables(  # Flask-Babel's, with the lookup kept per request
        gettext=_template_gettext, ngettext=_template_ngettext, pgettext=_template_pgettext,
        npgettext=_template_npgettext, newstyle=True)
    app.jinja_env.globals.update(current_language=current_language, LANGUAGES=LANGUAGES)
