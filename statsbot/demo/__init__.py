"""`statsbot demo`: the whole pipeline, offline, against bundled Scholar pages on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from statsbot.config import Config, LoadedConfig
from statsbot.demo.server import FakeScholar, demo_profile
from statsbot.settings import OutputConfig
from statsbot.sources.scholar.config import ScholarConfig


def run_demo(output_dir: Path):  # type: ignore[no-untyped-def]
    """Serve the bundled profile on 127.0.0.1, run the real pipeline against it.

    Returns the run's report and the number of requests the server answered.
    """
    from statsbot.runner import run

    profile = demo_profile()
    with FakeScholar([profile]) as fake:
        config = Config(
            scholar=ScholarConfig(id=profile["scholar_id"], base_url=fake.url, page_delay_seconds=0, deadline_seconds=30),
            output=OutputConfig(dir=str(output_dir)),
        )
        loaded = LoadedConfig(config=config, path=None, base_dir=Path.cwd())
        report = run(loaded, output_dir)
        return report, len(fake.paths)
