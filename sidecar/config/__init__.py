"""Configuration: the TOML file layered over Skyline's own settings.py, and Skyline's time zone."""
