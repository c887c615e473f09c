"""Which files in the log directory are the followed apps' live and rotated logs."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from sidecar.tail.names import followed_app

__all__ = ["Found", "Problem", "reason", "scan"]

#: (key, message): a problem to report once, until it clears
Problem = Callable[[str, str], None]


class Found(NamedTuple):
    path: Path
    app: str
    stat: os.stat_result


def reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def scan(
    log_dir: Path, apps: Sequence[str], problem: Problem
) -> dict[tuple[int, int], Found] | None:
    """The followed files by (dev, inode); None when the directory cannot be listed. Entries
    that cannot be stat'ed or are no regular files are reported and left out."""
    try:
        entries = list(os.scandir(log_dir))
    except FileNotFoundError:
        problem("dir", f"log directory {log_dir} does not exist: waiting for it")
        return None
    except OSError as exc:
        problem("dir", f"cannot list log directory {log_dir}: {reason(exc)}")
        return None
    found: dict[tuple[int, int], Found] = {}
    for entry in entries:
        app = followed_app(entry.name, apps)
        if app is None:
            continue
        path = Path(entry.path)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue  # renamed or removed since listed: the next scan sees it
        except OSError as exc:
            problem(f"stat:{path}", f"cannot stat {path}: {reason(exc)}")
            continue
        if not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            problem(f"kind:{path}", f"{path} is {kind}, not a log file: skipped")
            continue
        found[(st.st_dev, st.st_ino)] = Found(path, app, st)
    return found
