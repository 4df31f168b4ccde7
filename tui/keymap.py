"""The ids of the app's key bindings: what the config's `keys:` section may rebind."""

from __future__ import annotations

from functools import cache

from textual.binding import Binding


@cache
def binding_ids() -> frozenset[str]:
    """Every binding id of the app, its screens and their widgets."""
    from tui.app import TunebenchApp
    from tui.screens.dataset import DatasetScreen
    from tui.screens.deploy import DeploymentsScreen, DeployScreen
    from tui.screens.job_detail import JobDetailScreen
    from tui.screens.jobs import JobsScreen
    from tui.screens.launch import LaunchScreen
    from tui.screens.playground import PlaygroundScreen
    from tui.widgets.save_example import SaveExampleScreen

    classes = (
        TunebenchApp,
        DatasetScreen,
        DeployScreen,
        DeploymentsScreen,
        JobsScreen,
        JobDetailScreen,
        LaunchScreen,
        PlaygroundScreen,
        SaveExampleScreen,
    )
    return frozenset(
        binding.id
        for cls in classes
        for binding in cls.BINDINGS
        if isinstance(binding, Binding) and binding.id
    )
