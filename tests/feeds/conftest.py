from __future__ import annotations

import os
from pathlib import Path

import pytest

# Fixtures live next to the repo (../shared/fixtures), never copied into it.
FIXTURES = Path(os.environ["SOLARB_FIXTURES"])


@pytest.fixture
def fixture_bytes():
    def load(name: str) -> bytes:
        return (FIXTURES / name).read_bytes()

    return load
