"""First runs and user input: what a new user, a typo or a hand edit meets.

Everything runs for real: the CLI in a child process, fake Scholar, GitHub and
Hugging Face servers on 127.0.0.1, real git with a bare remote on disk.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from conftest import cstart_of, html_response, run_statsbot, write_config
from fakes import json_response
from gitutil import branch_commits, git, isolated_git_env, make_homepage, tree_files
from helpers import scholar_config
from scholar_fixtures import make_profile

from statsbot.demo import pages
from statsbot.runner import run

UID = "TestUser01AJ"
BRANCH = "google-scholar-stats"


def scholar_toml(url: str, scholar_id: str = UID, extra: str = "") -> str:
    return f'[scholar]\nid = "{scholar_id}"\nbase_url = "{url}"\npage_delay_seconds = 0\ndeadline_seconds = 10\n{extra}'


def hub_toml(hub, models=("lab/m",), datasets=()) -> str:
    return (
        f'[huggingface]\nendpoint = "{hub.url}"\nmodels = [{", ".join(json.dumps(m) for m in models)}]\n'
        f'datasets = [{", ".join(json.dumps(d) for d in datasets)}]\n'
    )


def stderr_lines(result) -> list[str]:
    return result.stderr.splitlines()


def problems(result) -> list[str]:
    """stderr without the INFO lines."""
    return [line for line in result.stderr.splitlines() if not line.startswith("INFO: ")]


# ------------------------------------------------------------------ --allow-stale


def test_allow_stale_exits_0_when_every_failed_item_kept_earlier_values(scholar_site, tmp_path):
    scholar_site.add(make_profile(3, UID))
    write_config(tmp_path, scholar_toml(scholar_site.url))
    assert run_statsbot("run", cwd=tmp_path).returncode == 0
    scholar_site.override(lambda r: html_response(pages.dos_page()))

    assert run_statsbot("run", cwd=tmp_path).returncode == 3
    result = run_statsbot("run", "--allow-stale", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"scholar {UID}: STALE" in result.stdout
    assert "--allow-stale" not in result.stderr


def test_allow_stale_does_not_excuse_an_item_that_never_had_a_value(scholar_site, hub_api, tmp_path):
    hub_api.add("models", "lab/m", 10, 1, 100)
    # A typo in the Scholar id: the profile does not exist (HTTP 404), on the very first run.
    write_config(tmp_path, scholar_toml(scholar_site.url, "WrongIdTypo0") + hub_toml(hub_api))
    result = run_statsbot("run", "--allow-stale", cwd=tmp_path)
    assert result.returncode == 3
    assert "scholar WrongIdTypo0: ERROR: no Google Scholar profile with this id (HTTP 404)" in result.stdout
    assert "huggingface lab/m: ok" in result.stdout
    why = [line for line in stderr_lines(result) if "--allow-stale" in line]
    assert why == [
        "statsbot: --allow-stale excuses only stale items (those with earlier values); never fetched "
        "successfully: scholar WrongIdTypo0 (see the error above; a wrong id is the usual cause)"
    ]
    assert (tmp_path / "output" / "stats.json").is_file()  # the good item was still written


def test_allow_stale_with_one_stale_and_one_never_fetched_item_still_exits_3(hub_api, tmp_path):
    hub_api.add("models", "lab/m", 10, 1, 100)
    write_config(tmp_path, hub_toml(hub_api, models=("lab/m",)))
    assert run_statsbot("run", cwd=tmp_path).returncode == 0
    write_config(tmp_path, hub_toml(hub_api, models=("lab/m", "lab/typo")))
    hub_api.fail(lambda r: r.path == "/api/models/lab/m", lambda r: json_response({"error": "boom"}, 404))

    result = run_statsbot("run", "--allow-stale", cwd=tmp_path)
    assert result.returncode == 3
    assert "huggingface lab/m: STALE" in result.stdout
    assert "never fetched successfully: huggingface lab/typo " in result.stderr


# ------------------------------------------------------------------ output folder


def test_an_output_path_that_is_a_file_is_a_config_error_before_any_request(scholar_site, tmp_path):
    scholar_site.add(make_profile(3, UID))
    write_config(tmp_path, scholar_toml(scholar_site.url, extra='[output]\ndir = "site-data"\n'))
    (tmp_path / "site-data").write_text("not a folder\n", encoding="utf-8")

    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 2
    assert problems(result) == [
        f"statsbot: statsbot.toml: [output] dir: {(tmp_path / 'site-data').resolve()} exists and is not a folder"
    ]
    assert scholar_site.requests() == []

    given = run_statsbot("run", "--output", "site-data", cwd=tmp_path)
    assert given.returncode == 2
    assert problems(given) == [f"statsbot: --output: {(tmp_path / 'site-data').resolve()} exists and is not a folder"]
    assert scholar_site.requests() == []


def test_an_output_folder_that_cannot_be_created_is_a_config_error(scholar_site, tmp_path):
    scholar_site.add(make_profile(3, UID))
    write_config(tmp_path, scholar_toml(scholar_site.url))
    (tmp_path / "blocker").write_text("a file where a folder should be\n", encoding="utf-8")

    result = run_statsbot("run", "--output", "blocker/out", cwd=tmp_path)
    assert result.returncode == 2
    [line] = problems(result)
    assert line.startswith(f"statsbot: --output: the folder {(tmp_path / 'blocker' / 'out').resolve()} cannot be created (")
    assert scholar_site.requests() == []


@pytest.mark.skipif(os.name != "posix", reason="folder permissions are POSIX modes here")
def test_an_output_folder_without_write_permission_is_a_config_error(scholar_site, tmp_path):
    """Root may write in any folder, so as root (CI) the run drops to uid 65534 with setpriv,
    in a folder that user may read."""
    import shutil
    import tempfile

    root = os.geteuid() == 0
    if root and shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv is missing: root may write in any folder")
    work = Path(tempfile.mkdtemp(prefix="statsbot-perm-")) if root else tmp_path
    try:
        work.chmod(0o755)
        scholar_site.add(make_profile(3, UID))
        write_config(work, scholar_toml(scholar_site.url))
        (work / "statsbot.toml").chmod(0o644)
        locked = work / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        command = [sys.executable, "-m", "statsbot", "run", "--output", "locked"]
        isolated = ("GOOGLE_SCHOLAR_ID", "STATSBOT_CONFIG", "GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN")
        env = {**{k: v for k, v in os.environ.items() if k not in isolated}, "HOME": str(work)}
        if root:
            drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            probe = subprocess.run([*drop, sys.executable, "-c", "import statsbot"], cwd=work, env=env, capture_output=True, timeout=60)
            if probe.returncode != 0:  # this checkout lives where uid 65534 may not read it
                pytest.skip("running as root, and uid 65534 cannot run this checkout's Python to drop root")
            command = [*drop, *command]
        result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        [line] = problems(result)
        assert line.startswith(f"statsbot: --output: cannot write in the folder {locked.resolve()} (")
        assert scholar_site.requests() == []
    finally:
        if root:
            (work / "locked").chmod(0o755)
            shutil.rmtree(work, ignore_errors=True)


UMASK_RUN = "import os, sys\nos.umask(int(sys.argv[1], 8))\nfrom statsbot.cli import main\nsys.exit(main(sys.argv[2:]))\n"


@pytest.mark.parametrize(("umask", "file_mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_output_files_follow_the_umask(scholar_site, tmp_path, umask, file_mode):
    scholar_site.add(make_profile(3, UID))
    write_config(tmp_path, scholar_toml(scholar_site.url))
    done = subprocess.run(
        [sys.executable, "-c", UMASK_RUN, oct(umask), "run", "--no-publish", "-q"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if k not in ("GOOGLE_SCHOLAR_ID", "STATSBOT_CONFIG")},
    )
    assert done.returncode == 0, done.stderr
    files = [p for p in (tmp_path / "output").rglob("*") if p.is_file()]
    assert len(files) >= 14  # data, profile and paper badges, history, charts
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {oct(file_mode)}
    assert not list((tmp_path / "output").rglob(".*.tmp"))  # no temporary file left behind


def test_files_written_before_keep_no_private_mode(scholar_site, tmp_path):
    """Files a run wrote 0600 (statsbot before this fix) get the umask's mode when rewritten."""
    scholar_site.add(make_profile(3, UID))
    write_config(tmp_path, scholar_toml(scholar_site.url))
    stats = tmp_path / "output" / "stats.json"
    stats.parent.mkdir()
    stats.write_text("{}", encoding="utf-8")
    stats.chmod(0o600)
    done = subprocess.run([sys.executable, "-c", UMASK_RUN, "022", "run", "--no-publish", "-q"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(stats.stat().st_mode) == 0o644


# ------------------------------------------------------------------ --no-push in a fresh clone


def test_no_push_in_a_fresh_clone_builds_the_local_branch_on_the_remote_tip(tmp_path, hub_api):
    env = isolated_git_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    site, remote = make_homepage(tmp_path, env)
    hub_api.add("models", "lab/m", 1234, 5, 99_000)
    write_config(site, hub_toml(hub_api))
    assert run_statsbot("run", cwd=site, env=env).returncode == 0
    [remote_tip] = branch_commits(remote)

    fresh = tmp_path / "fresh"
    git("clone", "--quiet", str(remote), str(fresh), cwd=tmp_path, env=env)
    assert git("branch", "--list", BRANCH, cwd=fresh) == ""  # only origin/google-scholar-stats
    write_config(fresh, hub_toml(hub_api))
    hub_api.add("models", "lab/m", 2000, 6, 101_000)

    result = run_statsbot("run", "--no-push", cwd=fresh, env=env)
    assert result.returncode == 0, result.stderr
    assert f"committed to local branch {BRANCH}" in result.stdout
    local = git("rev-parse", f"refs/heads/{BRANCH}", cwd=fresh)
    assert local != remote_tip
    assert git("rev-parse", f"{local}^", cwd=fresh) == remote_tip
    assert json.loads(tree_files(fresh, local)["stats.json"])["sources"]["huggingface"]["lab/m"]["metrics"]["downloads"] == 2000
    assert branch_commits(remote) == [remote_tip]  # the remote is unchanged

    again = run_statsbot("run", "--no-push", cwd=fresh, env=env)  # the local branch exists now
    assert again.returncode == 0, again.stderr
    assert git("rev-parse", f"refs/heads/{BRANCH}", cwd=fresh) == local  # nothing changed, no commit


# ------------------------------------------------------------------ the history (history/YYYY-MM.csv)


def test_malformed_history_rows_are_skipped_with_a_warning_and_kept(tmp_path, hub_api):
    env = isolated_git_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    site, remote = make_homepage(tmp_path, env)
    hub_api.add("models", "lab/m", 1234, 5, 99_000)
    write_config(site, hub_toml(hub_api))
    assert run_statsbot("run", cwd=site, env=env).returncode == 0

    # Someone edits this month's history file on the data branch by hand (a spreadsheet, another date format).
    month = f"history/{datetime.now(timezone.utc).date().isoformat()[:7]}.csv"
    editor = tmp_path / "editor"
    git("clone", "--quiet", "--branch", BRANCH, str(remote), str(editor), cwd=tmp_path, env=env)
    history = editor / month
    good_rows = history.read_text(encoding="utf-8").splitlines()
    bad = [
        "23/11/2026,huggingface,lab/m,downloads,1500",
        "2026-11-20,huggingface,lab/m,downloads,12k",
        "2026-11-21,huggingface,lab/m",
        "2026-11-19,huggingface,lab/m,downloads,1100",  # a good hand-written row
    ]
    history.write_text("\n".join(good_rows[:1] + bad[:2] + good_rows[1:] + bad[2:]) + "\n", encoding="utf-8")
    git("commit", "--quiet", "-am", "hand edit", cwd=editor, env=env)
    git("push", "--quiet", "origin", BRANCH, cwd=editor, env=env)

    hub_api.add("models", "lab/m", 1300, 5, 99_500)
    result = run_statsbot("run", cwd=site, env=env)
    assert result.returncode == 0, result.stderr
    assert "pushed to origin/google-scholar-stats" in result.stdout
    warnings = [line for line in stderr_lines(result) if "history" in line]
    assert warnings == [
        f"WARNING: {month}:2: skipped a malformed row (the date '23/11/2026' is not YYYY-MM-DD): "
        "23/11/2026,huggingface,lab/m,downloads,1500",
        f"WARNING: {month}:3: skipped a malformed row (the value '12k' is not a whole number): "
        "2026-11-20,huggingface,lab/m,downloads,12k",
        f"WARNING: {month}:{len(good_rows) + 3}: skipped a malformed row (3 fields where 5 "
        "(date,source,item,metric,value) were expected): 2026-11-21,huggingface,lab/m",
        f"WARNING: {month}: malformed rows are kept as they are at the end of the file; fix or delete them there",
    ]
    published = tree_files(remote, BRANCH)
    lines = published[month].decode("utf-8").splitlines()
    assert lines[-3:] == bad[:3]  # kept verbatim, at the end
    assert "2026-11-19,huggingface,lab/m,downloads,1100" in lines  # the good hand-written row is used
    assert published["charts/huggingface/lab/m/downloads.svg"].startswith(b"<?xml")

    # Nothing lost and nothing added on the next run: the file is stable.
    again = run_statsbot("run", cwd=site, env=env)
    assert again.returncode == 0, again.stderr
    assert tree_files(remote, BRANCH)[month] == published[month]


def test_a_history_csv_of_junk_never_stops_the_run(hub_api, tmp_path):
    """Without git: the output folder's history.csv (the single file of earlier versions, read
    for the charts, never rewritten) is read instead."""
    hub_api.add("models", "lab/m", 10, 1, 100)
    write_config(tmp_path, hub_toml(hub_api))
    (tmp_path / "output").mkdir()
    junk = "\ufeff" + "".join(f"row {i};with;semicolons\r\n" for i in range(12)) + "2026-13-45,a,b,c,1\n,,,,\n"
    (tmp_path / "output" / "history.csv").write_text(junk, encoding="utf-8")
    result = run_statsbot("run", "--no-publish", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in stderr_lines(result) if "history.csv" in line]
    assert len(warnings) == 5 + 2  # five rows named, then a count of the rest, then where they went
    assert warnings[0].startswith("WARNING: history.csv:1: skipped a malformed row")
    assert warnings[5] == "WARNING: history.csv: 9 more malformed rows skipped (lines 6, 7, 8, 9, 10, 11, 12, 13, 14)"
    assert (tmp_path / "output" / "charts" / "huggingface" / "lab" / "m" / "downloads.svg").is_file()
    assert (tmp_path / "output" / "history.csv").read_bytes() == junk.encode("utf-8")  # left exactly as it was


# ------------------------------------------------------------------ Scholar


SIGNIN_PAGE = (
    "<!doctype html><html lang=\"en\"><head><title>Sign in - Google Accounts</title></head><body>"
    "<form method=\"post\" action=\"/v3/signin/_/AccountsSignInUi/data\"><h1>Sign in</h1>"
    "<p>to continue to Google Scholar</p><input type=\"email\" id=\"identifierId\" name=\"identifier\">"
    "<button>Next</button></form></body></html>"
)
SIGNIN_MESSAGE = "Google Scholar sent the request to Google's sign-in page: the profile is private or the id is wrong"


@pytest.mark.parametrize("location", [
    "/ServiceLogin?hl=en&continue=https://scholar.google.com/citations%3Fuser%3DTestUser01AJ",
    "/v3/signin/identifier?continue=https%3A%2F%2Fscholar.google.com%2Fcitations&service=citations",
])
def test_a_redirect_to_the_sign_in_page_says_private_or_wrong_id(scholar_site, tmp_path, location):
    scholar_site.override(lambda r: html_response("", 302, {"Location": location}))
    path = location.partition("?")[0]
    scholar_site.server.expect_request(path).respond_with_data(SIGNIN_PAGE, 200, content_type="text/html")
    write_config(tmp_path, scholar_toml(scholar_site.url))
    result = run_statsbot("run", cwd=tmp_path)
    assert result.returncode == 3
    assert f"scholar {UID}: ERROR: {SIGNIN_MESSAGE} (no earlier value to keep)" in result.stdout
    assert len(scholar_site.requests()) == 2  # the profile URL and the sign-in page: no retries


def test_a_sign_in_page_served_in_place_of_the_profile_is_recognised(scholar_site, tmp_path):
    scholar_site.override(lambda r: html_response(SIGNIN_PAGE))
    report = run(scholar_config(scholar_site.url, UID, tmp_path))
    assert report.results[0].status == "error"
    assert report.results[0].error == SIGNIN_MESSAGE


def test_the_sign_in_check_reads_the_final_host_and_leaves_profiles_alone():
    from statsbot.sources.scholar.pages import classify_block

    signin = httpx.URL("https://accounts.google.com/v3/signin/identifier?continue=https%3A%2F%2Fscholar.google.com")
    assert classify_block(200, signin, "<html><body>anything</body></html>") == SIGNIN_MESSAGE
    assert classify_block(200, httpx.URL("https://accounts.google.com/ServiceLogin?x=1"), "") == SIGNIN_MESSAGE
    profile = httpx.URL(f"https://scholar.google.com/citations?hl=en&user={UID}&pagesize=100")
    page = pages.render_profile(make_profile(3, UID))
    # Every Scholar page links to the sign-in page (the "Sign in" button): that is not a redirect.
    signin_link = '<a href="https://accounts.google.com/ServiceLogin?continue=x">Sign in</a>'
    assert classify_block(200, profile, page.replace("</body>", signin_link + "</body>")) is None


def test_a_404_on_the_second_page_keeps_the_profile_stale_without_saying_it_is_missing(scholar_site, tmp_path):
    profile = scholar_site.add(make_profile(150, UID))
    good = run(scholar_config(scholar_site.url, UID, tmp_path))
    assert good.results[0].status == "ok"
    scholar_site.override(lambda r: html_response(pages.not_found_page(), 404), lambda r: cstart_of(r) == 100)

    report = run(scholar_config(scholar_site.url, UID, tmp_path))
    result = report.results[0]
    assert result.status == "stale"
    assert result.error == "the publications page at cstart=100 answered HTTP 404"
    assert result.metrics == good.results[0].metrics
    assert result.metrics["publications"] == len(profile["publications"])


@pytest.mark.parametrize("given", [
    f"https://scholar.google.com/citations?user={UID}&hl=en",
    f"https://scholar.google.co.uk/citations?hl=en&user={UID}&oi=ao",
    f"http://scholar.google.de/citations?user={UID}",
])
def test_a_profile_url_is_accepted_as_the_id(scholar_site, tmp_path, given):
    scholar_site.add(make_profile(3, UID))
    write_config(tmp_path, scholar_toml(scholar_site.url, given))
    result = run_statsbot("run", "--no-publish", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith(f"scholar {UID} (")
    assert (tmp_path / "output" / "badges" / "scholar" / UID / "citations.json").is_file()
    assert list(json.loads((tmp_path / "output" / "stats.json").read_text(encoding="utf-8"))["sources"]["scholar"]) == [UID]


def test_a_profile_url_in_the_environment_is_accepted(tmp_path):
    result = run_statsbot("check", cwd=tmp_path,
                          env={"GOOGLE_SCHOLAR_ID": f"https://scholar.google.com/citations?user={UID}&hl=en&oi=ao"})
    assert result.returncode == 0, result.stderr
    assert f"scholar: profile {UID} from https://scholar.google.com" in result.stdout


@pytest.mark.parametrize("given", [
    "https://example.org/citations?user=TestUser01AJ",
    "https://scholar.google.com/citations?hl=en",
    "https://scholar.google.com/citations?user=short",
    "https://scholar.google.com/scholar?q=TestUser01AJ",
])
def test_other_urls_get_a_one_line_error_naming_the_key(tmp_path, given):
    write_config(tmp_path, f'[scholar]\nid = "{given}"\n')
    result = run_statsbot("check", cwd=tmp_path)
    assert result.returncode == 2
    [line] = stderr_lines(result)
    assert line.startswith("statsbot: statsbot.toml: scholar.id: a profile URL must look like "
                           "https://scholar.google.com/citations?user=XXXXXXXXXXXX")


def test_init_writes_the_id_of_a_profile_url(tmp_path):
    env = isolated_git_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    site, _ = make_homepage(tmp_path, env)
    result = run_statsbot("init", "--scholar-id", f"https://scholar.google.com/citations?user={UID}&hl=en", cwd=site, env=env)
    assert result.returncode == 0, result.stderr
    assert f'id = "{UID}"' in (site / "statsbot.toml").read_text(encoding="utf-8")


# ------------------------------------------------------------------ Hugging Face


def test_hugging_face_ids_without_an_organisation(hub_api, tmp_path):
    hub_api.add("models", "bert-base-uncased", 50_000_000, 2000, 900_000_000)
    hub_api.add("datasets", "squad", 100_000, 300, 5_000_000)
    write_config(tmp_path, hub_toml(hub_api, models=("bert-base-uncased",), datasets=("squad",)))
    result = run_statsbot("run", "--no-publish", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "huggingface bert-base-uncased: ok: downloads 50000000, likes 2000" in result.stdout
    out = tmp_path / "output"
    assert json.loads((out / "badges" / "huggingface" / "bert-base-uncased" / "downloads.json").read_text())["message"] == "50M"
    assert (out / "badges" / "huggingface" / "datasets" / "squad" / "likes.json").is_file()
    assert sorted(r["path"] for r in hub_api.requests) == ["/api/datasets/squad", "/api/models/bert-base-uncased"]


def test_a_bad_hugging_face_name_is_still_a_config_error(tmp_path):
    write_config(tmp_path, '[huggingface]\nmodels = ["bert base"]\n')
    result = run_statsbot("check", cwd=tmp_path)
    assert result.returncode == 2
    assert "huggingface.models.0: must be 'org/name' or a bare name: letters, digits" in result.stderr


def test_a_moved_hugging_face_model_is_followed_and_reported(hub_api, tmp_path):
    hub_api.add("models", "openai-community/gpt2", 12_000_000, 2500, 800_000_000)
    hub_api.move("models", "gpt2", "openai-community/gpt2")
    write_config(tmp_path, hub_toml(hub_api, models=("gpt2",)))
    result = run_statsbot("run", "--no-publish", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "WARNING: Hugging Face model gpt2 has moved to openai-community/gpt2: update your config" in stderr_lines(result)
    assert "huggingface gpt2: ok: downloads 12000000, likes 2500, downloads_all_time 800000000 (moved to openai-community/gpt2)" in result.stdout
    entry = json.loads((tmp_path / "output" / "stats.json").read_text(encoding="utf-8"))["sources"]["huggingface"]["gpt2"]
    assert entry["moved_to"] == "openai-community/gpt2"
    assert entry["metrics"]["downloads"] == 12_000_000
    assert (tmp_path / "output" / "badges" / "huggingface" / "gpt2" / "downloads.json").is_file()  # the configured name
    assert [r["path"] for r in hub_api.requests] == ["/api/models/gpt2", "/api/models/openai-community/gpt2"]


def test_a_dataset_moved_with_a_301_is_reported_too(hub_api, tmp_path):
    hub_api.add("datasets", "new-lab/corpus", 5, 1, 50)
    hub_api.move("datasets", "old-lab/corpus", "new-lab/corpus", status=301)
    hub_api.add("models", "lab/m", 1, 1, 1)  # not moved: no warning
    write_config(tmp_path, hub_toml(hub_api, models=("lab/m",), datasets=("old-lab/corpus",)))
    result = run_statsbot("run", "--no-publish", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    moved = [line for line in stderr_lines(result) if "has moved" in line]
    assert moved == ["WARNING: Hugging Face dataset old-lab/corpus has moved to new-lab/corpus: update your config"]
    entries = json.loads((tmp_path / "output" / "stats.json").read_text(encoding="utf-8"))["sources"]["huggingface"]
    assert entries["datasets/old-lab/corpus"]["moved_to"] == "new-lab/corpus"
    assert "moved_to" not in entries["lab/m"]


# ------------------------------------------------------------------ logs


def _github_with_one_500(github_api, tmp_path):
    github_api.add_repo("alice/tool", 4321, 12)
    github_api.fail(lambda r: r.path == "/repos/alice/tool", lambda r: json_response({"message": "Server Error"}, 500))
    write_config(tmp_path, f'[github]\napi_url = "{github_api.url}"\nrepos = ["alice/tool"]\n[charts]\nenabled = true\n')
    # A fresh matplotlib cache folder, where matplotlib would log "generated new fontManager" at INFO;
    # statsbot no longer imports matplotlib (its charts are its own SVG), so no font line may appear.
    return {"MPLCONFIGDIR": str(tmp_path / "mpl-config")}


def test_default_logs_have_no_matplotlib_or_urllib3_lines(github_api, tmp_path):
    env = _github_with_one_500(github_api, tmp_path)
    result = run_statsbot("run", "--no-publish", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "github alice/tool: ok: stars 4321" in result.stdout
    assert (tmp_path / "output" / "charts" / "github" / "stars-total.svg").is_file()
    assert len(github_api.requests) == 2  # the 500 was retried
    for word in ("matplotlib", "fontManager", "font", "urllib3", "Retry"):
        assert word not in result.stderr, result.stderr
    assert all(line.startswith(("INFO: ", "WARNING: ")) for line in stderr_lines(result)), result.stderr


def test_verbose_logs_show_the_retry(github_api, tmp_path):
    env = _github_with_one_500(github_api, tmp_path)
    result = run_statsbot("run", "--no-publish", "-v", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    retries = [line for line in stderr_lines(result) if line.startswith("DEBUG urllib3.connectionpool: Retry")]
    assert retries == ["DEBUG urllib3.connectionpool: Retry: /repos/alice/tool"]
    assert "Starting new HTTP connection" not in result.stderr  # request lines only with -vv
    assert "generated new fontManager" not in result.stderr
