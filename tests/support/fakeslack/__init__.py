"""A fake Slack Web API server for tests (see fake.py for the behaviours it chooses)."""

from tests.support.fakeslack.fake import FakeSlack
from tests.support.fakeslack.state import (
    BOT_ID,
    BOT_USER_ID,
    SLACK_TIERS,
    Call,
    ManualClock,
    Message,
)

__all__ = ["BOT_ID", "BOT_USER_ID", "SLACK_TIERS", "Call", "FakeSlack", "ManualClock", "Message"]
