"""Sections that other features add to a guide page (办事指南), through this one extension point:
the catalog knows a section by its template and the function that loads what it shows, and the
guide's view calls those functions (templates call no services)."""

from collections.abc import Callable

from flask import Flask, current_app

KEY = "palm.guide_sections"


def add_guide_section(app: Flask, template: str, load: Callable) -> None:
    """Show `template` on every guide, with `data` = load(item)."""
    app.extensions.setdefault(KEY, []).append((template, load))


def guide_sections(item) -> list[tuple[str, object]]:
    return [(template, load(item)) for template, load in current_app.extensions.get(KEY, [])]
