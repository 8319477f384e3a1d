"""The order state machine: process definitions, the XML loader, the linter, the engine."""
