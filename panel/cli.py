"""Flask commands: back-office users, API tokens, order import and demo data."""
from __future__ import annotations

import json
import os
import sys
import time

import click
from flask import Flask
from flask.cli import AppGroup
from pydantic import ValidationError

from panel.oms import sweeps
from panel.services import api_tokens, intake, sessions, users
from panel.services.intake_schema import OrderIn, error_list, nul_character_errors


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_group)
    app.cli.add_command(tokens_group)
    app.cli.add_command(orders_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(oms_group)
    app.cli.add_command(mail_group)
    app.cli.add_command(translations_group)


@click.group("translations", cls=AppGroup, help="Keep the message catalogs in step.")
def translations_group():
    pass


@translations_group.command("update")
@click.option("--from", "parts", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A .po file whose translations fill texts still untranslated.")
def update_translations(parts):
    """Extract the marked texts, update each language's .po and compile its .mo."""
    from pathlib import Path

    from panel import i18n_catalog

    for language, missing in i18n_catalog.update([Path(p) for p in parts]).items():
        where = i18n_catalog.po_path(language).relative_to(i18n_catalog.ROOT)
        click.echo(f"{where}: {missing} text(s) without a translation"
                   if missing else f"{where}: complete")


@translations_group.command("part")
@click.argument("part", type=click.Path(dir_okay=False))
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def translation_part(part, paths):
    """Keep PART (a German .po file) in step with the texts marked in PATHS, to translate
    one area apart; lists what it still lacks. `update --from PART` takes it in."""
    from pathlib import Path

    from panel import i18n_catalog

    missing = i18n_catalog.update_part(Path(part), [Path(p) for p in paths])
    for text in missing:
        click.echo(f"untranslated: {text!r}")
    click.echo(f"{part}: {len(missing)} text(s) without a translation")


@click.group("users", cls=AppGroup, help="Manage back-office users.")
def users_group():
    pass


def _password(given: str | None, prompt: str) -> str:
    """The --password option, else $PANEL_USER_PASSWORD, else typed twice at a prompt."""
    given = given or os.environ.get("PANEL_USER_PASSWORD")
    return given or click.prompt(prompt, hide_input=True, confirmation_prompt=True)


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "agent", "viewer"]))
@click.option("--password", help="Else $PANEL_USER_PASSWORD, else a prompt.")
def create_user(email, name, role, password):
    """Create a back-office user."""
    password = _password(password, "Password")
    try:
        user = users.create_user(email, name, role, password)
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {user.role} {user.email}.")


@users_group.command("set-password")
@click.option("--email", required=True)
@click.option("--password", help="Else $PANEL_USER_PASSWORD, else a prompt.")
def set_password(email, password):
    """Give a user a new password (the password policy applies) and end their sessions."""
    try:
        user = users.find_user(email)
        ended = users.set_password(user, _password(password, "New password"))
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"New password set for {user.email}; {ended} session(s) ended.")


@users_group.command("end-sessions")
@click.option("--email", required=True)
def end_sessions(email):
    """End every session of a user: they must log in again."""
    try:
        user = users.find_user(email)
    except users.UserError as exc:
        raise click.ClickException(str(exc)) from None
    ended = sessions.end_all(user.id, sessions.ENDED_BY_ADMIN)
    click.echo(f"Ended {ended} session(s) of {user.email}.")


@click.group("api-tokens", cls=AppGroup, help="Manage the tokens storefronts use to push orders.")
def tokens_group():
    pass


@tokens_group.command("create")
@click.option("--name", required=True)
def create_token(name):
    """Create a token and print it (it is shown only this once)."""
    try:
        token = api_tokens.create_token(name)
    except api_tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)


@tokens_group.command("revoke")
@click.option("--name", required=True)
def revoke_token(name):
    """Revoke the token with this name; requests with it get 401 from now on."""
    try:
        api_tokens.revoke_token(name)
    except api_tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Revoked the token {name!r}.")


@click.group("orders", cls=AppGroup, help="Bring orders in from files.")
def orders_group():
    pass


def read_records(stream):
    """Yield (line number, record or error text) from a JSON array or JSON lines."""
    text = stream.read()
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(text)
        except ValueError as exc:
            yield exc.lineno if hasattr(exc, "lineno") else 1, f"not valid JSON: {exc}"
            return
        # Find each record's line by where its object starts in the text.
        decoder = json.JSONDecoder()
        pos = text.index("[") + 1
        for record in records:
            while text[pos] in " \t\r\n,":
                pos += 1
            line = text.count("\n", 0, pos) + 1
            _, pos = decoder.raw_decode(text, pos)
            yield line, record
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            yield number, f"not valid JSON: {exc}"


@orders_group.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def import_orders(file):
    """Import orders from FILE (a JSON array or JSON lines), reporting each bad record and
    each stored order whose items could not start."""
    created = existing = failed = not_started = 0
    for line, record in read_records(file):
        if isinstance(record, str):
            failed += 1
            click.echo(f"line {line}: {record}", err=True)
            continue
        try:
            if not isinstance(record, dict):
                raise TypeError("the record must be a JSON object")
            nul = nul_character_errors(record)
            if nul:
                raise TypeError("; ".join(f"{e['path']}: {e['message']}" for e in nul))
            result = intake.receive_order(OrderIn.model_validate(record))
        except ValidationError as exc:
            failed += 1
            reasons = "; ".join(f"{e['path']}: {e['message']}" for e in error_list(exc))
            click.echo(f"line {line}: {reasons}", err=True)
        except (intake.IntakeConflict, TypeError) as exc:
            failed += 1
            click.echo(f"line {line}: {exc}", err=True)
        else:
            if result.created:
                created += 1
            else:
                existing += 1
            if result.start_error:
                not_started += 1
                click.echo(f"line {line}: {result.summary['order_reference']} was stored but "
                           f"did not start: {result.start_error}", err=True)
    started = f" ({not_started} did not start)" if not_started else ""
    click.echo(f"{created} created{started}, {existing} already present, {failed} failed.")
    if failed or not_started:
        sys.exit(1)


@click.group("demo", cls=AppGroup, help="Demo data.")
def demo_group():
    pass


DEMO_EMAIL = "demo@example.org"


@demo_group.command("setup")
@click.option("--orders", "count", default=500, show_default=True, type=click.IntRange(1))
def setup(count):
    """Seed demo orders if there are none, and (re)set the demo admin login; print it."""
    click.echo(f"Demo login: {DEMO_EMAIL} / {_demo_setup(count)}")


def _demo_setup(count: int) -> str:
    """Seed ``count`` demo orders if there are none; (re)set the demo admin with a new
    password and return it."""
    import secrets

    from panel.extensions import db
    from panel.models import Order, User
    from panel.services import demo
    from panel.services.demo_data import MissingFaker

    if db.session.scalar(db.select(Order.id).limit(1)) is None:
        try:
            seeded = demo.seed_orders(count)
        except MissingFaker as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Created {seeded.created:,} demo orders.")
    password = secrets.token_urlsafe(15)  # 20 random characters: meets the password policy
    user = db.session.scalar(db.select(User).where(User.email == DEMO_EMAIL))
    if user is None:
        users.create_user(DEMO_EMAIL, "Demo Admin", "admin", password)
    else:
        user.active = True
        users.set_password(user, password)
    return password


@demo_group.command("run")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Where the web app listens.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="The web app's port.")
@click.option("--smtp-port", default=8025, show_default=True, type=click.IntRange(1, 65535),
              help="The mail catcher's port (on 127.0.0.1).")
@click.option("--mail-dir", type=click.Path(file_okay=False),
              help="Where the catcher keeps mail. [default: instance/mail-catcher]")
@click.option("--orders", "count", default=500, show_default=True, type=click.IntRange(1),
              help="Demo orders to seed into an empty database.")
@click.option("--worker-interval", default=5.0, show_default=True,
              type=click.FloatRange(0.1), help="Seconds between the worker's rounds.")
def run_demo(host, port, smtp_port, mail_dir, count, worker_interval):
    """Run the demo: migrate, seed an empty database, print a login, then start the web
    app, the worker (timeouts, conditions, the outbox) and a mail catcher on loopback, whose
    mail the panel shows under Caught mail. Ctrl+C stops all three."""
    import secrets
    from pathlib import Path

    from flask import current_app
    from flask_migrate import upgrade

    from panel import PROJECT_ROOT
    from panel.demo_run import Child, PortTaken, Supervisor, answers, check_port_free, port_open
    from panel.extensions import db

    config = current_app.config
    if config["PANEL_ENV"] == "production":
        raise click.ClickException(
            "demo run is for development and demos: it starts a mail catcher whose mail the "
            "panel shows, which PANEL_ENV=production refuses. Unset PANEL_ENV.")
    try:
        check_port_free(host, port, "web app", "--port", "PORT")
        check_port_free("127.0.0.1", smtp_port, "mail catcher", "--smtp-port", "SMTP_PORT")
    except PortTaken as exc:
        raise click.ClickException(str(exc)) from None
    mail_dir = Path(mail_dir or Path(current_app.instance_path) / "mail-catcher").absolute()
    database_url = db.engine.url.render_as_string(hide_password=False)
    upgrade()
    password = _demo_setup(count)
    db.session.remove()
    db.engine.dispose()

    env = dict(os.environ, PANEL_DATABASE_URL=database_url, PANEL_MAIL_CATCHER=str(mail_dir),
               MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_port), MAIL_USE_TLS="false",
               MAIL_USE_SSL="false", MAIL_SUPPRESS_SEND="false", PYTHONUNBUFFERED="1")
    for name in ("MAIL_USERNAME", "MAIL_PASSWORD", "FLASK_RUN_CERT", "FLASK_RUN_KEY"):
        env.pop(name, None)
    # The web app's sessions need a key; one for this run spares its warning.
    env.setdefault("PANEL_SECRET_KEY", secrets.token_hex(32))
    env.setdefault("MAIL_DEFAULT_SENDER", "Order Panel demo shop <orders@example.com>")
    python, app = sys.executable, "wsgi"
    supervisor = Supervisor([
        Child("web", [python, "-m", "flask", "--app", app, "run", "--host", host,
                      "--port", str(port), "--no-reload", "--no-debugger", "--with-threads"]),
        Child("worker", [python, "-m", "flask", "--app", app, "oms", "worker", "--quiet",
                         "--interval", str(worker_interval)]),
        Child("mail", [python, "-m", "panel.mail_catcher", "--directory", str(mail_dir),
                       "--host", "127.0.0.1", "--port", str(smtp_port)]),
    ], env=env, cwd=str(PROJECT_ROOT))
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}/"
    supervisor.start()
    try:
        ended = supervisor.wait_until(
            lambda: answers(url + "healthz") and port_open("127.0.0.1", smtp_port))
    except TimeoutError:
        supervisor.say("The demo did not start within its time; stopping it.")
        supervisor.stop()
        raise click.exceptions.Exit(1) from None
    except InterruptedError:
        supervisor.say("Stopping the demo ...")
        supervisor.stop()
        return
    if ended is None:
        supervisor.say("\n".join([
            "",
            f"Order Panel demo: {url}",
            f"  Demo login: {DEMO_EMAIL} / {password}",
            f"  Mail to customers goes to the mail catcher on 127.0.0.1:{smtp_port}; read it "
            f"under Caught mail: {url}mail-catcher/",
            f"  The worker fires timeouts, checks conditions and sends the outbox every "
            f"{worker_interval:g} s.",
            "  Press Ctrl+C to stop all three.",
            "",
        ]))
        ended = supervisor.supervise()
    if ended is not None:
        supervisor.report(ended)
        supervisor.stop()
        raise click.exceptions.Exit(1)
    supervisor.say(f"Stopping the web app, the worker and the mail catcher "
                   f"({supervisor.stop_requested}) ...")
    supervisor.stop()
    supervisor.say("Stopped.")


@demo_group.command("seed")
@click.option("--orders", "count", default=200, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=1, show_default=True, help="Random seed, for repeatable data.")
@click.option("--batch", default=5000, show_default=True, type=click.IntRange(1, 20000),
              help="Orders per transaction.")
def seed(count, seed, batch):
    """Create COUNT realistic orders through the intake service's bulk path, BATCH at a time.

    Shows the progress on standard error: a bar with the rate and the time left on a
    terminal, a plain line every 10 seconds elsewhere. The same SEED gives the same data."""
    from panel.progress import Progress
    from panel.services import demo

    started = time.perf_counter()
    from panel.services.demo_data import MissingFaker

    progress = Progress(count, unit="orders", stream=sys.stderr)
    try:
        seeded = demo.seed_orders(count, seed=seed, batch=batch, progress=progress.update,
                                  note=lambda text: (progress.finish(), click.echo(text, err=True)))
    except (MissingFaker, demo.PlanningFailed) as exc:
        raise click.ClickException(str(exc)) from None
    progress.finish()
    if seeded.restored_indexes:
        click.echo(f"Built {len(seeded.restored_indexes)} indexes that an interrupted seed had "
                   f"left out: {', '.join(seeded.restored_indexes)}.", err=True)
    elapsed = time.perf_counter() - started
    click.echo(f"Created {seeded.created:,} orders in {elapsed:.1f} s "
               f"({seeded.created / max(elapsed, 1e-9):,.0f} orders/s).")
    if seeded.not_started:
        click.echo(f"{len(seeded.not_started):,} of them did not start (see each order's "
                   f"transition log), first: {seeded.not_started[0]}", err=True)


@click.group("oms", cls=AppGroup, help="The order state machine.")
def oms_group():
    pass


@oms_group.command("lint")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
def oms_lint(files, strict):
    """Check the plugins' processes, or the process FILES (Spryker OMS XML) you name,
    against the commands, conditions and timeout processors the plugins register.

    Prints every error (what cannot run) and warning (what runs but is probably a mistake)
    with its file and line. Exits with 1 when there is an error, or with --strict a warning.
    The app itself refuses to start with an error in a process and logs its warnings.
    """
    from panel.oms.lint import lint_file
    from panel.oms.problems import errors_in
    from panel.oms.registry import current_registry

    registry = current_registry()
    registered = {"commands": registry.commands, "conditions": registry.conditions,
                  "timeout_processors": registry.timeout_processors}
    problems = []
    if files:
        for path in files:
            process, found = lint_file(path, **registered)
            _print_checked(path if process is None else f"{path} ({process.name})", found)
            problems += found
        what = f"{len(files)} file(s)"
    else:
        for name, process in sorted(registry.processes.items()):
            supplier = registry.suppliers["process"].get(name, "?")
            found = registry.warnings.get(name, [])
            _print_checked(f"{name}: {len(process.states)} states, {len(process.events)} "
                           f"events, {len(process.transitions)} transitions ({supplier}, "
                           f"{process.source})", found)
            problems += found
        what = f"{len(registry.processes)} process(es)"
    errors = len(errors_in(problems))
    warnings = len(problems) - errors
    click.echo(f"{what}: {errors} error(s), {warnings} warning(s).")
    if errors or (strict and warnings):
        raise click.exceptions.Exit(1)


def _print_checked(title: str, problems) -> None:
    """One line for what was checked, then one line for each of its problems."""
    mark = "FAIL" if any(p.is_error for p in problems) else ("warn" if problems else "ok")
    click.echo(f"{mark:<5} {title}")
    for problem in problems:
        click.echo(f"  {problem.with_level()}")


def _report(kind: str, result) -> None:
    click.echo(f"{kind}: {result.moved} item(s) moved in {result.orders} order(s), "
               f"{len(result.errors)} error(s).")
    for error in result.errors:
        click.echo(f"  error: {error}", err=True)


@oms_group.command("check-timeouts")
@click.option("--limit", type=click.IntRange(1), help="At most this many orders.")
def check_timeouts(limit):
    """Fire the timeout events that are due."""
    _report("check-timeouts", sweeps.check_timeouts(limit=limit))


@oms_group.command("check-conditions")
@click.option("--limit", type=click.IntRange(1), help="At most this many orders per process.")
def check_conditions(limit):
    """Take the event-less transitions whose conditions hold."""
    _report("check-conditions", sweeps.check_conditions(limit=limit))


@oms_group.command("stuck")
@click.option("--process", default="", help="Only items of this process.")
@click.option("--state", default="", help="Only items in this state.")
@click.option("--error", default="", help="Only failed items whose error contains this text.")
@click.option("--reason", type=click.Choice(["failed", "overdue", "waiting"]),
              help="Only items stuck for this reason.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000),
              help="At most this many items, the longest waiting first.")
@click.option("--retry", is_flag=True, help="Retry the items listed.")
def oms_stuck(process, state, error, reason, limit, retry):
    """List the items that will not move by themselves (Administration > Stuck items): their
    last command failed, a timeout is overdue by more than PANEL_SWEEP_INTERVAL, or they
    stayed in a state that is not final longer than PANEL_STUCK_AFTER allows.

    With --retry, retry them as the page does; the transition log names the shell user.
    Exits with 1 when a filter is wrong or a retry failed.
    """
    import getpass
    import socket

    from flask import current_app

    from panel.models.base import utcnow
    from panel.oms.registry import current_registry
    from panel.oms.retry import retry_items
    from panel.services import stuck_items

    registry = current_registry()
    query = stuck_items.StuckQuery(process=process.strip(), state=state.strip(),
                                   error=error.strip(), reason=reason or "")
    problems = query.check(registry)
    if problems:
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        raise click.exceptions.Exit(1)
    finder = stuck_items.Finder(registry, stuck_items.Limits.from_config(current_app.config),
                                utcnow())
    rows = stuck_items.stuck_rows(query, finder, limit)
    for row in rows:
        item = row.item
        why = ", ".join(str(stuck_items.REASONS[r]) for r in row.reasons)
        detail = (row.failure.error_message if row.failure else
                  f'timeout "{row.overdue[0]}" due {row.overdue[1]:%Y-%m-%d %H:%M}'
                  if row.overdue else "")
        click.echo(f"{row.order_reference}\titem #{item.id} {item.sku}\t{item.process_name}"
                   f"\t{item.state_name} since {item.state_entered_at:%Y-%m-%d %H:%M}"
                   f"\t{why}" + (f"\t{' '.join(detail.split())}" if detail else ""))
    more = " (the limit; there may be more)" if len(rows) == limit else ""
    click.echo(f"{len(rows)} stuck item(s){more}.")
    if not retry or not rows:
        return
    actor = f"oms stuck --retry ({getpass.getuser()}@{socket.gethostname()})"[:120]
    report = retry_items([row.item.id for row in rows], actor=actor)
    click.echo(report.message)
    if report.failed:
        raise click.exceptions.Exit(1)


@oms_group.command("worker")
@click.option("--interval", default=60.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds between rounds.")
@click.option("--limit", type=click.IntRange(1), help="At most this many orders per round.")
@click.option("--rounds", type=click.IntRange(1), help="Stop after this many rounds.")
@click.option("--quiet", is_flag=True, help="Print only the rounds that did something.")
def worker(interval, limit, rounds, quiet):
    """Run check-timeouts, check-conditions and send-outbox in a loop (instead of cron).

    SIGTERM (and Ctrl+C) stop it between two steps."""
    import signal
    import threading

    from panel.extensions import db
    from panel.services import outbox

    stop = threading.Event()
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if main else None
    done = 0
    try:
        while (rounds is None or done < rounds) and not stop.is_set():
            for kind, sweep in (("check-timeouts", sweeps.check_timeouts),
                                ("check-conditions", sweeps.check_conditions)):
                if stop.is_set():
                    break
                result = sweep(limit=limit)
                if not quiet or result.moved or result.errors:
                    _report(kind, result)
            if not stop.is_set():
                sent = outbox.send_outbox(limit=limit)
                if not quiet or sent.sent or sent.failed or sent.undeliverable:
                    click.echo(sent.line)
            db.session.remove()
            done += 1
            if rounds is None or done < rounds:
                stop.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


@click.group("mail", cls=AppGroup, help="Mail to customers.")
def mail_group():
    pass


@mail_group.command("send-outbox")
@click.option("--limit", type=click.IntRange(1), help="At most this many messages.")
def send_outbox(limit):
    """Send queued messages and try failed ones whose next try has come, once each.

    Any number of these may run at once, on any number of machines: each message gets one
    try per due period, and each run reports only what it tried itself."""
    from panel.services import outbox

    click.echo(outbox.send_outbox(limit=limit).line)
