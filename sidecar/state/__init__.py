"""The SQLite state database: file offsets, events, threads, the registry, the outbox."""
