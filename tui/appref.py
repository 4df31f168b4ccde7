"""Typed access to the running TunebenchApp from a screen or widget.

`node.app` is typed as a plain Textual App; screens need the app's own attributes (the
settings, the workspace, the error reporter). tui.app imports the screens, so the screens
import the app class only when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.dom import DOMNode

if TYPE_CHECKING:
    from tui.app import TunebenchApp


def tunebench_app(node: DOMNode) -> TunebenchApp:
    """The TunebenchApp `node` runs in."""
    from tui.app import TunebenchApp

    app = node.app
    if not isinstance(app, TunebenchApp):
        raise TypeError(f"{type(node).__name__} runs outside TunebenchApp ({type(app).__name__})")
    return app
