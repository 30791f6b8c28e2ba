"""statsbot.toml: discovery, validation, and errors that name the file, the key and the problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_statsbot, write_config
from hypothesis import given, settings
from hypothesis import strategies as st

from statsbot.config import load_config, parse_config
from statsbot.errors import ConfigError
from statsbot.sources.scholar.config import validate_scholar_id

GOOD_ID = "DhtAFkwAAAAJ"


def error_of(tmp_path: Path, text: str) -> str:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


def test_defaults(tmp_path):
    loaded = load_config(write_config(tmp_path, f'[scholar]\nid = "{GOOD_ID}"\n'), env={})
    scholar = loaded.config.scholar
    assert scholar.id == GOOD_ID
    assert scholar.base_url == "https://scholar.google.com"
    assert scholar.deadline_seconds == 120
    assert loaded.output_dir == (tmp_path / "output").resolve()


def test_unknown_key_is_named_with_the_allowed_ones(tmp_path):
    message = error_of(tmp_path, f'[scholar]\nid = "{GOOD_ID}"\ntimeout = 5\n')
    assert "scholar.timeout: unknown key (allowed: base_url, deadline_seconds, fetchers, id, " in message


def test_unknown_section_is_named(tmp_path):
    assert "scolar: unknown key (allowed: charts, github, huggingface, openalex, output, people, publish, run, scholar, semanticscholar)" in error_of(tmp_path, '[scolar]\nid = "x"\n')


def test_bad_scholar_id_is_named_before_any_request(tmp_path):
    # (a whole profile URL is accepted since issue 9: tests/test_first_runs.py; half of one is not)
    message = error_of(tmp_path, '[scholar]\nid = "user=DhtAFkwAAAAJ"\n')
    assert "scholar.id: must be a Google Scholar user id: 12 characters" in message


def test_wrong_types_and_ranges(tmp_path):
    message = error_of(tmp_path, f'[scholar]\nid = "{GOOD_ID}"\ntimeout_seconds = "10"\ndeadline_seconds = -1\n')
    assert "scholar.timeout_seconds: must be a valid number (got '10')" in message
    assert "scholar.deadline_seconds: must be greater than 0 (got -1)" in message


def test_bad_base_url(tmp_path):
    message = error_of(tmp_path, f'[scholar]\nid = "{GOOD_ID}"\nbase_url = "scholar.google.com"\n')
    assert "scholar.base_url: must be an http(s) URL" in message


def test_section_that_is_not_a_table(tmp_path):
    assert "output: must be a table" in error_of(tmp_path, 'output = "out"\n')


def test_invalid_toml_names_the_file_and_position(tmp_path):
    message = error_of(tmp_path, "[scholar]\nid = \n")
    assert "not valid TOML" in message and "line 2" in message


def test_missing_id_says_where_it_can_come_from(tmp_path):
    assert "scholar.id: missing (set it here or in $GOOGLE_SCHOLAR_ID)" in error_of(tmp_path, "[scholar]\n")


def test_scholar_id_from_the_environment(tmp_path):
    loaded = load_config(write_config(tmp_path, "[scholar]\nretries = 1\n"), env={"GOOGLE_SCHOLAR_ID": GOOD_ID})
    assert loaded.config.scholar.id == GOOD_ID and loaded.config.scholar.retries == 1
    # with no file at all, the variable alone configures a profile
    assert parse_config({}, path=None, env={"GOOGLE_SCHOLAR_ID": GOOD_ID}).config.scholar.id == GOOD_ID


def test_config_file_id_wins_over_the_environment(tmp_path):
    loaded = load_config(write_config(tmp_path, f'[scholar]\nid = "{GOOD_ID}"\n'), env={"GOOGLE_SCHOLAR_ID": "OtherIdAAAAJ"})
    assert loaded.config.scholar.id == GOOD_ID


def test_bad_id_in_the_environment_names_the_variable():
    with pytest.raises(ConfigError, match=r"^config: \$GOOGLE_SCHOLAR_ID: must be a Google Scholar user id"):
        parse_config({}, path=None, env={"GOOGLE_SCHOLAR_ID": "not an id"})


def test_discovery_order(tmp_path, monkeypatch):
    explicit = write_config(tmp_path, '[output]\ndir = "explicit"\n')
    via_env = tmp_path / "env.toml"
    via_env.write_text('[output]\ndir = "via-env"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_config(explicit, env={"STATSBOT_CONFIG": str(via_env)}).config.output.dir == "explicit"
    assert load_config(None, env={"STATSBOT_CONFIG": str(via_env)}).config.output.dir == "via-env"
    assert load_config(None, env={}).config.output.dir == "explicit"  # ./statsbot.toml
    (tmp_path / "statsbot.toml").unlink()
    assert load_config(None, env={}).path is None


def test_missing_files_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="nope.toml: config file not found \\(given with --config\\)"):
        load_config(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match=r"config file not found \(named by \$STATSBOT_CONFIG\)"):
        load_config(None, env={"STATSBOT_CONFIG": str(tmp_path / "gone.toml")})


def test_output_dir_is_relative_to_the_config_file(tmp_path):
    sub = tmp_path / "site"
    sub.mkdir()
    loaded = load_config(write_config(sub, '[output]\ndir = "data"\n'), env={})
    assert loaded.output_dir == (sub / "data").resolve()


def test_cli_config_error_is_one_line_exit_2_no_traceback(tmp_path):
    write_config(tmp_path, '[scholar]\nid = "short"\n')
    result = run_statsbot("check", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "statsbot.toml: scholar.id: must be a Google Scholar user id" in result.stderr
    assert "Traceback" not in result.stderr


@given(st.text(max_size=30))
def test_scholar_id_validation_matches_its_definition(value):
    valid = re.fullmatch(r"[A-Za-z0-9_-]{12}", value) is not None
    if valid:
        assert validate_scholar_id(value) == value
    else:
        with pytest.raises(ValueError):
            validate_scholar_id(value)


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
sections = st.dictionaries(
    st.sampled_from(["id", "base_url", "timeout_seconds", "deadline_seconds", "retries", "dir"]) | st.text(max_size=8),
    toml_values | st.just(GOOD_ID),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["scholar", "output"]) | st.text(max_size=8), sections | toml_values, max_size=3))
def test_any_document_gives_a_config_or_a_one_line_error(document):
    try:
        loaded = parse_config(document, path=Path("statsbot.toml"), env={})
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("statsbot.toml: ") and "\n" not in message
    else:
        if loaded.config.scholar is not None:
            assert validate_scholar_id(loaded.config.scholar.id)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=50))
def test_repository_names_are_valid_exactly_when_safe(value):
    from statsbot.outputs import safe_relpath
    from statsbot.sources.github import validate_github_repo
    from statsbot.sources.huggingface import validate_hf_repo

    owner_ok = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
    name_ok = re.compile(r"[A-Za-z0-9._-]{1,100}")
    owner, slash, name = value.partition("/")
    valid = bool(slash) and bool(owner_ok.fullmatch(owner)) and bool(name_ok.fullmatch(name)) and name not in (".", "..")
    try:
        validate_github_repo(value)
    except ValueError:
        assert not valid
    else:
        assert valid
        assert safe_relpath(f"badges/github/{value}/stars.json")
    try:
        validate_hf_repo(value)
    except ValueError:
        pass
    else:
        assert safe_relpath(f"badges/huggingface/{value}/likes.json")
