"""Counts formatted the way shields.io formats them (950, 1.2k, 12k, 1.2M)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statsbot.badges import format_count

# Expected values from shields.io's own tests of its `metric` formatter.
SHIELDS_CASES = {
    0: "0", 999: "999", 1000: "1k", 1100: "1.1k", 10100: "10k", 999499: "999k", 999500: "1M",
    1100000: "1.1M", 1578896212: "1.6G", 20000000000: "20G", 15788962120: "16G",
    9949999999999: "9.9T", 9950000000001: "10T", 4000000000000001: "4P", 4200000000000001: "4.2P",
    7100700010058000200: "7.1E", 71007000100580002000: "71E", 1000000000000000000000: "1Z",
    1100000000000000000000: "1.1Z", 2222222222222222222222222: "2.2Y", 22222222222222222222222222: "22Y",
    -999: "-999", -1000: "-1k", -1100: "-1.1k", -999500: "-1M",
}


@pytest.mark.parametrize("n, expected", SHIELDS_CASES.items())
def test_shields_own_examples(n, expected):
    assert format_count(n) == expected


@pytest.mark.parametrize("n, expected", [(950, "950"), (1234, "1.2k"), (12345, "12k"), (1_234_567, "1.2M")])
def test_the_issue_examples(n, expected):
    assert format_count(n) == expected


def test_rounding_matches_javascript_on_exact_halves():
    """JavaScript's toFixed and Math.round round exact halves up; Python's round() would not."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    numbers = [1050, 1150, 1250, 1450, 2450, 9950, 10500, 12500, 999500, 1_050_000, 2_500_000, 123_456_789]
    numbers += list(range(1000, 200_000, 37))
    script = (
        "const ns = JSON.parse(process.argv[1]); const out = {};"
        "for (const n of ns) { let p = 0; while (p < 8 && n >= 1000 ** (p + 1)) p++;"
        "  const s = n / 1000 ** p; out[n] = [p, s.toFixed(1), Math.round(s)]; }"
        "process.stdout.write(JSON.stringify(out));"
    )
    result = subprocess.run([node, "-e", script, json.dumps(numbers)], capture_output=True, text=True, check=True, timeout=30)
    javascript = json.loads(result.stdout)
    for n in numbers:
        power, one_decimal, rounded = javascript[str(n)]
        unit = " kMGTPEZY"[power].strip()
        if power and float(one_decimal) < 10 and not one_decimal.endswith(".0"):
            expected = f"{one_decimal}{unit}"
        elif rounded < 1000:
            expected = f"{rounded}{unit}"
        else:
            expected = "1" + "kMGTPEZY"[power]
        assert format_count(n) == expected, n


@given(st.integers(min_value=0, max_value=10**27))
def test_any_count_gives_a_short_message(n):
    text = format_count(n)
    assert 1 <= len(text) <= 5
    if n < 1000:
        assert text == str(n)
    else:
        assert text[-1] in "kMGTPEZY" and float(text[:-1]) > 0


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text()
)


@given(st.dictionaries(st.text(), _scalars, max_size=12))
def test_flat_objects_are_spelt_exactly_as_json_dumps_spells_them(data):
    """jsonio.dumps' fast path (a flat object of scalars) writes the same bytes as json.dumps."""
    from statsbot.jsonio import dumps

    assert dumps(data) == json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


@given(st.recursive(_scalars, lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)))
def test_any_document_is_spelt_as_json_dumps_spells_it(data):
    from statsbot.jsonio import dumps

    assert dumps(data) == json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
