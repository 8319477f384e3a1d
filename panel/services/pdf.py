"""PDF from HTML (return slips, invoices, credit notes), and barcodes to put in it.

WeasyPrint lays the page out from the same HTML and CSS a template renders for the browser,
so a document's print page and its PDF are one template. It fetches nothing from outside:
a document may show only what is in its HTML (inline SVG, data: URLs) and the panel's own
static files, so a name or address in a document cannot make the server read a URL or file.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import barcode
from barcode.writer import SVGWriter
from markupsafe import Markup

from panel.i18n import _

STATIC = (Path(__file__).resolve().parent.parent / "static").as_uri() + "/"


class PdfError(RuntimeError):
    """The document could not be laid out as a PDF."""


def _weasyprint():
    """WeasyPrint, imported when a PDF is asked for: it loads Pango when imported, and the
    panel must start (and show documents as pages) on a machine without it."""
    try:
        import weasyprint
    except OSError as exc:
        raise PdfError(_("PDFs need the Pango library (Debian: apt-get install "
                         "libpango-1.0-0 libpangoft2-1.0-0): %(error)s", error=exc)) from exc
    return weasyprint


def _local_only_fetcher(url_fetcher_class):
    class LocalOnly(url_fetcher_class):
        """Fetch data: URLs and the panel's static files; refuse everything else."""

        def fetch(self, url, headers=None):
            if url.startswith("data:") or url.startswith(STATIC):
                return super().fetch(url, headers)
            raise ValueError(f"documents may not load {url[:80]!r}")

    return LocalOnly(allowed_protocols=("data", "file"))


def render_pdf(html: str) -> bytes:
    """The PDF of an HTML page; links to ``/static/...`` read the panel's static files.
    PdfError when it cannot be made (Pango missing, a layout error)."""
    weasyprint = _weasyprint()
    try:
        page = weasyprint.HTML(string=html.replace('"/static/', f'"{STATIC}'), base_url=STATIC,
                               url_fetcher=_local_only_fetcher(weasyprint.URLFetcher))
        return page.write_pdf()
    except Exception as exc:  # WeasyPrint raises a variety of errors for broken input
        raise PdfError(_("the PDF could not be made: %(error)s", error=exc)) from exc


def code128_svg(text: str) -> Markup:
    """A Code 128 barcode of ``text`` as inline SVG, with the text under it (scanners in a
    warehouse read Code 128; it holds any ASCII text)."""
    out = io.BytesIO()
    barcode.get("code128", text, writer=SVGWriter()).write(
        out, options={"module_height": 12.0, "font_size": 8, "text_distance": 4})
    svg = out.getvalue().decode("utf-8")
    svg = _STYLE.sub(_as_attributes, svg[svg.index("<svg"):])  # no XML declaration, doctype
    return Markup(svg)


# python-barcode writes style="fill:black;": WeasyPrint draws it, but its HTML stylesheet
# pass logs every such declaration as an unknown CSS property (a hundred lines per barcode).
# SVG's presentation attributes say the same without a word in the log.
_STYLE = re.compile(r'style="([^"]*)"')


def _as_attributes(match: re.Match) -> str:
    pairs = (part.split(":", 1) for part in match.group(1).split(";") if ":" in part)
    return " ".join(f'{name.strip()}="{value.strip()}"' for name, value in pairs)
