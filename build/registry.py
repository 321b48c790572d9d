"""One way to fill a registry (readers by file suffix, renderers by output kind):
a decorator that files the decorated function under a key and returns it unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def register(key: str, registry: dict[str, F]) -> Callable[[F], F]:
    """`@register(key, REGISTRY)`: `REGISTRY[key] = function`; a later registration replaces an earlier one."""

    def file_under(function: F) -> F:
        registry[key] = function
        return function

    return file_under
