"""history.csv updated as a stream (`history.update`): the same bytes as the whole-file
implementation and as a small reference of the documented format (one row per metric per
UTC day, the last run wins, malformed rows kept verbatim at the end and warned about once,
only fresh values recorded), and the charted series exactly as the rows say."""

from __future__ import annotations

import csv
import io
import logging
import random

import pytest

from statsbot import history
from statsbot.results import ItemResult

DAY = "2026-03-10"


def reference(previous: bytes | None, fresh: dict[tuple[str, str, str, str], int]) -> bytes:
    """The documented format, written plainly: header; valid rows by (date, source, item,
    metric), the last of duplicates winning and today's fresh values over them; then the
    malformed lines as they were, in file order."""
    rows: dict[tuple[str, str, str, str], int] = {}
    kept: list[str] = []
    text = (previous or b"").decode("utf-8-sig", errors="replace")
    for line in text.splitlines():
        if not line.strip():
            continue
        record = next(csv.reader([line]), [])
        if record == ["date", "source", "item", "metric", "value"]:
            continue
        ok = len(record) == 5 and all(record[1:4]) and record[4].isascii() and record[4].isdigit()
        if ok:
            try:
                ok = len(record[0]) == 10 and record[0][4] == "-" and record[0][7] == "-" and record[0].replace("-", "").isdigit()
                __import__("datetime").date.fromisoformat(record[0])
            except ValueError:
                ok = False
        if not ok:
            kept.append(line)
            continue
        rows[tuple(record[:4])] = int(record[4])  # type: ignore[index]
    rows.update(fresh)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "source", "item", "metric", "value"])
    for key in sorted(rows):
        writer.writerow([*key, rows[key]])
    for line in kept:
        out.write(line + "\n")
    return out.getvalue().encode()


def results_for(fresh: dict[tuple[str, str], dict[str, int]]) -> list[ItemResult]:
    return [ItemResult(source=s, item=i, status="ok", metrics=m) for (s, i), m in fresh.items()]


def flat(day: str, results: list[ItemResult]) -> dict[tuple[str, str, str, str], int]:
    return {(day, r.source, r.item, m): v for r in results for m, v in r.fresh_metrics().items()}


def written(days: list[str], items: int, seed: int = 1) -> bytes:
    """A history.csv as statsbot writes it: many days of rows (more than one read chunk)."""
    rng = random.Random(seed)
    rows = {}
    for day in days:
        for n in range(items):
            for metric in ("forks", "stars"):
                rows[(day, "github", f"lab{n % 5}/repo-{n:04d}", metric)] = rng.randrange(0, 5000)
        rows[(day, "github_total", "all", "stars")] = rng.randrange(0, 10**6)
        rows[(day, "scholar", "AbCdEfGhIjK", "citations")] = rng.randrange(0, 10**5)
    return history.render_csv(rows)


PAST = [f"2026-0{m}-{d:02d}" for m in (1, 2) for d in range(1, 29)]
TODAY_RESULTS = results_for(
    {
        ("github", "lab0/repo-0000"): {"stars": 7, "forks": 1},
        ("github", "lab1/repo-0001"): {"stars": 12},
        ("github_total", "all"): {"stars": 12345},
        ("scholar", "AbCdEfGhIjK"): {"citations": 999, "h_index": 12},
        ("github", "Ünïcode/repo, with comma"): {"stars": 3},
    }
)

CASES = {
    "empty": b"",
    "header only": b"date,source,item,metric,value\n",
    "many days": written(PAST, 120),
    "many days, today already run": written([*PAST, DAY], 120),
    "a later day present": written([*PAST, DAY, "2026-03-11"], 40),
    "malformed rows at the end": written(PAST, 60)
    + b"23/11/2026,github,lab0/repo-0000,stars,3\n2026-01-05,github,lab0/repo-0000,stars,12k\nonly,three,fields\n",
    "malformed rows in the middle": written(PAST[:20], 60)
    + b"2026-02-30,github,x/y,stars,1\n\n   \n"
    + written(PAST[20:], 60).split(b"\n", 1)[1],
    "a BOM and CRLF": b"\xef\xbb\xbf" + written(PAST[:3], 5).replace(b"\n", b"\r\n"),
    "a BOM only": b"\xef\xbb\xbf" + written(PAST[:3], 5),
    "no header": written(PAST[:10], 30).split(b"\n", 1)[1],
    "rows out of order": written(PAST[10:20], 30) + written(PAST[:10], 30).split(b"\n", 1)[1],
    "a duplicate row, the last wins": written(PAST[:10], 30) + b"2026-01-03,github,lab0/repo-0000,stars,1\n",
    "a duplicate in order": b"date,source,item,metric,value\n2026-01-01,a,b,c,1\n2026-01-01,a,b,c,2\n2026-01-02,a,b,c,3\n",
    "quoted fields, leading zeros, spaces": b"date,source,item,metric,value\n"
    b'2026-01-01,github,"a,b",stars,5\n2026-01-01,github,a b,stars,007\n2026-01-02,"github",x/y,stars,4\n',
    "the header again in the middle": written(PAST[:5], 10) + b"date,source,item,metric,value\n" + written(PAST[5:9], 10),
    "non-ASCII and a space in a name": written(PAST[:30], 20)
    + "2026-02-01,github,Ünïcode/x,stars,4\n2026-02-01,github,a b,stars,5\n".encode(),
    "prefix field below the comma": b"date,source,item,metric,value\n2026-01-01,github,a,stars,1\n2026-01-02,github,a,stars,2\n"
    b"2026-01-01,github,a b,stars,3\n",
    "an invalid date in the written form": written(PAST[:10], 30) + b"2026-02-30,github,x/y,stars,1\n" + written(PAST[10:12], 3),
    "a line longer than a chunk": b"date,source,item,metric,value\n2026-01-01,github," + b"x" * 100_000 + b",stars,1\n"
    + written(PAST[1:3], 3).split(b"\n", 1)[1],
    "no newline at the end": written(PAST[:4], 10).rstrip(b"\n"),
    "form feed and line separator": "date,source,item,metric,value\n2026-01-01,a,b\x0cc,m,1\n2026-01-02,a,b\u2028c,m,2\n".encode(),
    "invalid UTF-8": b"date,source,item,metric,value\n2026-01-01,a,\xff\xfe,m,1\n2026-01-02,a,b,m,2\n",
}


@pytest.mark.parametrize("chunk", [history._CHUNK, 1000])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_same_bytes_as_the_whole_file_implementation_and_the_reference(
    case: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "_CHUNK", chunk)  # small chunks: many chunk borders in each file
    previous = CASES[case]
    got = history.update(previous, TODAY_RESULTS, DAY).data
    assert got == history.render_csv(history.updated(previous, TODAY_RESULTS, DAY))
    assert got == reference(previous, flat(DAY, TODAY_RESULTS))


def test_random_files_give_the_same_bytes() -> None:
    rng = random.Random(14)
    pieces = [
        written(PAST[:8], 7, seed=2),
        b"2026-01-04,github,lab0/repo-0000,stars,5\n",
        b"2026-03-10,github,lab0/repo-0000,stars,5\n",
        b"2026-03-12,github,lab0/repo-0000,stars,5\n",
        b"bad,row\n",
        b"2026-13-01,a,b,c,1\n",
        b"\n",
        b'2026-01-01,"q,q",i,m,1\n',
        b"2026-01-01,a,b,c,01\n",
        "2026-01-09,é,b,c,1\n".encode(),
    ]
    for _ in range(200):
        previous = b"".join(rng.choice(pieces) for _ in range(rng.randrange(1, 6)))
        got = history.update(previous, TODAY_RESULTS, DAY).data
        assert got == reference(previous, flat(DAY, TODAY_RESULTS)), previous


def test_the_last_run_of_the_day_wins_and_earlier_days_stay() -> None:
    first = history.update(written(PAST, 10), results_for({("github", "a/b"): {"stars": 1, "forks": 2}}), DAY).data
    second = history.update(first, results_for({("github", "a/b"): {"stars": 3}}), DAY).data
    lines = second.decode().splitlines()
    assert f"{DAY},github,a/b,stars,3" in lines and f"{DAY},github,a/b,stars,1" not in lines
    assert f"{DAY},github,a/b,forks,2" in lines  # not answered by the second run: the first run's row stays
    assert second.startswith(written(PAST, 10))  # the earlier days, byte for byte


def test_only_fresh_values_become_rows() -> None:
    results = [
        ItemResult(source="github", item="ok/one", status="ok", metrics={"stars": 5, "forks": 1}, kept={"forks": None}),
        ItemResult(source="github", item="stale/one", status="stale", metrics={"stars": 9}),
        ItemResult(source="github", item="error/one", status="error"),
    ]
    data = history.update(written(PAST[:2], 3), results, DAY).data
    today = [line for line in data.decode().splitlines() if line.startswith(DAY)]
    assert today == [f"{DAY},github,ok/one,stars,5"]


def test_malformed_rows_are_kept_verbatim_and_warned_about_once_with_their_line(caplog: pytest.LogCaptureFixture) -> None:
    good = written(PAST, 60)  # several read chunks before the bad rows
    previous = good + b"23/11/2026,github,x/y,stars,3\n"
    caplog.set_level(logging.WARNING, logger="statsbot.history")
    first = history.update(previous, TODAY_RESULTS, DAY).data
    history.update(previous, TODAY_RESULTS, DAY)  # the same file read again in the same process
    assert first.endswith(b"\n23/11/2026,github,x/y,stars,3\n")
    line = good.count(b"\n") + 1
    warnings = [r.getMessage() for r in caplog.records if "skipped a malformed row" in r.getMessage()]
    assert warnings == [
        f"history.csv:{line}: skipped a malformed row (the date '23/11/2026' is not YYYY-MM-DD): 23/11/2026,github,x/y,stars,3"
    ]
    again = history.update(first, TODAY_RESULTS, DAY).data
    assert again == first  # kept where it was, at the end, run after run


def test_the_charted_series_are_exactly_what_the_rows_say() -> None:
    for case in ("many days", "many days, today already run", "rows out of order", "malformed rows at the end"):
        previous = CASES[case]
        wanted = {("github_total", "all", "stars"), ("scholar", "AbCdEfGhIjK", "citations"), ("github", "nobody/nothing", "stars")}
        got = history.update(previous, TODAY_RESULTS, DAY, wanted)
        old_rows = history.parse(previous)
        new_rows = history.updated(previous, TODAY_RESULTS, DAY)
        expected_old = {name: history.series(old_rows, *name) for name in wanted}
        expected_new = {name: history.series(new_rows, *name) for name in wanted}
        assert got.old == {k: v for k, v in expected_old.items() if v}, case
        assert got.new == {k: v for k, v in expected_new.items() if v}, case
        assert ("github", "nobody/nothing", "stars") not in got.new
        assert got.new[("github_total", "all", "stars")][-1] == (DAY, 12345)


def test_many_charted_series_are_read_as_well() -> None:
    previous = CASES["many days"]
    wanted = {("github", f"lab{n % 5}/repo-{n:04d}", "stars") for n in range(100)}  # more than one pattern holds
    got = history.update(previous, TODAY_RESULTS, DAY, wanted)
    rows = history.updated(previous, TODAY_RESULTS, DAY)
    assert got.new == {name: history.series(rows, *name) for name in wanted}
    assert got.new[("github", "lab0/repo-0000", "stars")][-1] == (DAY, 7)
