"""A command-palette provider listing a screen's own key bindings as commands."""

from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider


class ScreenBindingCommands(Provider):
    """Every `Binding` a screen declares (with a tooltip or description), as a command.

    Put it in the screen's `COMMANDS`; disabled actions (check_action False) are left out.
    """

    def _commands(self) -> list[tuple[str, str, str]]:
        screen = self.screen
        title = getattr(screen, "TITLE", "") or type(screen).__name__
        seen: set[str] = set()
        commands = []
        for binding in type(screen).BINDINGS:
            if not isinstance(binding, Binding) or binding.action in seen:
                continue
            seen.add(binding.action)
            name = binding.tooltip or binding.description
            if not name or screen.check_action(binding.action.split("(")[0], ()) is False:
                continue
            key = screen.app.get_key_display(binding)
            commands.append((f"{title}: {name}", binding.action, f"key: {key}"))
        return commands

    async def discover(self) -> Hits:
        for name, action, help_text in self._commands():
            yield DiscoveryHit(name, partial(self.screen.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(self.screen.run_action, action),
                    help=help_text,
                )
