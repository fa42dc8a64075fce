"""Run every async test of the rpc package on both the stdlib loop and uvloop: the bot runs on
uvloop, whose transports differ in details (e.g. they do not subclass asyncio.Transport)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest
import uvloop


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
