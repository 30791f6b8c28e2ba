"""In GitHub Actions: the job summary table, ::warning:: / ::error:: annotations, and step outputs."""

from __future__ import annotations

from conftest import GITHUB_TEST_TOKEN, run_statsbot, write_config
from fakes import json_response


def actions_env(tmp_path):
    summary, outputs = tmp_path / "summary.md", tmp_path / "output.txt"
    return {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}, summary, outputs


def test_summary_annotations_and_outputs(tmp_path, github_api, hub_api):
    github_api.add_repo("alice/tool", 1200, 30)
    github_api.add_repo("alice/lib", 50, 2)
    hub_api.add("models", "lab/m", 5000, 40, 80_000)
    write_config(
        tmp_path,
        f'[github]\napi_url = "{github_api.url}"\nrepos = ["alice/tool", "alice/lib"]\n'
        f'[huggingface]\nendpoint = "{hub_api.url}"\nmodels = ["lab/m", "lab/never"]\n',
    )
    env, summary, outputs = actions_env(tmp_path)
    first = run_statsbot("run", cwd=tmp_path, env=env)
    assert first.returncode == 3  # lab/never has no value: error
    assert first.stdout.count("::error title=statsbot::huggingface lab/never failed and has no earlier value") == 1

    github_api.set_stars("alice/tool", 1300)
    github_api.fail(lambda r: r.path == "/repos/alice/lib", *[lambda r: json_response({"message": "boom | <b>x</b>"}, 500)] * 5)
    summary.unlink()
    outputs.unlink()
    second = run_statsbot("run", cwd=tmp_path, env=env)
    assert second.returncode == 3
    warnings = [line for line in second.stdout.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1
    assert warnings[0].startswith("::warning title=statsbot::github alice/lib is stale (last good values from ")
    assert outputs.read_text() == "changed=true\nstale=true\n"  # no publisher here: changed means files changed

    text = summary.read_text(encoding="utf-8")
    assert "| metric | before | after | status |" in text
    assert "| github alice/tool stars | 1200 | 1300 | ok |" in text
    assert "| github alice/lib stars | 50 | 50 | stale: GitHub repository alice/lib: HTTP 500 from GitHub after 2 retries |" in text
    assert "| huggingface lab/never (none) | — | — | error: Hugging Face model lab/never: not found (HTTP 404): deleted, private, gated or misspelt |" in text


def test_server_text_is_escaped_in_the_summary_and_the_token_hidden(tmp_path, github_api):
    github_api.add_repo("alice/tool", 1, 0)
    github_api.fail(
        lambda r: r.path == "/graphql",
        lambda r: json_response({"data": None, "errors": [{"message": "a | b <img src=x onerror=alert(1)> **bold**\nnext"}]}),
    )
    write_config(tmp_path, f'[github]\napi_url = "{github_api.url}"\nrepos = ["alice/tool"]\n')
    env, summary, _ = actions_env(tmp_path)
    result = run_statsbot("run", cwd=tmp_path, env={**env, "GITHUB_TOKEN": GITHUB_TEST_TOKEN})
    assert result.returncode == 3
    text = summary.read_text(encoding="utf-8")
    assert "a \\| b &lt;img src=x onerror=alert(1)&gt; \\*\\*bold\\*\\* next" in text
    assert "<img" not in text
    row = next(line for line in text.splitlines() if "alice/tool" in line)
    assert row.count(" | ") == 3  # still four cells
    error_line = next(line for line in result.stdout.splitlines() if line.startswith("::error"))
    assert "%0A" not in error_line or "\n" not in error_line
