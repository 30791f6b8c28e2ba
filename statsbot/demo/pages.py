"""Google Scholar pages, rendered to the structure of the real site.

The demo server and the tests serve these so that scholarly's real parsers run on
realistic HTML: the profile page (header, stats table, citation histogram,
publication rows, the "show more" button) and the pages Google shows instead when
it blocks a client (captcha, DOS, "unusual traffic", cookie consent).

A profile is a plain dict, the shape of `profile.json` beside this file.
"""

from __future__ import annotations

from html import escape
from typing import Any

PAGE_SIZE = 100

_HEAD = """<!doctype html><html><head><title>{title} - Google Scholar</title>
<meta http-equiv="Content-Type" content="text/html;charset=utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="description" content="{title} - Cited by {citations}">
<link rel="canonical" href="https://scholar.google.com/citations?user={uid}&amp;hl=en">
<style>html,body{{font-family:Arial,sans-serif}}</style></head>"""


def render_profile(profile: dict[str, Any], cstart: int = 0, pagesize: int = PAGE_SIZE) -> str:
    """One profile page: publications `cstart` .. `cstart + pagesize` (as Scholar serves them)."""
    uid = profile["scholar_id"]
    stats = profile["stats"]
    pubs = profile["publications"]
    rows = pubs[cstart : cstart + pagesize]
    more_disabled = cstart + pagesize >= len(pubs)
    parts = [
        _HEAD.format(title=escape(profile["name"]), citations=stats["citations"], uid=escape(uid)),
        '<body><div id="gs_top"><div id="gsc_bdy"><div id="gsc_prf_w"><div id="gsc_prf">',
        _header(profile),
        '</div></div><div id="gsc_rsb">',
        _stats_table(profile),
        _histogram(profile.get("cites_per_year", {})),
        '</div><div id="gsc_art"><form method="post" action="/citations?hl=en&amp;user='
        f'{escape(uid)}" id="citationsForm"><table id="gsc_a_t"><thead><tr id="gsc_a_tr0">'
        '<th class="gsc_a_t"><span id="gsc_a_nn">Title</span></th><th class="gsc_a_c">'
        '<a href="javascript:void(0)" class="gsc_a_a">Cited by</a></th><th class="gsc_a_y">'
        '<span class="gsc_a_h gsc_a_x">Year</span></th></tr></thead><tbody id="gsc_a_b">',
    ]
    parts.extend(_row(uid, pub) for pub in rows)
    if not rows:
        parts.append('<tr class="gsc_a_e"><td class="gsc_a_e" colspan="3">There are no articles in this profile.</td></tr>')
    parts.append(
        '</tbody></table></form><div id="gsc_lwp"><div id="gsc_a_sp"></div><div id="gsc_bpf">'
        '<button type="button" id="gsc_bpf_more" class="gs_btnPR gs_in_ib gs_btn_flat gs_btn_lrge gs_btn_lsu"'
        + (' disabled=""' if more_disabled else "")
        + '><span class="gs_wr"><span class="gs_ico"></span><span class="gs_lbl">Show more</span></span>'
        '</button></div></div></div></div></div></body></html>'
    )
    return "".join(parts)


def _header(profile: dict[str, Any]) -> str:
    uid = escape(profile["scholar_id"])
    picture = profile.get("picture") or "/citations/images/avatar_scholar_128.png"
    org = profile.get("organization")
    affiliation = escape(profile.get("affiliation", ""))
    if org is not None:
        affiliation = (
            f'<a href="/citations?view_op=view_org&amp;hl=en&amp;org={int(org)}" class="gsc_prf_ila">{affiliation}</a>'
        )
    email = profile.get("email_domain")
    verified = f"Verified email at {escape(email)}" if email else "No verified email"
    homepage = profile.get("homepage")
    if homepage:
        verified += f' - <a href="{escape(homepage)}" rel="nofollow" class="gsc_prf_ila">Homepage</a>'
    interests = "".join(
        '<a href="/citations?view_op=search_authors&amp;hl=en&amp;mauthors=label:'
        f'{escape(i.lower().replace(" ", "_"))}" class="gsc_prf_inta gs_ibl">{escape(i)}</a>'
        for i in profile.get("interests", [])
    )
    return (
        f'<div id="gsc_prf_pu"><a href="javascript:void(0)" id="gsc_prf_pua"><img alt="{escape(profile["name"])}" '
        f'sizes="128px" src="{escape(picture)}" id="gsc_prf_pup-img"></a></div>'
        f'<div id="gsc_prf_i"><div id="gsc_prf_in">{escape(profile["name"])}</div>'
        f'<div class="gsc_prf_il">{affiliation}</div>'
        f'<div class="gsc_prf_il" id="gsc_prf_ivh">{verified}</div>'
        f'<div class="gsc_prf_il" id="gsc_prf_int">{interests}</div></div>'
        f'<input type="hidden" name="user" value="{uid}">'
    )


def _stats_table(profile: dict[str, Any]) -> str:
    stats = profile["stats"]
    since = profile.get("since_year", 2021)
    rows = [
        ("Citations", stats["citations"], stats["citations_5y"]),
        ("h-index", stats["h_index"], stats["h_index_5y"]),
        ("i10-index", stats["i10_index"], stats["i10_index_5y"]),
    ]
    body = "".join(
        f'<tr><td class="gsc_rsb_sc1"><a href="javascript:void(0)" class="gsc_rsb_f gs_ibl">{name}</a></td>'
        f'<td class="gsc_rsb_std">{all_time}</td><td class="gsc_rsb_std">{recent}</td></tr>'
        for name, all_time, recent in rows
    )
    return (
        '<div class="gsc_rsb_s gsc_prf_pnl" id="gsc_rsb_cit"><div class="gsc_rsb_sth">Cited by</div>'
        '<table id="gsc_rsb_st"><thead><tr><th class="gsc_rsb_sth"></th><th class="gsc_rsb_sth">All</th>'
        f'<th class="gsc_rsb_sth">Since {since}</th></tr></thead><tbody>{body}</tbody></table>'
    )


def _histogram(cites_per_year: dict[str, int]) -> str:
    years = sorted(cites_per_year, key=int)
    if not years:
        return "</div>"
    top = max(cites_per_year.values()) or 1
    labels = "".join(
        f'<span class="gsc_g_t" style="right:{32 * (len(years) - 1 - i) + 17}px">{year}</span>'
        for i, year in enumerate(years)
    )
    bars = "".join(
        f'<a href="javascript:void(0)" class="gsc_g_a" style="left:{32 * i + 9}px;height:'
        f'{max(1, round(80 * cites_per_year[year] / top))}px;z-index:{len(years) - i}">'
        f'<span class="gsc_g_al">{cites_per_year[year]}</span></a>'
        for i, year in enumerate(years)
        if cites_per_year[year]
    )
    return (
        f'<div class="gsc_md_hist_w"><div class="gsc_md_hist_b">{labels}{bars}'
        '</div></div></div>'
    )


def _row(uid: str, pub: dict[str, Any]) -> str:
    author_pub_id = f"{uid}:{pub['pub_id']}"
    citations = pub.get("citations")
    cites = pub.get("cites") or []
    if citations:
        cited = (
            f'<a href="https://scholar.google.com/scholar?oi=bibs&amp;hl=en&amp;cites={",".join(cites)}" '
            f'class="gsc_a_ac gs_ibl">{citations}</a>'
        )
        if len(cites) > 1:
            cited += '<span class="gsc_a_m">*</span>'
    else:
        cited = '<a href="javascript:void(0)" class="gsc_a_ac gs_ibl gsc_a_acm"></a>'
    year = pub.get("year")
    venue = escape(pub.get("venue", ""))
    if year:
        venue += f'<span class="gs_oph">, {year}</span>'
    return (
        '<tr class="gsc_a_tr"><td class="gsc_a_t">'
        f'<a href="/citations?view_op=view_citation&amp;hl=en&amp;user={escape(uid)}&amp;pagesize=100&amp;'
        f'citation_for_view={escape(author_pub_id)}" class="gsc_a_at">{escape(pub["title"])}</a>'
        f'<div class="gs_gray">{escape(pub.get("authors", ""))}</div><div class="gs_gray">{venue}</div></td>'
        f'<td class="gsc_a_c">{cited}</td>'
        f'<td class="gsc_a_y"><span class="gsc_a_h gsc_a_hc gs_ibl">{year or ""}</span></td></tr>'
    )


# ----------------------------------------------------------------- blocking pages


def captcha_page() -> str:
    return (
        "<!doctype html><html><head><title>Google Scholar</title></head><body>"
        '<div id="gs_captcha_f"><h1>Please show you&#39;re not a robot</h1>'
        '<form method="post" id="gs_captcha_f_form"><div id="gs_captcha_c"><div id="recaptcha"></div></div>'
        '<div id="gs_captcha_ccl"></div></form></div></body></html>'
    )


def dos_page() -> str:
    return (
        "<!doctype html><html><head><title>Google Scholar</title></head><body>"
        '<div class="rc-doscaptcha-body"><div class="rc-doscaptcha-header">Try again later</div>'
        '<div class="rc-doscaptcha-body-text">Your computer or network may be sending automated queries. '
        "To protect our users, we can&#39;t process your request right now.</div></div></body></html>"
    )


def sorry_page() -> str:
    return (
        "<html><head><meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\">"
        "<title>https://scholar.google.com/citations</title></head><body><div>"
        '<form id="captcha-form" action="index" method="post">'
        '<div class="g-recaptcha" data-sitekey="x"></div></form><hr noshade size="1">'
        "<b>About this page</b><br><br>Our systems have detected unusual traffic from your computer network. "
        "This page checks to see if it&#39;s really you sending the requests, and not a robot."
        "</div></body></html>"
    )


def unusual_traffic_page() -> str:
    """The plain-text variant of the "sorry" page, without its captcha form."""
    return (
        "<html><head><title>Sorry...</title></head><body><h1>We're sorry...</h1>"
        "<p>... but your computer or network may be sending automated queries. Our systems have detected "
        "unusual traffic from your computer network. To protect our users, we can't process your "
        "request right now.</p></body></html>"
    )


def consent_page() -> str:
    return (
        '<!doctype html><html lang="en"><head><title>Before you continue to Google</title></head><body>'
        "<h1>Before you continue to Google</h1><p>We use cookies and data to deliver and maintain Google "
        'services.</p><form action="https://consent.google.com/save" method="POST">'
        '<input type="hidden" name="set_eom" value="true"><button>Reject all</button>'
        "<button>Accept all</button></form></body></html>"
    )


def not_found_page() -> str:
    return "<!doctype html><html><head><title>Error 404 (Not Found)</title></head><body><p>404.</p></body></html>"
