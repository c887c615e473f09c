"""Running as a service: the daemon loop, sd_notify, logging, the lock, health and metrics."""
