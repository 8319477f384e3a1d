"""No request makes the panel answer with a 5xx: any text in any parameter of any route.

Nothing here is a hand-kept list of routes or parameters, so nothing goes stale:

- the routes are ``app.url_map``'s rules and their methods (the API's own fuzzing is in
  test_api_fuzz; EXCLUDED gives the two others left out, and why);
- a real path for every rule that takes arguments comes from crawling the panel's pages as
  an admin, over a small world (orders, an email, a comment, a reclamation, a bulk
  selection and run): every link, form action and script or stylesheet is matched back to
  its rule; a rule with an id argument that no page links to fails the test;
- the names each view reads come from a discovery pass through a Request class whose
  ``args`` and ``form`` remember every name asked for: first with no parameters, then with
  each name found so far set to the values the pages offer for it, until none is new; the
  parameters that made a view ask for a name are kept as that name's context (``item`` is
  only read when ``shipment`` is set);
- url_for's own keyword parameters go into every query string too: views that carry the
  query string on into links have passed those to url_for as its arguments.

Two passes then throw values at all of them, as an admin with a valid CSRF token:

- a sweep: each hostile value of HOSTILE in each parameter and path argument of each route
  alone (with the parameter's context), so that the shapes of issue 13 are tried everywhere;
- Hypothesis: generated mixes of several parameters per request (any Unicode, huge digit
  strings, other scripts' digits, any day, ``<value>:<value>``, query strings, and the
  values the pages offer), sometimes with text in place of a path argument.

No answer may be a 5xx and no request may raise. Every route is tried; the failures of all
of them are reported together, each with the request that failed.
"""
from __future__ import annotations

import copy
import inspect
import re
import traceback
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

import flask
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from panel.extensions import db
from panel.models import OrderItem, OutboundEmail, Refund, ReturnReason, User
from panel.request_body import PanelRequest
from tests.conftest import PASSWORD, order_payload, password_hash

# Left out, and why. The API blueprint: test_api_fuzz drives it from its OpenAPI document.
# Heavy (a crawl and thousands of requests): once per `make test`, on PostgreSQL when there
# is a PostgreSQL pass, where hostile values also meet its stricter types (see the Makefile).
pytestmark = pytest.mark.once_per_run

EXCLUDED_BLUEPRINTS = {"api"}
EXCLUDED = {
    # Wrong passwords would lock the test's admin out (login throttling) for the rest of it.
    ("auth.login", "POST"),
    # Logging out would end the session every other request of the test runs in.
    ("auth.logout", "POST"),
}
CSRF_FIELD = "csrf_token"  # always sent valid, so that a POST reaches its view
URL_FOR_WORDS = tuple(inspect.signature(flask.url_for).parameters)
# Parameters issue 13 names, and Flask-Admin's: the discovery must find at least these.
KNOWN_QUERY_NAMES = {"q", "state", "from", "to", "page", "per_page", "id", "search", "sort"}
KNOWN_FORM_NAMES = {"item_event", "shipment", "item", "event", "order", "filter", "scope"}

HOSTILE = [
    "",  # nothing at all
    "-1", "1e9",  # a sign, an exponent
    "²", "９", "١",  # digits of other scripts: str.isdigit() and int() take them
    "2147483648",  # one past the INTEGER id columns
    "9223372036854775808",  # 2^63, past every integer type of the databases
    "9" * 5000,  # past int()'s 4,300-digit limit
    "9999-12-31", "0001-01-01",  # the calendar's two ends
    "x" * 5000,  # long text
    "1:2:x",  # a compound, as item_event's "<id>:<event>"
]
EXAMPLES_PER_ROUTE = 10
DISCOVERY_REQUESTS_PER_ROUTE = 40
PAGES_PER_ENDPOINT = 3  # the crawl opens at most this many URLs of one endpoint
SEEDS_PER_NAME = 4

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    derandomize=True,  # the same requests on every run, so CI is stable
    database=None,  # no .hypothesis folder in the repository
    suppress_health_check=list(HealthCheck),
)


# -- generated values ---------------------------------------------------------------------

OTHER_DIGITS = st.characters(categories=["Nd", "No"]).filter(lambda c: not "0" <= c <= "9")
ATOMS = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=20),
    st.from_regex(r"\A[0-9]{1,30}\Z"),
    st.integers(min_value=-(2 ** 80), max_value=2 ** 80).map(str),
    st.text(OTHER_DIGITS, min_size=1, max_size=4),
    st.dates().map(date.isoformat),
)


def values_for(seeds: list[str], query_names: list[str]) -> st.SearchStrategy[str]:
    """One parameter's value: generated text, compounds of it, or a value a page offers."""
    compound = st.one_of(
        st.tuples(ATOMS, ATOMS).map(":".join),
        st.lists(st.tuples(st.sampled_from(query_names), ATOMS), max_size=3).map(urlencode),
    )
    choices = [ATOMS, compound]
    if seeds:
        choices.append(st.sampled_from(seeds))
    return st.one_of(*choices)


def parameters(names: list[str], seeds: dict[str, list[str]], query_names: list[str]):
    """Some of ``names``, each with one to three values."""
    if not names:
        return st.just([])
    one = st.sampled_from(names).flatmap(lambda name: st.lists(
        values_for(seeds.get(name, []), query_names), min_size=1, max_size=3,
    ).map(lambda values: [(name, value) for value in values]))
    return st.lists(one, max_size=4).map(lambda groups: [pair for g in groups for pair in g])


# -- a Request that remembers which names a view asked for ---------------------------------


class RememberingDict(ImmutableMultiDict):
    """``request.args`` / ``request.form`` that note every name looked up."""

    def _note(self, key):
        vars(self).setdefault("asked", set()).add(key)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # MultiDict's signature
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self._note(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)


class RememberingRequest(PanelRequest):
    """The panel's own request class, remembering the names a view asks for."""

    parameter_storage_class = RememberingDict


# -- the world, the crawl, the discovery -------------------------------------------------


def two_shipment_order(reference: str) -> dict:
    payload = order_payload(order_reference=reference)
    second = copy.deepcopy(payload["shipments"][0])
    second.update(method="Express", items=second["items"][1:])  # the socks, 9.99
    payload["shipments"].append(second)
    payload["payment"]["amount"] += second["price"] + 999
    return payload


@pytest.fixture
def admin(app, as_role, post_order):
    """An admin's client over orders with two shipments, an invoice, a sent email and a
    failed one, a comment, a reclamation, a return, a refund and a refused one, a bulk
    selection with a run, and a shared default view: something behind every link."""
    client = as_role("admin")
    order_ids = [post_order(two_shipment_order(f"W-{n}")).json["id"] for n in range(2)]
    first = order_ids[0]
    with app.app_context():
        item_id = db.session.scalar(sa.select(OrderItem.id).where(OrderItem.order_id == first))
    steps = [
        (f"/sales/documents/invoice/{first}", {}),
        (f"/sales/messages/{first}/email", {"action": "send", "subject": "Hello", "body": "Hi"}),
        (f"/sales/messages/{first}/email", {"action": "send", "subject": "Again", "body": "Hi"}),
        (f"/sales/messages/{first}/comments", {"message": "Called the customer."}),
        (f"/sales/reclamations/new/{first}", {"item": str(item_id), "reason": "Torn."}),
        (f"/sales/orders/{first}/trigger", {"event": "pay"}),
        (f"/sales/refunds/new/{first}", {"item": str(item_id), f"amount-{item_id}": "1.00"}),
        (f"/sales/refunds/new/{first}", {"adjustment": "2.00", "adjustment_reason": "Late."}),
        ("/sales/views/save", {"name": "Team view", "query": "store=DE&sort=email&dir=asc",
                               "shared": "yes", "default": "yes"}),
    ]
    for url, form in steps:
        assert client.post_form(url, form).status_code == 302, url
    with app.app_context():  # the provider refused the second refund: Retry and Discard
        last = db.session.scalar(sa.select(sa.func.max(Refund.id)))
        db.session.get(Refund, last).status = "refused"
        db.session.commit()
    a_return(app, client, first, item_id)
    with app.app_context():  # the second mail failed: View Email then offers Resend
        last = db.session.scalar(sa.select(sa.func.max(OutboundEmail.id)))
        db.session.get(OutboundEmail, last).status = "failed"
        db.session.commit()
    selection = client.post_form("/sales/bulk/select", {"order": [str(i) for i in order_ids]})
    assert selection.status_code == 303
    run = client.post_form(selection.headers["Location"] + "/runs", {"event": "pay"})
    assert run.status_code == 302
    return client


def a_return(app, client, order_id: int, item_id: int) -> None:
    """A return reason, and the item shipped and returned for it, through the pages."""
    assert client.post_form("/administration/return-reasons/new",
                            {"name": "Damaged"}).status_code == 302
    for event in ("pay", "ship"):
        assert client.post_form(f"/sales/orders/{order_id}/trigger",
                                {"event": event}).status_code == 302
    with app.app_context():
        reason_id = db.session.scalar(sa.select(ReturnReason.id))
    response = client.post_form(f"/sales/returns/new/{order_id}",
                                {"item": str(item_id), f"reason-{item_id}": str(reason_id)})
    assert response.status_code == 302, response.get_data(as_text=True)


class PageLinks(HTMLParser):
    """Every link, form (with its fields' names and values) and script of one page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.targets: list[tuple[str, str, dict[str, list[str]]]] = []
        self._form: dict[str, list[str]] | None = None
        self._method = "GET"
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag in ("a", "link") and attrs.get("href"):
            self.targets.append(("GET", attrs["href"], {}))
        elif tag in ("script", "img") and attrs.get("src"):
            self.targets.append(("GET", attrs["src"], {}))
        elif tag == "form":
            self._form = defaultdict(list)
            self._method = attrs.get("method", "get").upper()
            self.targets.append((self._method, attrs.get("action", ""), self._form))
        elif tag == "button" and self._form is not None and attrs.get("formaction"):
            # A button that sends its form elsewhere (a row's own action in a list form).
            self.targets.append((self._method, attrs["formaction"], self._form))
        elif self._form is not None and attrs.get("name") and tag in (
                "input", "button", "textarea", "select"):
            self._form[attrs["name"]].append(attrs.get("value", ""))
            self._select = attrs["name"] if tag == "select" else None
        elif tag == "option" and self._form is not None and self._select:
            self._form[self._select].append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


@dataclass
class Route:
    endpoint: str
    method: str
    rule: str
    arguments: dict[str, str] = field(default_factory=dict)  # a real value for each
    id_arguments: set[str] = field(default_factory=set)
    crawled: bool = False  # a page links to it (else its arguments are borrowed or made up)
    query: set[str] = field(default_factory=set)  # the names its view reads
    form: set[str] = field(default_factory=set)
    # ("query" or "form", name) -> the (query, form) pairs with which the view read it
    contexts: dict[tuple[str, str], tuple[list, list]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method} {self.rule} ({self.endpoint})"

    def path(self, replaced: tuple[str, str] | None = None) -> str:
        """The rule's path with the real arguments, or one of them replaced by any text."""
        values = dict(self.arguments)
        if replaced:
            values[replaced[0]] = replaced[1]
        return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>",
                      lambda m: quote(values[m.group(1)], safe=""), self.rule)


def routes_of(app) -> list[Route]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.partition(".")[0] in EXCLUDED_BLUEPRINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in EXCLUDED:
                ids = set(re.findall(r"<int(?:\([^)]*\))?:([^<>]+)>", rule.rule))
                routes.append(Route(rule.endpoint, method, rule.rule, id_arguments=ids))
    return sorted(routes, key=lambda r: (r.rule, r.method))


def crawl(app, client, starts: list[str]) -> tuple[dict, dict[str, list[str]]]:
    """Follow the panel's links from ``starts``: a real path (as rule arguments) per
    endpoint and method, and the values the pages offer per parameter name."""
    adapter = app.url_map.bind("localhost")
    examples: dict[tuple[str, str], dict[str, str]] = {}
    offered: dict[str, set[str]] = defaultdict(set)
    queue, seen, opened = deque(starts), set(starts), defaultdict(int)
    while queue:
        url = queue.popleft()
        response = client.get(url)
        response.get_data()
        response.close()  # static files stream from an open file
        if response.status_code in (301, 302, 303) and response.location not in seen:
            seen.add(response.location)
            queue.append(response.location)
        if response.mimetype != "text/html":
            continue
        page = PageLinks()
        page.feed(response.get_data(as_text=True))
        for method, target, fields in page.targets:
            parts = urlsplit(urljoin(url, target))
            if parts.netloc not in ("", "localhost"):
                continue
            try:
                endpoint, arguments = adapter.match(parts.path, method=method)
            except (NotFound, MethodNotAllowed, RequestRedirect):
                continue
            examples.setdefault((endpoint, method),
                                {name: str(value) for name, value in arguments.items()})
            for name, value in parse_qsl(parts.query, keep_blank_values=True):
                offered[name].add(value)
            for name, values in fields.items():
                offered[name].update(values)
            query = parts.query
            if method == "GET" and fields:  # a filter or preview form: submit it as offered
                query = urlencode([(name, next((v for v in values if v), ""))
                                   for name, values in fields.items()])
            link = parts.path + (f"?{query}" if query else "")
            if method == "GET" and link not in seen and opened[endpoint] < PAGES_PER_ENDPOINT:
                seen.add(link)
                opened[endpoint] += 1
                queue.append(link)
    return examples, {name: sorted(values)[:SEEDS_PER_NAME] for name, values in offered.items()}


class Sender:
    """Sends the requests of the test as the admin, and keeps the admin an admin: a
    generated Users form may demote or deactivate the very account the test runs as."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        with app.app_context():
            self.admin_id = db.session.scalar(sa.select(User.id).where(User.role == "admin"))

    def send(self, route: Route, path: str, query: list, form: list, remember=False):
        """Send one request; return the response and, when asked to ``remember``, the names
        the view looked up in the query string and in the form."""
        client = self.client.client
        asked = None
        with client:  # keeps the request after the response, to read what it was asked
            if route.method == "GET":
                response = client.get(path, query_string=MultiDict(query))
            else:
                data = MultiDict(form + [(CSRF_FIELD, self.client.csrf_token())])
                response = client.post(path, query_string=MultiDict(query), data=data)
            response.get_data()  # read it all, then let go of any file it streamed from
            response.close()
            if remember:
                asked = {where: set(vars(values).get("asked", ())) for where, values in
                         (("query", flask.request.args), ("form", flask.request.form))}
            flashed = "_flashes" in flask.session
        if flashed:  # shown on no page here: they would pile up in the cookie
            with client.session_transaction() as session:
                session.pop("_flashes", None)
        if route.method != "GET":
            self._restore_admin(response)
        return response, asked

    def _restore_admin(self, response) -> None:
        with self.app.app_context():
            db.session.execute(sa.update(User).where(User.id == self.admin_id).values(
                email="admin@example.org", role="admin", active=True,
                password_hash=password_hash()))
            db.session.commit()
        if response.status_code == 302 and response.location.startswith("/login"):
            self.client.login("admin@example.org", PASSWORD)


def discover(sender: Sender, route: Route, offered: dict[str, list[str]]) -> None:
    """Fill in the query and form names the route's view reads, each with its context."""
    pending: deque[tuple[list, list]] = deque([([], [])])
    for _ in range(DISCOVERY_REQUESTS_PER_ROUTE):
        if not pending:
            return
        query, form = pending.popleft()
        _, asked = sender.send(route, route.path(), query, form, remember=True)
        for where, names in asked.items():
            known = route.query if where == "query" else route.form
            for name in sorted(names - known - {CSRF_FIELD}):
                known.add(name)
                route.contexts[where, name] = (query, form)
                for value in offered.get(name, ["1"]):
                    pair = [(name, value)]
                    pending.append((query + pair, form) if where == "query"
                                   else (query, form + pair))


@pytest.fixture
def panel_routes(app, admin) -> tuple[list[Route], Sender, dict[str, list[str]]]:
    """Every route with a real path and the names its view reads, and the pages' values."""
    routes = routes_of(app)
    # The crawl starts from every page whose path needs no argument (some, like the bulk
    # actions' overview, are in no menu).
    examples, offered = crawl(app, admin, [r.rule for r in routes
                                           if r.method == "GET" and "<" not in r.rule])
    app.request_class = RememberingRequest
    sender = Sender(app, admin)
    seen_arguments: dict[str, str] = {}
    for arguments in examples.values():
        seen_arguments.update(arguments)
    for route in routes:
        route.crawled = (route.endpoint, route.method) in examples
        route.arguments = examples.get((route.endpoint, route.method)) or {
            name: seen_arguments.get(name, "x") for name in re.findall(
                r"<(?:[^<>:]+:)?([^<>]+)>", route.rule)}
    for route in routes:
        discover(sender, route, offered)
        if route.method == "GET":  # a GET carries no form: what it reads there is empty
            route.form.clear()
            route.contexts = {key: value for key, value in route.contexts.items()
                              if key[0] == "query"}
    return routes, sender, offered


# -- the tests ------------------------------------------------------------------------------


def test_discovery_finds_every_route_and_the_parameters_we_know(panel_routes):
    routes, _, _ = panel_routes
    unreached = [r.label for r in routes if r.id_arguments and not r.crawled]
    assert unreached == [], "no page links to these: give the world something they show"
    query_names = set().union(*(r.query for r in routes))
    form_names = set().union(*(r.form for r in routes))
    assert KNOWN_QUERY_NAMES <= query_names, KNOWN_QUERY_NAMES - query_names
    assert KNOWN_FORM_NAMES <= form_names, KNOWN_FORM_NAMES - form_names
    by_label = {(r.endpoint, r.method): r for r in routes}
    assert {"from", "to", "q", "page", "per_page"} <= by_label["orders.export", "GET"].query
    assert {"item_event", "shipment", "event", "item"} <= by_label["orders.trigger", "POST"].form
    assert by_label["orders.trigger", "POST"].contexts["form", "item"][1][0][0] == "shipment"
    assert {"scope", "filter", "order", "action"} <= by_label["bulk.select", "POST"].form
    assert {"id"} <= by_label["users.edit_view", "POST"].query
    assert len(routes) >= 55


def test_hostile_values_in_every_parameter_give_no_server_error(panel_routes):
    routes, sender, _ = panel_routes
    failures = []
    for route in routes:
        tried = [("path", name, value, route.path((name, value)), [], [])
                 for name in sorted(route.arguments) for value in HOSTILE]
        for (where, name), (query, form) in sorted(route.contexts.items()):
            for value in HOSTILE:
                pair = [(name, value)]
                tried.append((where, name, value, route.path(),
                              query + pair if where == "query" else query,
                              form + pair if where == "form" else form))
        # url_for's own words matter by their names: all of them at once, in one request
        tried.append(("query", "url_for's words", "x", route.path(),
                      [(word, "x") for word in URL_FOR_WORDS], []))
        for where, name, value, path, query, form in tried:
            failure = _failure(sender, route, path, query, form)
            if failure:
                failures.append(f"{route.label}: {where} {name}={value[:30]!r}\n{failure}")
                break  # one per route is enough to show
    assert not failures, f"{len(failures)} of {len(routes)} routes:\n\n" + "\n\n".join(failures)


def test_generated_parameters_of_every_route_give_no_server_error(panel_routes):
    routes, sender, offered = panel_routes
    query_names = sorted(set().union(*(r.query for r in routes)) | set(URL_FOR_WORDS))
    failures = []
    for route in routes:
        try:
            fuzz(route, sender, offered, query_names)
        except Exception as exc:  # every route is tried, and all failures shown
            notes = "\n".join(getattr(exc, "__notes__", []))
            failures.append(f"{route.label}: {type(exc).__name__}: {str(exc)[:500]}\n{notes}")
    assert not failures, f"{len(failures)} of {len(routes)} routes:\n\n" + "\n\n".join(failures)


def fuzz(route: Route, sender: Sender, offered: dict[str, list[str]], query_names: list[str]):
    """Send generated requests of one route; raise on the first 5xx or exception."""
    path_arguments = sorted(route.arguments)
    replaced = st.none()
    if path_arguments:
        replaced |= st.tuples(st.sampled_from(path_arguments), values_for([], query_names))

    @FUZZ_SETTINGS
    @given(query=parameters(sorted(route.query | set(URL_FOR_WORDS)), offered, query_names),
           form=parameters(sorted(route.form), offered, query_names),
           replaced=replaced)
    def no_server_error(query, form, replaced):
        failure = _failure(sender, route, route.path(replaced), query, form)
        assert failure is None, failure

    no_server_error()


def _failure(sender: Sender, route: Route, path: str, query: list, form: list) -> str | None:
    """What went wrong with this request (a 5xx, or what it raised), or None."""
    try:
        response, _ = sender.send(route, path, query, form)
    except Exception as exc:  # the report names it and where it was raised
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return (f"  raised {type(exc).__name__}: {str(exc)[:300]}\n"
                f"  at {where.filename}:{where.lineno}")
    if response.status_code >= 500:
        body = " ".join(response.get_data(as_text=True).split())
        return f"  answered {response.status_code}: {body[:300]}"
    return None
