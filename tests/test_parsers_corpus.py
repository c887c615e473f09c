"""The fixture corpus: up to date with its generator, and parsed to exactly expected.jsonl."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sidecar.cli import main
from tests.corpus import make_corpus

CORPUS = Path(__file__).parent / "corpus"
VERSIONS = ("v1", "v2", "v3", "v4", "v5")


def test_corpus_files_are_what_the_generator_makes() -> None:
    files = make_corpus.corpus()
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("v*/*")}
    assert set(files) == on_disk, "run: .venv/bin/python -m tests.corpus.make_corpus"
    stale = [rel for rel, content in files.items() if (CORPUS / rel).read_bytes() != content]
    assert not stale, f"stale {stale}; run: .venv/bin/python -m tests.corpus.make_corpus"


def test_every_event_kind_in_every_version() -> None:
    kinds = {
        "anomaly_alert",
        "slack_thread",
        "training_data_viewed",
        "features_profile_created",
        "features_profile_learnt",
        "features_profile_disabled",
        "features_profiles_validated",
        "boundary_alert",
    }
    for version in VERSIONS:
        text = (CORPUS / version / "expected.jsonl").read_text()
        assert all(f'"kind": "{kind}"' in text for kind in kinds), version


@pytest.mark.parametrize("version", VERSIONS)
def test_parse_prints_exactly_the_expected_events(version: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(CORPUS / version)  # sources in expected.jsonl are bare file names
    result = CliRunner().invoke(
        main,
        [
            "parse",
            "--format",
            "json",
            "analyzer.log",
            "mirage.log",
            "webapp.log",
            "ionosphere.log",
            "boundary.log",
        ],
    )
    assert result.exit_code == 0, result.output
    expected = (CORPUS / version / "expected.jsonl").read_text()
    assert result.stdout == expected
