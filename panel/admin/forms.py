"""Reading plain HTML forms through the same pydantic schemas that the API uses."""
from __future__ import annotations

from flask_wtf import FlaskForm
from pydantic import BaseModel, ValidationError

from panel.services.intake_schema import describe, format_path


def parse_form(model: type[BaseModel], form, fields: tuple[str, ...]):
    """Validate the named form fields with ``model``.

    Returns ``(instance, {})`` or ``(None, {field: message})``. Empty inputs count as
    absent, so optional fields may be left blank and required ones say "must not be empty".
    """
    data = {}
    for name in fields:
        value = form.get(name, "")
        value = value.strip() if isinstance(value, str) else value
        data[name] = value if value != "" else None
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None}), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors(include_url=False):
            errors.setdefault(format_path(list(err["loc"])), describe(err))
        return None, errors


class AdminForm(FlaskForm):
    """The base of Flask-Admin's model forms: Flask-WTF's CSRF (the app's one scheme), and
    the edited object kept as ``_obj``, which Flask-Admin's Unique validator compares with."""

    def __init__(self, *args, **kwargs):
        self._obj = kwargs.get("obj")
        super().__init__(*args, **kwargs)
