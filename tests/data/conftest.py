"""Fixtures for axon.data tests: every test sees its own AXON_DATA_DIR, never ~/.cache/axon."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def session_data_dir(tmp_path_factory):
    """One data directory for the whole session, so generated data (mnist1d) is made once."""
    return tmp_path_factory.mktemp("axon_data")


@pytest.fixture(autouse=True)
def data_dir(session_data_dir, monkeypatch):
    monkeypatch.setenv("AXON_DATA_DIR", str(session_data_dir))
    return session_data_dir
