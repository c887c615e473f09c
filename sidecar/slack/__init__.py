"""Talking to Slack: planning and rendering what to post (pure), delivering it (the outbox)."""
