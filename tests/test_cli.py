"""The `statsbot` command in a child process, as a user or a workflow runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import html_response, run_statsbot, write_config
from helpers import snapshot
from scholar_fixtures import make_profile

from statsbot import __version__
from statsbot.demo import pages

UID = "TestUser01AJ"


def site_config(tmp_path, url, extra=""):
    return write_config(
        tmp_path,
        f'[scholar]\nid = "{UID}"\nbase_url = "{url}"\npage_delay_seconds = 0\ndeadline_seconds = 10\n{extra}',
    )


def test_version():
    result = run_statsbot("--version", cwd=".")
    assert result.returncode == 0 and result.stdout.strip() == f"statsbot {__version__}"


def test_demo_runs_offline_and_writes_everything(tmp_path):
    out = tmp_path / "demo-out"
    result = run_statsbot("demo", "--output", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    profile = pages_profile()
    data = json.loads((out / "gs_data.json").read_text(encoding="utf-8"))
    assert data["citedby"] == profile["stats"]["citations"]
    assert len(data["publications"]) == len(profile["publications"]) == 137
    assert "2-request Scholar profile from 127.0.0.1" in result.stdout
    assert f"citations     {profile['stats']['citations']}" in result.stdout
    assert (out / "badges" / "scholar" / profile["scholar_id"] / "h-index.json").is_file()
    assert json.loads((out / "stats.json").read_text(encoding="utf-8"))["sources"]["scholar"][profile["scholar_id"]]["status"] == "ok"


def pages_profile():
    from statsbot.demo.server import demo_profile

    return demo_profile()


def test_run_prints_a_summary_and_exits_0(scholar_site, tmp_path):
    scholar_site.add(make_profile(30, UID))
    site_config(tmp_path, scholar_site.url)
    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"scholar {UID} (Zoë Ñúñez-Øberg): ok (via direct)"
    assert "  citations     98765" in lines and "  publications  30" in lines
    written = [p for p in (tmp_path / "output").rglob("*") if p.is_file()]
    # data, paper and profile badges, the papers data, the page's citations badge, history, 4 charts and the page's citations chart,
    # and .statsbot/cache.json (the Scholar pages cache)
    assert len(written) == 3 + 30 + 3 + 1 + 1 + 1 + 4 + 1 + 1
    assert lines[-1] == f"wrote {len(written)} changed files to {(tmp_path / 'output').resolve()}"
    assert "INFO: scholar" in result.stderr  # logs go to stderr, never to stdout
    assert "INFO" not in result.stdout


def test_run_output_flag_and_quiet(scholar_site, tmp_path):
    scholar_site.add(make_profile(3, UID))
    site_config(tmp_path, scholar_site.url)
    result = run_statsbot("run", "--output", "elsewhere", "-q", cwd=tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "elsewhere" / "gs_data.json").is_file()
    assert not (tmp_path / "output").exists()
    assert result.stderr == ""


def test_failing_source_exits_3_with_one_line_and_keeps_the_previous_files(scholar_site, tmp_path):
    scholar_site.add(make_profile(3, UID))
    site_config(tmp_path, scholar_site.url)
    assert run_statsbot("run", cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path / "output")
    before.pop("stats.json")

    scholar_site.override(lambda r: html_response(pages.dos_page()))
    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 3
    assert f"scholar {UID}: STALE: Google Scholar served its DOS page" in result.stdout
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert error_lines == [f"ERROR: scholar {UID}: Google Scholar served its DOS page (too many requests from this IP address)"]
    after = snapshot(tmp_path / "output")
    after.pop("stats.json")
    assert after == before


def test_run_without_anything_to_fetch_is_a_usage_error(tmp_path):
    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "nothing to fetch: set [scholar] id (or $GOOGLE_SCHOLAR_ID), [github] repos or users" in result.stderr


def test_check_describes_the_plan_without_fetching(tmp_path):
    write_config(tmp_path, '[output]\ndir = "site-data"\n')
    result = run_statsbot("check", cwd=tmp_path, env={"GOOGLE_SCHOLAR_ID": "DhtAFkwAAAAJ"})
    assert result.returncode == 0, result.stderr
    assert "scholar: profile DhtAFkwAAAAJ from https://scholar.google.com" in result.stdout
    assert f"output: {(tmp_path / 'site-data').resolve()}" in result.stdout


def test_usage_errors_exit_2(tmp_path):
    assert run_statsbot("run", "--bogus", cwd=tmp_path).returncode == 2
    assert run_statsbot(cwd=tmp_path).returncode == 2


def test_scholarly_is_imported_only_when_a_profile_is_fetched(scholar_site, tmp_path):
    scholar_site.add(make_profile(3, UID))
    site_config(tmp_path, scholar_site.url)
    (tmp_path / "no-scholar.toml").write_text('[output]\ndir = "out"\n', encoding="utf-8")
    probe = (
        "import sys\n"
        "from statsbot.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print('PROBE', code, 'scholarly.author_parser' in sys.modules, 'selenium' in sys.modules)\n"
    )

    def loaded(*args):
        out = subprocess.run([sys.executable, "-c", probe, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        return out.stdout.splitlines()[-1].split()[1:]

    assert loaded("check") == ["0", "False", "False"]
    assert loaded("run", "--config", "no-scholar.toml") == ["2", "False", "False"]
    # the control: parsing a profile imports scholarly's parsers, never its package (Selenium, its clients)
    assert loaded("run") == ["0", "True", "False"]


def test_a_stray_dotenv_file_does_not_change_the_environment(scholar_site, tmp_path):
    """A run that parses a profile loads scholarly's parsers, never its `load_dotenv`."""
    scholar_site.add(make_profile(3, UID))
    site_config(tmp_path, scholar_site.url)
    (tmp_path / ".env").write_text("STATSBOT_DOTENV_PROBE=leaked\nGITHUB_TOKEN=from-dotenv\n", encoding="utf-8")
    probe = (
        "import os, sys\n"
        "from statsbot.cli import main\n"
        "code = main(['run'])\n"
        "print('PROBE', code, 'scholarly.author_parser' in sys.modules,"
        " os.environ.get('STATSBOT_DOTENV_PROBE'), os.environ.get('GITHUB_TOKEN'))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={**_base_env(), "GITHUB_TOKEN": "the-users-own"})
    assert out.stdout.splitlines()[-1].split() == ["PROBE", "0", "True", "None", "the-users-own"], out.stderr
    # the control: a bare `import scholarly` does load that file, so the check above can fail
    control = subprocess.run([sys.executable, "-c", "import os, scholarly; print(os.environ.get('STATSBOT_DOTENV_PROBE'))"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=60, env=_base_env())
    assert control.stdout.strip() == "leaked"


def _base_env():
    import os

    return {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN")}


def test_all_sources_in_one_run_and_no_token_anywhere(scholar_site, github_api, hub_api, tmp_path):
    from conftest import GITHUB_TEST_TOKEN, HF_TEST_TOKEN

    scholar_site.add(make_profile(3, UID))
    github_api.add_repo("alice/tool", 4321, 12)
    hub_api.add("models", "lab/model", 2500, 7, 100_000)
    write_config(
        tmp_path,
        f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\npage_delay_seconds = 0\n'
        f'[github]\napi_url = "{github_api.url}"\nrepos = ["alice/tool"]\nusers = ["alice"]\n'
        f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/model"]\n',
    )
    result = run_statsbot("run", "-vv", cwd=tmp_path, env={"GITHUB_TOKEN": GITHUB_TEST_TOKEN, "HF_TOKEN": HF_TEST_TOKEN})
    assert result.returncode == 0, result.stderr
    assert "github alice/tool: ok: stars 4321, forks 12" in result.stdout
    assert "huggingface lab/model: ok: downloads 2500, likes 7, downloads_all_time 100000" in result.stdout
    assert "github total: 4321 stars, 12 forks in 1 repositories" in result.stdout
    assert github_api.requests[0]["headers"]["Authorization"] == f"Bearer {GITHUB_TEST_TOKEN}"
    everything = result.stdout + result.stderr
    everything += "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "output").rglob("*") if p.is_file())
    for secret in (GITHUB_TEST_TOKEN, HF_TEST_TOKEN):
        assert secret not in everything
        assert secret[4:20] not in everything
