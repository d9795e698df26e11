"""Run folder names: a kind's readable prefix and a digest of the settings that differ from their defaults."""

from __future__ import annotations

import dataclasses
import hashlib
import json

# Version of the naming rule; bump it when the rule changes (and migrate: `lte migrate-names`).
NAME_SCHEMA = 2


def field_defaults(config_class) -> dict:
    """Each field's declared default (None where a field has none)."""
    return {
        f.name: (f.default if f.default is not dataclasses.MISSING else None) for f in dataclasses.fields(config_class)
    }


def naming_defaults(config_class) -> dict:
    """The defaults a kind's run names are made against: each field's declared default, but where a default
    has changed since records were named, the old one (the class's NAMING_DEFAULTS), so that no run is renamed."""
    return {**field_defaults(config_class), **getattr(config_class, "NAMING_DEFAULTS", {})}


def config_digest(config_json: dict, defaults: dict) -> str:
    """Six hex digits of the settings that differ from their declared defaults, with the naming schema: run
    folders of different configs never share a name, and adding a field (with a default) renames none."""
    changed = {key: value for key, value in config_json.items() if key not in defaults or defaults[key] != value}
    text = json.dumps({"name_schema": NAME_SCHEMA, **changed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:6]
