"""The demo: a synthetic world brought through every part of openscore, end to end."""

from openscore.demo.world import DemoWorld, build_world

__all__ = ["DemoWorld", "build_world"]
