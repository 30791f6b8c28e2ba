"""Google Scholar profiles, through an ordered chain of fetchers.

`[scholar] fetchers` (default ``["direct"]``) names the ways to get a profile, tried in
turn until one succeeds: ``direct`` (Scholar's pages from this machine or a proxy),
``scraperapi`` (the same pages through ScraperAPI), ``serpapi`` (SerpApi's Author API).
A fetcher that is not configured (no key) is skipped with one line; a paid one is not
called while the published profile is younger than `min_interval_hours`; each one gets
a share of the Scholar deadline (what is left, split over the fetchers still to try).
The profile records which fetcher produced it (`via`).

Layout, one module a job (as httpx's transports): `base.py` the `Fetcher` interface;
`direct.py`, `scraperapi.py`, `serpapi.py` its implementations; `chain.py` runs them in
turn (`fetch_profile`); `pages.py` Scholar's pages read with scholarly's parsers (shared
by direct and ScraperAPI); `profile.py` the profile model every fetcher returns;
`config.py` the `[scholar]` section; `source.py` the `Source` the runner sees. Nothing is
imported here, so reading the config does not load httpx or scholarly.
"""
