"""The alert's graph image: where Skyline keeps it, and Graphite's render API as the fallback.

Skyline's smtp alerter (run before alert_slack, in another process) writes the graph into the
Ionosphere training data directory (analyzer/alerters.py:2018-2027, mirage/mirage_alerters.py:
2174-2188, 2579-2634):
``<IONOSPHERE_DATA_FOLDER>/<ts>/<metric, dots as slashes>/<metric>.<app>.graphite.<N>h.png``, or
for Mirage ``<metric>.mirage.analysed.downsampled.png`` when ``<metric>.downsampled.json`` is
beside it. Labelled metrics (``labelled_metrics.<id>``) land under ``labelled_metrics/<id>/`` by
the same rule. The planner stores a :class:`GraphSpec` (pure); the deliverer looks the file up
when the action is due (I/O here, at the edge), waiting for it without blocking anything else.
"""

from __future__ import annotations

import glob
import json
import os
import stat
import time
import urllib.error
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from sidecar.slack.render import LABELLED_PREFIX

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the IEND chunk: the last 12 bytes of a whole PNG
#: Slack's file size limit (https://docs.slack.dev/messaging/working-with-files)
SLACK_MAX_FILE_BYTES = 1024**3
#: a Graphite answer is read into memory: a graph is far smaller than this
MAX_FETCH_BYTES = 20 * 1024**2
#: a PNG modified this recently may still be being written (its size not settled)
SETTLE_SECONDS = 1.0


@dataclass(frozen=True)
class GraphSpec:
    """Where an alert's graph may be found; stored with the action as JSON."""

    metric: str
    anomaly_timestamp: int
    app: str
    #: the Ionosphere data folder, None when Ionosphere is off or the folder unknown
    ionosphere_dir: str | None = None
    #: Skyline's Graphite render URL for the graph, None without Graphite (or labelled metrics)
    graphite_url: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> GraphSpec:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Image:
    """A graph ready to upload: a file on disk (``path``) or bytes fetched from Graphite."""

    name: str  # the file name Skyline would upload (the PNG's basename)
    source: str  # the path or the URL, for logs and the dry run
    size: int
    path: Path | None = None
    data: bytes | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


def spec_for(
    metric: str,
    anomaly_timestamp: int,
    app: str,
    *,
    ionosphere_dir: Path | None,
    graphite_url: str | None,
) -> GraphSpec:
    """The graph spec of an alert (pure). ``graphite_url`` is Skyline's graph link
    (``render.alert_graph_url`` / ``render.boundary_graph_url``); labelled metrics have none."""
    if metric.startswith(LABELLED_PREFIX):
        graphite_url = None
    return GraphSpec(
        metric,
        int(anomaly_timestamp),
        app if app in ("analyzer", "mirage", "boundary") else "*",
        str(ionosphere_dir) if ionosphere_dir else None,
        graphite_url,
    )


def training_dir(spec: GraphSpec) -> Path | None:
    """``<folder>/<ts>/<metric dots as slashes>``, never outside the folder."""
    if not spec.ionosphere_dir:
        return None
    root = Path(spec.ionosphere_dir)
    parts = [p for p in spec.metric.replace(".", "/").split("/") if p]
    if not parts:
        return None
    path = root.joinpath(str(spec.anomaly_timestamp), *parts)
    return path if os.path.normpath(path).startswith(os.path.normpath(root) + os.sep) else None


def find_png(spec: GraphSpec, *, now: float | None = None) -> Image | str:
    """The PNG Skyline wrote for this alert, or why there is none (yet)."""
    where = training_dir(spec)
    if where is None:
        return "no Ionosphere data folder (IONOSPHERE_DATA_FOLDER / IONOSPHERE_ENABLED)"
    stem = glob.escape(str(where / spec.metric))
    candidates: list[str] = []
    if spec.app in ("mirage", "*") and os.path.exists(f"{where / spec.metric}.downsampled.json"):
        candidates += glob.glob(f"{stem}.mirage.analysed.downsampled.png")
    if not candidates:
        found = glob.glob(f"{stem}.{spec.app}.graphite.*h.png")
        candidates = sorted(found, key=_mtime, reverse=True)
    if not candidates:
        return f"no graph PNG in {where}"
    return check_png(Path(candidates[0]), now=time.time() if now is None else now)


def check_png(path: Path, *, now: float) -> Image | str:
    """The PNG as an upload, or why it cannot be uploaded (yet): unreadable, over Slack's
    limit, or still being written (modified just now, or not ending in its IEND chunk)."""
    try:
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                return f"{path} is not a regular file"
            if st.st_size > SLACK_MAX_FILE_BYTES:
                return f"{path} is {st.st_size} bytes, over Slack's {SLACK_MAX_FILE_BYTES} limit"
            if now - st.st_mtime < SETTLE_SECONDS:
                return f"{path} is still being written"
            head = f.read(len(PNG_SIGNATURE))
            if st.st_size >= len(PNG_SIGNATURE) + len(PNG_END):
                f.seek(st.st_size - len(PNG_END))
            tail = f.read(len(PNG_END))
    except OSError as exc:
        return f"{path} is unreadable: {exc.strerror or exc}"
    if head != PNG_SIGNATURE:
        return f"{path} is not a PNG"
    if tail != PNG_END:
        return f"{path} is truncated or still being written (no PNG end)"
    return Image(name=path.name, source=str(path), size=st.st_size, path=path)


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def fetch(url: str, name: str, *, timeout: float = 10.0) -> Image | str:
    """GET a graph from Graphite's render API: HTTP 200, an image/png body that is a whole PNG.
    Skyline writes whatever comes back (skyline_functions.py:425-500); an error page is not a
    graph, so it is refused here."""
    req = urllib.request.Request(url, headers={"User-Agent": "skyline-slack-sidecar"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            ctype = resp.headers.get("Content-Type", "")
            if resp.status != 200:
                return f"Graphite answered HTTP {resp.status}"
            if not ctype.startswith("image/png"):
                return f"Graphite answered {ctype or 'no content type'}, not image/png"
            data = resp.read(MAX_FETCH_BYTES + 1)
    except urllib.error.HTTPError as exc:
        return f"Graphite answered HTTP {exc.code}"
    except (OSError, ValueError) as exc:  # URLError, timeouts, resets, bad URLs
        return f"Graphite unreachable: {getattr(exc, 'reason', None) or exc}"
    if len(data) > MAX_FETCH_BYTES:
        return f"Graphite's answer is over {MAX_FETCH_BYTES} bytes"
    if not (data.startswith(PNG_SIGNATURE) and data.endswith(PNG_END)):
        return "Graphite's answer is not a whole PNG"
    return Image(name=name, source=url, size=len(data), data=data)


class Fetcher:
    """Graphite fetches off the delivery loop: ``get`` starts one and answers None until its
    result is in (the action waits meanwhile, nothing else does). A result serves every channel
    of the alert: it is kept ``keep`` seconds."""

    def __init__(self, *, timeout: float = 10.0, workers: int = 2, keep: float = 120.0):
        self._timeout = timeout
        self._workers = workers
        self._keep = keep
        self._pool: ThreadPoolExecutor | None = None
        self._jobs: dict[str, tuple[Future[Image | str], float]] = {}

    def get(self, url: str, name: str) -> Image | str | None:
        now = time.monotonic()
        for old in [
            u for u, (job, at) in self._jobs.items() if job.done() and now - at > self._keep
        ]:
            del self._jobs[old]
        if url not in self._jobs:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="graphite")
            self._jobs[url] = (self._pool.submit(fetch, url, name, timeout=self._timeout), now)
            return None
        job, _ = self._jobs[url]
        return job.result() if job.done() else None


class DescribingFetcher:
    """The dry run's: names the URL it would fetch, fetches nothing."""

    def get(self, url: str, name: str) -> Image | str | None:
        return Image(name=name, source=url, size=0, data=b"")


def graphite_name(spec: GraphSpec) -> str:
    """The file name for a graph fetched from Graphite (Skyline's tmp-file name)."""
    app = "graph" if spec.app == "*" else spec.app
    return f"{spec.metric}.{app}.graphite.png"
