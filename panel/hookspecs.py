"""Every hook a plugin may implement. Hooks are called with keyword arguments only.

``register_*`` hooks collect: each plugin returns a list or a mapping, and the host merges
them (a project plugin's entry wins over a bundled one of the same name). ``select_*`` hooks
and ``refund_payment`` decide: the first plugin that returns something other than None wins.
The rest notify, after the database transaction has been committed. Every hook is called
through pluggy, so a ``wrapper=True`` implementation may wrap any of them (docs/plugins.md
says how each is called, and which are read once at start-up).
"""
import pluggy

hookspec = pluggy.HookspecMarker("panel")


@hookspec
def register_processes():
    """Return state-machine processes: ``Process`` objects or paths of Spryker OMS XML files."""


@hookspec
def register_commands():
    """Return ``{"Module/Name": callable}``: the commands that events run.

    A command is called as ``command(order=order, items=items, event=event, actor=actor)``
    once per group of items of one order in one state; decorate it with
    ``panel.oms.engine.by_item`` to have it called once per item (``items`` of one).
    A command that also takes ``after_commit`` gets the run's list of after-commit work:
    append a callable to have it called once the transition is committed.
    Raising an exception undoes the transition and shows its message to the user.
    """


@hookspec
def register_conditions():
    """Return ``{"Module/Name": callable}``: ``condition(item=item) -> bool`` guards."""


@hookspec
def register_timeout_processors():
    """Return ``{"Module/Name": callable}``: ``processor(item=item, event=event, now=now)``
    returns the datetime at which a timeout event fires, instead of the event's timeout."""


@hookspec
def register_claim_rules():
    """Return rules that decide which items may be claimed: ``rule(order=, item=, now=)``
    returns None when the item may be claimed, or a reason a person can read. A rule marked
    ``panel.services.reclamations.by_order`` is called once per order instead, as
    ``rule(order=, items=, now=)``, and returns ``{item id: reason}`` for the items it
    refuses."""


@hookspec
def register_return_rules():
    """Return rules that decide which items may be returned, besides the process (an item is
    returnable when its state takes the process's return event) and open returns (an item is
    in one at most): ``rule(order=, item=, now=)`` returns None when the item may be
    returned, or a reason a person can read. A rule marked ``panel.services.returns.by_order``
    is called once per order instead, as ``rule(order=, items=, now=)``, and returns
    ``{item id: reason}`` for the items it refuses."""


@hookspec
def register_email_templates():
    """Return ``EmailTemplate`` objects (``panel.services.email_templates``): Jinja text for
    a subject and a body, rendered in a sandbox with ``order`` and ``sender``, in the order's
    language (each text a str, ``{language: text}``, or lazy text marked with ``_l``). A
    template with the name of a bundled one replaces it."""


@hookspec
def register_document_templates():
    """Return ``DocumentTemplate`` objects (``panel.services.document_templates``): the
    Jinja text of the HTML page of a kind of document ("invoice", "credit_note"), rendered
    in a sandbox with ``document``, and made into its PDF. A template of a kind that a
    bundled one has replaces it."""


@hookspec
def register_event_roles():
    """Return ``{event name: role}`` for manual events that need more than the agent role,
    e.g. ``{"refund": "admin"}``. The role is the least one that may trigger the event by
    hand ("agent" or "admin"); when plugins disagree, the stricter role holds."""


@hookspec
def register_order_columns():
    """Return ``OrderColumn`` objects (``panel.services.order_columns``) for the orders list:
    a key, a label, ``values(orders)`` returning ``{order id: value}`` for a whole page of
    orders (one call per page: no query per row), and whether it is shown by default
    (``shown``). Users show, hide and order the columns per list and saved view."""


@hookspec(firstresult=True)
def select_process(order):
    """Return the process name for a new order (the validated ``OrderIn``), or None."""


@hookspec
def items_transitioned(order_id, event, transitions, actor):
    """Called after commit when items moved: ``transitions`` is a list of
    ``(item_id, source_state, target_state)``; ``actor`` says who did it."""


# -- refunds -----------------------------------------------------------------------------

@hookspec(firstresult=True)
def select_refundable_amounts(order, held, item_ids):
    """Return a ``panel.services.refund_amounts.Refundable`` for ``order``: what may still be
    refunded of each item, and of each shipment's shipping in a refund of the items
    ``item_ids``; ``held`` (``Held``) says what earlier refunds took. None: the next plugin
    decides. The panel never refunds more than was paid less what is held, whatever the
    answer."""


@hookspec(firstresult=True)
def refund_payment(refund):
    """Carry ``refund`` (a saved ``panel.models.Refund``) out with the payment provider of its
    ``payment_method``: return the provider's reference, or raise an exception whose message
    is the provider's refusal. None: the next plugin decides."""
