"""The outputs did not change: the demo and a two-day run over every source, file by file,
against the manifests in tests/golden/ (written by the code before the sources moved onto
one interface; see tests/golden_scenario.py for what is compared and how to renew them)."""

from __future__ import annotations

import json

import pytest

from golden_scenario import GOLDEN, manifest, run_demo, run_every_source


@pytest.mark.parametrize(("name", "scenario"), [("demo", run_demo), ("every-source", run_every_source)])
def test_outputs_match_the_golden_manifest(name, scenario, tmp_path):
    scenario(tmp_path)
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    got = manifest(tmp_path)
    assert sorted(got) == sorted(expected)  # the same files
    assert [path for path in expected if got[path] != expected[path]] == []  # with the same bytes
