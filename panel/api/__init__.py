"""The JSON API through which storefronts push orders."""
from panel.api.orders import api

__all__ = ["api"]
