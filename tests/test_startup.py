"""What a command loads, and what a day that changes nothing does: no HTTP client, parser or
charting library where none is needed; no Scholar page parsed twice; no chart drawn again
unless a value in it changed; one Scholar client a run. Each command runs in a child
process against a real fake Scholar on 127.0.0.1 (`scholar_site`), its modules read from
`sys.modules` there. Timing is in bench/nochange.py and bench/scholar_speed.py, not here."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

from conftest import write_config
from helpers import scholar_config, snapshot
from scholar_fixtures import make_profile
from test_history_and_charts import path_points

from statsbot.runner import run

UID = "TestUser01AJ"
WATCHED = ("requests", "urllib3", "httpx", "scholarly", "scholarly.author_parser", "bs4", "matplotlib", "selenium")

# The real CLI, in process in a child, then which of the watched modules it loaded.
CLI_PROBE = (
    "import json, sys\n"
    "from statsbot.cli import main\n"
    "code = main(sys.argv[1:])\n"
    f"print('PROBE ' + json.dumps([code, [m for m in {WATCHED!r} if m in sys.modules]]))\n"
)

# One run (runner.run, as `statsbot run --no-publish` does it) on a given UTC day.
RUN_PROBE = (
    "import json, sys\n"
    "from datetime import datetime\n"
    "from statsbot.config import parse_config\n"
    "from statsbot.runner import run\n"
    "base, uid, out, day = sys.argv[1:5]\n"
    "scholar = {'id': uid, 'base_url': base, 'page_delay_seconds': 0.0}\n"
    "loaded = parse_config({'scholar': scholar, 'output': {'dir': out}}, path=None, env={})\n"
    "report = run(loaded, env={}, now=datetime.fromisoformat(day))\n"
    f"modules = [m for m in {WATCHED!r} if m in sys.modules]\n"
    "print('PROBE ' + json.dumps({'written': report.written, 'status': [r.status for r in report.results], 'modules': modules}))\n"
)


def day(d: int, hour: int = 6) -> datetime:
    return datetime(2026, 11, d, hour, 0, tzinfo=timezone.utc)


def probe(script: str, *args: str, cwd) -> object:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    line = next((line for line in done.stdout.splitlines() if line.startswith("PROBE ")), None)
    assert line is not None, done.stdout + done.stderr
    return json.loads(line[len("PROBE "):])


def day_two(scholar_site, tmp_path, when: datetime) -> dict:
    return probe(RUN_PROBE, scholar_site.url, UID, str(tmp_path / "out"), when.isoformat(), cwd=tmp_path)  # type: ignore[return-value]


def test_check_and_config_errors_load_no_http_client_parser_or_charts(scholar_site, tmp_path):
    scholar_site.add(make_profile(3, UID))
    write_config(tmp_path, f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\npage_delay_seconds = 0\n')
    (tmp_path / "bad.toml").write_text(f'[scholar]\nid = "{UID}"\ntimeout_seconds = -1\n', encoding="utf-8")
    (tmp_path / "all.toml").write_text(
        f'[scholar]\nid = "{UID}"\n[github]\nrepos = ["alice/tool"]\n[huggingface]\nmodels = ["lab/m"]\n'
        '[openalex]\nauthors = ["A5023888391"]\n[semanticscholar]\nauthors = ["1741101"]\n',
        encoding="utf-8",
    )

    assert probe(CLI_PROBE, "check", cwd=tmp_path) == [0, []]
    assert probe(CLI_PROBE, "check", "--config", "all.toml", cwd=tmp_path) == [0, []]  # every source's section
    assert probe(CLI_PROBE, "check", "--config", "bad.toml", cwd=tmp_path) == [2, []]
    assert probe(CLI_PROBE, "run", "--config", "bad.toml", cwd=tmp_path) == [2, []]
    # the control: a run that fetches loads the client and scholarly's parsers (never Selenium)
    code, loaded = probe(CLI_PROBE, "run", "--no-publish", cwd=tmp_path)  # type: ignore[misc]
    assert code == 0
    assert {"httpx", "scholarly.author_parser", "bs4"} <= set(loaded) and "selenium" not in loaded


def test_a_second_run_the_same_day_parses_nothing_and_draws_nothing(scholar_site, tmp_path):
    scholar_site.add(make_profile(130, UID))  # two pages
    run(scholar_config(scholar_site.url, UID, tmp_path / "out"), now=day(20))
    before = snapshot(tmp_path / "out")

    again = day_two(scholar_site, tmp_path, day(20, 9))
    assert again["status"] == ["ok", "ok"]  # the profile and the page's citations
    assert again["written"] == []
    assert not {"scholarly", "scholarly.author_parser", "bs4", "matplotlib"} & set(again["modules"])
    assert snapshot(tmp_path / "out") == before
    assert len(scholar_site.requests()) == 4  # both pages fetched each time: the values are checked, not assumed


def test_a_day_that_changes_nothing_parses_nothing_and_draws_no_chart(scholar_site, tmp_path):
    scholar_site.add(make_profile(130, UID))
    run(scholar_config(scholar_site.url, UID, tmp_path / "out"), now=day(20))
    charts = {path: data for path, data in snapshot(tmp_path / "out").items() if path.startswith("charts/")}
    assert len(charts) == 5  # citations, h-index, i10-index, citations per year, the page's citations

    next_day = day_two(scholar_site, tmp_path, day(21))
    assert next_day["status"] == ["ok", "ok"]
    assert not {"scholarly", "scholarly.author_parser", "bs4", "matplotlib"} & set(next_day["modules"])
    assert [path for path in next_day["written"] if path.startswith("charts/")] == []
    assert {path: data for path, data in snapshot(tmp_path / "out").items() if path.startswith("charts/")} == charts
    history = (tmp_path / "out" / "history" / "2026-11.csv").read_text(encoding="utf-8")
    assert f"2026-11-21,scholar,{UID},citations,98765" in history  # the day is still recorded
    assert "history/2026-11.csv" in next_day["written"]


def test_a_changed_value_redraws_its_chart_only(scholar_site, tmp_path):
    profile = scholar_site.add(make_profile(130, UID))
    run(scholar_config(scholar_site.url, UID, tmp_path / "out"), now=day(20))
    first = snapshot(tmp_path / "out")
    profile["stats"] = {**profile["stats"], "citations": 99_000}

    changed = day_two(scholar_site, tmp_path, day(21))
    assert changed["status"] == ["ok", "ok"]
    assert "scholarly.author_parser" in changed["modules"]  # the new pages parsed
    assert "matplotlib" not in changed["modules"]  # the chart is drawn (below) by statsbot.charts, no plotting library
    after = snapshot(tmp_path / "out")
    chart = f"charts/scholar/{UID}/citations.svg"
    assert chart in changed["written"] and after[chart] != first[chart]
    assert path_points(after[chart]) == 2
    assert after[f"charts/scholar/{UID}/h-index.svg"] == first[f"charts/scholar/{UID}/h-index.svg"]  # its values did not change
    assert json.loads(after["stats.json"])["sources"]["scholar"][UID]["metrics"]["citations"] == 99_000


def test_one_scholar_client_for_every_profile_of_a_run(scholar_site, tmp_path):
    others = ["OtherUser1AJ", "OtherUser2AJ"]
    for uid in (UID, *others):
        scholar_site.add(make_profile(3, uid))
    report = run(scholar_config(scholar_site.url, UID, tmp_path, profiles=others))
    assert [r.status for r in report.results if r.source == "scholar"] == ["ok", "ok", "ok"]
    agents = {request.headers["User-Agent"] for request, _ in scholar_site.server.log}
    assert len(scholar_site.server.log) == 3 and len(agents) == 1  # one client (and user agent) a run, not one a profile


# `statsbot` as a program ends check, its config errors, --version and usage errors with a quick
# exit (no interpreter teardown): the same lines and exit codes as main() called in process.
IN_PROCESS = "import sys\nfrom statsbot.cli import main\nraise SystemExit(main(sys.argv[1:]))\n"


def test_quick_exits_print_the_same_lines_and_codes_as_an_in_process_call(scholar_site, tmp_path):
    write_config(tmp_path, f'[scholar]\nid = "{UID}"\nbase_url = "{scholar_site.url}"\npage_delay_seconds = 0\n')
    (tmp_path / "bad.toml").write_text(f'[scholar]\nid = "{UID}"\ntimeout_seconds = -1\n', encoding="utf-8")
    (tmp_path / "empty.toml").write_text("", encoding="utf-8")
    cases = {
        ("check",): 0,
        ("check", "-v"): 0,
        ("check", "--config", "bad.toml"): 2,
        ("check", "--config", "empty.toml"): 2,
        ("check", "--config", "missing.toml"): 2,
        ("--version",): 0,
        ("no-such-command",): 2,
    }
    for args, code in cases.items():
        program = subprocess.run([sys.executable, "-m", "statsbot", *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        called = subprocess.run([sys.executable, "-c", IN_PROCESS, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert (program.returncode, program.stdout, program.stderr) == (called.returncode, called.stdout, called.stderr), args
        assert program.returncode == code, (args, program.stderr)
        assert program.stdout or program.stderr, args  # every case says something, and none of it is lost
    check = subprocess.run([sys.executable, "-m", "statsbot", "check"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert check.stdout.splitlines() == [
        "config: statsbot.toml",
        f"scholar: profile {UID} from {scholar_site.url} (timeout 30 s, 2 retries, deadline 120 s)",
        "scholar fetchers, in order: direct (free, from this machine)",
        f"output: {(tmp_path / 'output').resolve()}",
    ]
    bad = subprocess.run([sys.executable, "-m", "statsbot", "check", "--config", "bad.toml"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (bad.returncode, bad.stdout, bad.stderr) == (2, "", "statsbot: bad.toml: scholar.timeout_seconds: must be greater than 0 (got -1)\n")
