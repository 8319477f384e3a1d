"""A plugin whose process loads and runs but earns lint warnings: a transition with two
<target> and two <event> (Spryker takes the first of each), an event no transition carries and
a state that cannot be reached."""
from pathlib import Path

from panel import hookimpl

PROCESS = Path(__file__).resolve().parent.parent / "oms_fixtures" / "lenient" / "two_targets.xml"


@hookimpl
def register_processes():
    return [PROCESS]
