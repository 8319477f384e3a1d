"""A plugin that supplies the current b2c demo shop's DummyPayment01 (with its eight
subprocess files) verbatim, in place of the bundled classic one, with a stub for every command,
condition and timeout processor it names. Every condition holds but GiftCard/IsGiftCard, so
an item walks the happy path: grace period, warehouse allocation, payment, tax invoice, review
request, confirmation, picking, export, shipping, delivery, closing."""
from panel import hookimpl
from tests.plugins.spryker_stubs import StubbedProcesses, sample

FILE = sample("spryker-shop_b2c-demo-shop/config/Zed/oms/DummyPayment01.xml")
PLUGIN = StubbedProcesses(FILE, holds={"GiftCard/IsGiftCard": False})


@hookimpl
def register_processes():
    return PLUGIN.register_processes()


@hookimpl
def register_commands():
    return PLUGIN.register_commands()


@hookimpl
def register_conditions():
    return PLUGIN.register_conditions()


@hookimpl
def register_timeout_processors():
    return PLUGIN.register_timeout_processors()
