"""Badge files against shields.io's endpoint schema (an independent JSON Schema, not our model)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scholar_fixtures import make_profile
from statsbot.badges import Badge, count_badge
from statsbot.config import parse_config
from statsbot.runner import run

SCHEMA = json.loads((Path(__file__).parent / "shields_endpoint.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_the_schema_itself_rejects_what_shields_rejects():
    # guards the transcription: each of these is refused by shields
    bad = [
        {"schemaVersion": 1, "label": "x", "message": "1", "extra": True},
        {"schemaVersion": 2, "label": "x", "message": "1"},
        {"schemaVersion": 1, "label": "x", "message": ""},
        {"schemaVersion": 1, "label": "x", "message": "1", "namedLogo": "a", "logoSvg": "<svg/>"},
        {"schemaVersion": 1, "label": "x", "message": "1", "logoColor": "red"},
        {"schemaVersion": 1, "label": "x", "message": "1", "logoWidth": 10},
        {"schemaVersion": 1, "label": "x", "message": "1", "cacheSeconds": -1},
        {"schemaVersion": 1, "message": "1"},
    ]
    for badge in bad:
        assert not VALIDATOR.is_valid(badge), badge
    assert VALIDATOR.is_valid({"schemaVersion": 1, "label": "", "message": "1"})


def test_every_badge_file_a_run_writes_passes_the_endpoint_schema(scholar_site, github_api, hub_api, openalex_api, s2_api, tmp_path):
    uid = "TestUser01AJ"
    scholar_site.add(make_profile(120, uid))
    github_api.add_repo("alice/tool", 1234, 5)
    hub_api.add("models", "lab/m", 5000, 40, 80_000)
    openalex_api.add("A5023888391", "Zoë", works=[5, 0, 12], h_index=2, i10_index=1)
    s2_api.add_author("1741101", "Zoë", citations=17, h_index=2, papers=4)
    document = {
        "scholar": {"id": uid, "base_url": scholar_site.url, "page_delay_seconds": 0.0},
        "github": {"api_url": github_api.url, "repos": ["alice/tool"]},
        "huggingface": {"endpoint": hub_api.url, "models": ["lab/m"]},
        "openalex": {"endpoint": openalex_api.url, "authors": ["A5023888391"]},
        "semanticscholar": {"endpoint": s2_api.url, "authors": ["1741101"]},
        "output": {"dir": str(tmp_path)},
    }
    run(parse_config(document, path=None, env={}), env={})
    badge_files = sorted((tmp_path / "badges").rglob("*.json")) + [tmp_path / "gs_data_shieldsio.json"]
    # Scholar 3 + 120 papers; GitHub 2 + the total; the Hub 3; OpenAlex 4 + 3 works; Semantic Scholar 2 + 4 papers;
    # the page's citations; AcadHomepage's badge
    assert len(badge_files) == (3 + 120) + 3 + 3 + (4 + 3) + (2 + 4) + 1 + 1
    for path in badge_files:
        data = json.loads(path.read_text(encoding="utf-8"))
        errors = [e.message for e in VALIDATOR.iter_errors(data)]
        assert errors == [], f"{path}: {errors}"


@pytest.mark.parametrize(
    "fields",
    [
        {"label": "x", "message": ""},
        {"label": "x", "message": "1", "unknown": "key"},
        {"label": "x", "message": "1", "namedLogo": "github", "logoSvg": "<svg/>"},
        {"label": "x", "message": "1", "logoColor": "red"},
        {"label": "x", "message": "1", "logoWidth": 12},
        {"label": "x", "message": "1", "cacheSeconds": -5},
        {"label": "x", "message": "1", "schemaVersion": 2},
        {"label": "x", "message": 1},
    ],
)
def test_the_badge_model_refuses_what_shields_refuses(fields):
    with pytest.raises(ValidationError):
        Badge(**fields)


@settings(max_examples=200, deadline=None)
@given(label=st.text(max_size=40), value=st.integers(min_value=0, max_value=10**12), logo=st.none() | st.text(min_size=1, max_size=20))
def test_count_badges_are_always_valid(label, value, logo):
    badge = count_badge(label, value, logo=logo).to_json()
    assert VALIDATOR.is_valid(badge), badge
    assert badge["message"] == str(value)
    assert badge["label"] == label


def test_github_and_hugging_face_badges_pass_the_endpoint_schema(github_api, hub_api, tmp_path):
    from statsbot.config import parse_config

    github_api.add_repo("alice/a", 1_234_567, 89)
    github_api.add_repo("alice/b", 0, 0)
    hub_api.add("models", "lab/m", 999_500, 3, 10**9)
    hub_api.add("datasets", "lab/d", 0, 0, 0)
    loaded = parse_config(
        {
            "github": {"api_url": github_api.url, "repos": ["alice/b"], "users": ["alice"]},
            "huggingface": {"endpoint": hub_api.url, "models": ["lab/m"], "datasets": ["lab/d"]},
            "output": {"dir": str(tmp_path)},
        },
        path=None,
        env={},
    )
    run(loaded, env={})
    files = sorted((tmp_path / "badges").rglob("*.json"))
    assert len(files) == 2 * 2 + 2 + 3 + 3  # repo badges, two totals, model, dataset
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert VALIDATOR.is_valid(data), (path, [e.message for e in VALIDATOR.iter_errors(data)])
        assert data["namedLogo"] in ("github", "huggingface")


@settings(max_examples=200, deadline=None)
@given(label=st.text(max_size=30), value=st.integers(min_value=0, max_value=10**15), logo=st.sampled_from([None, "github", "huggingface"]))
def test_short_count_badges_are_always_valid(label, value, logo):
    from statsbot.badges import format_count

    badge = count_badge(label, value, logo=logo, short=True).to_json()
    assert VALIDATOR.is_valid(badge), badge
    assert badge["message"] == format_count(value)


badge_fields = st.fixed_dictionaries(
    {},
    optional={
        "schemaVersion": st.sampled_from([1, 2, "1"]),
        "label": st.text(max_size=5) | st.integers(),
        "message": st.text(max_size=5),
        "color": st.text(max_size=5),
        "labelColor": st.text(max_size=5),
        "isError": st.booleans() | st.just("yes"),
        "namedLogo": st.text(max_size=5),
        "logoSvg": st.text(max_size=5),
        "logoColor": st.text(max_size=5),
        "logoWidth": st.integers(-5, 50),
        "style": st.text(max_size=5),
        "cacheSeconds": st.integers(-10, 10_000),
        "unknown": st.text(max_size=3),
    },
)


@settings(max_examples=500, deadline=None)
@given(badge_fields)
def test_the_badge_model_never_lets_an_invalid_badge_through(fields):
    try:
        badge = Badge.model_validate(fields)
    except ValidationError:
        return
    assert VALIDATOR.is_valid(badge.to_json()), (fields, badge.to_json())
