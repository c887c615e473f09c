"""skyline-slack-sidecar: Slack for Skyline, driven by Skyline's own logs."""

__version__ = "0.1.0"
