"""PDF rendering (panel.services.pdf): text comes out as written, nothing is fetched from
outside, and barcodes are inline SVG."""
from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from pypdf import PdfReader

from panel.services.pdf import code128_svg, render_pdf


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_page_becomes_a_pdf_whose_text_reads_back():
    data = render_pdf("<html><body><h1>Gutschrift GS-DE-2026-000001</h1>"
                      "<p>Jürgen Groß, Straße 1 – €12.34</p></body></html>")
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Gutschrift GS-DE-2026-000001" in text and "Jürgen Groß, Straße 1 – €12.34" in text


def test_nothing_outside_is_fetched():
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the stdlib's name)
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        data = render_pdf(f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">'
                          f'</head><body><img src="http://127.0.0.1:{port}/y.png">'
                          '<img src="file:///etc/hostname"><p>still made</p></body></html>')
    finally:
        server.shutdown()
        server.server_close()
    assert hits == [] and "still made" in pdf_text(data)


def test_the_panels_own_static_files_are_read():
    data = render_pdf('<html><head><link rel="stylesheet" href="/static/panel.css"></head>'
                      "<body><p>styled</p></body></html>")
    assert "styled" in pdf_text(data)


def test_a_barcode_is_inline_svg_with_its_text():
    svg = str(code128_svg("DE--R-12"))
    assert svg.startswith("<svg") and "DE--R-12" in svg and "<?xml" not in svg
    assert "DE--R-12" in pdf_text(render_pdf(f"<html><body>{svg}</body></html>"))
