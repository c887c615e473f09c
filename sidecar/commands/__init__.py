"""The sub-commands of ``skyline-sidecar``, one module each."""
