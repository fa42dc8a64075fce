"""Fixtures for the detector tests."""

from __future__ import annotations

import pytest
from detector_market import build_market


@pytest.fixture(scope="session")
def make_market():
    return build_market
