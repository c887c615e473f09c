"""Shared fixtures: a fake Slack Web API server on 127.0.0.1 (see tests/support/fakeslack/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from tests.support.fakeslack import FakeSlack


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running FakeSlack (default limits) with a ``#skyline`` channel the bot is in."""
    with FakeSlack() as fake:
        fake.add_channel("#skyline")
        yield fake
    # A bug inside the fake must not pass for a client behaviour.
    assert fake.server_errors == [], fake.server_errors[0]


@pytest.fixture
def slack_client(fake_slack: FakeSlack) -> WebClient:
    """slack_sdk's real client aimed at ``fake_slack``; never re-sends on its own."""
    return WebClient(
        token=fake_slack.token, base_url=fake_slack.base_url, timeout=5, retry_handlers=[]
    )
