"""Keys several screens bind alike, declared once so they mean the same everywhere."""

from __future__ import annotations

from textual.binding import Binding

BACK = Binding("escape", "back", "Back")  # a screen opened over another: back to that one
THEME = Binding("d", "app.toggle_theme", "Theme")  # the app's theme key, shown in a footer with room for it
