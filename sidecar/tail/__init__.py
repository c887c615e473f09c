"""Reading Skyline's log files: live tailing through rotation and rewrites, and backfill."""
