"""The README's "Narrative dynamics" figures from a database `tracker dynamics` has run on.

Prints Markdown: the period and sources, the two links the tracker was built to answer
(AI doubt -> crypto, Fed easing -> crypto, and their reverses) per series and frequency,
their robustness table (each source dropped, each half, the placebo), every other lead
found, virality, and the stationarity tests. Only ids, labels and figures are printed (no
publisher text).

    .venv/bin/python eval/dynamics_real.py --db COPY.db [--note TEXT] > eval/dynamics_real.md
"""

from __future__ import annotations

import argparse
import json
import sqlite3

import pandas as pd

FOCUS = [("ai_productivity", "crypto_legitimacy"), ("fed_easing_liquidity", "crypto_legitimacy"),
         ("crypto_legitimacy", "ai_productivity"), ("crypto_legitimacy", "fed_easing_liquidity")]
COLUMNS = [("intensity", "daily"), ("intensity", "weekly"), ("stance", "daily"), ("stance", "weekly")]


def fmt_p(value: object) -> str:
    """A p-value in 3 significant digits ('-' when missing)."""
    return "-" if value is None or value != value else f"{float(value):.3g}"  # type: ignore[arg-type]


def missing(value: object) -> bool:
    """None or NaN."""
    return value is None or value != value


def main() -> None:
    """Print the Markdown."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--note", default="")
    parser.add_argument("--three", help="JSON of `tracker dynamics --json` on the question's three narratives")
    args = parser.parse_args()
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    rows = pd.read_sql_query("SELECT * FROM narrative_dynamics ORDER BY id", conn)
    labels = dict(conn.execute("SELECT id, label FROM narratives").fetchall())
    feeds = {f"drop:{i}": n for i, n in conn.execute("SELECT id, name FROM feeds")}
    scored = conn.execute("SELECT COUNT(DISTINCT feed_id), SUM(scored_articles) FROM source_daily "
                          "WHERE scored_articles > 0").fetchone()
    params = json.loads(rows["params"].iloc[0])
    out = []
    if args.note:
        out += [args.note, ""]
    out.append(f"Series {rows['first_day'].iloc[0]}..{rows['last_day'].iloc[0]} (covered days of the index), "
               f"{scored[1]:,} scored articles from {scored[0]} sources; models: {rows['model_version'].iloc[0]}; "
               f"lag order by {params['ic'].upper()} up to {params['max_lag']} days / {params['max_lag_weekly']} "
               f"weeks; {params['correction']} correction over the ordered pairs at alpha {params['alpha']}; "
               f"computed {rows['computed_at'].iloc[0]}.")
    out.append("")
    main_rows = rows[(rows["analysis"] == "granger") & (rows["variant"] == "all")]
    out.append("**What the data says** (all narratives tested, corrected over every ordered pair):")
    out.append("")
    for leader, follower in FOCUS:
        links = main_rows[(main_rows["leader"] == leader) & (main_rows["follower"] == follower)
                          & main_rows["p_value"].notna()]
        name = f"{labels.get(leader, leader)} -> {labels.get(follower, follower)}"
        if links.empty:
            out.append(f"- {name}: not testable on this database.")
            continue
        leads = links[links["significant"] == 1]
        if len(leads):
            out += [f"- {name}: lead found ({r['series']}, {r['frequency']}): {r['verdict']}."
                    for r in leads.to_dict("records")]
            continue
        best = links.sort_values("p_value").iloc[0]
        out.append(f"- {name}: no lead in the {len(links)} series tested (smallest: {best['series']}, "
                   f"{best['frequency']}, raw p = {fmt_p(best['p_value'])}, corrected "
                   f"{fmt_p(best['p_adjusted'])}).")
    out.append("")
    out += ["| link | series | n | stretch | lag order | lead at | p (raw) | p (corrected) | lead? |",
            "|---|---|---:|---|---:|---|---:|---:|---|"]
    untested = []
    for leader, follower in FOCUS:
        for series, frequency in COLUMNS:
            pick = main_rows[(main_rows["leader"] == leader) & (main_rows["follower"] == follower)
                             & (main_rows["series"] == series) & (main_rows["frequency"] == frequency)]
            if pick.empty:
                continue
            r = pick.iloc[0]
            if not r["n_obs"]:
                untested.append(f"{labels.get(leader, leader)} -> {labels.get(follower, follower)} "
                                f"({series}, {frequency}): {r['verdict']}")
                continue
            low, high = r["lag_low"], r["lag_high"]
            at = "-" if missing(low) else f"{int(low)}" if low == high else f"{int(low)}-{int(high)}"
            lag = "-" if r["lag"] != r["lag"] or r["lag"] is None else str(int(r["lag"]))
            lead = "too short" if missing(r["p_value"]) else "yes" if r["significant"] == 1 else "no"
            out.append(f"| {labels.get(leader, leader)} -> {labels.get(follower, follower)} | {series}, {frequency} "
                       f"| {r['n_obs']} | {r['pair_start']}..{r['pair_end']} | {lag} | {at} | {fmt_p(r['p_value'])} "
                       f"| {fmt_p(r['p_adjusted'])} | {lead} |")
    out.append("")
    if untested:
        out += ["Not tested (no values or too short):", ""] + [f"- {u}" for u in untested] + [""]
    if args.three:
        with open(args.three, encoding="utf-8") as handle:
            three = json.load(handle)
        out += [f"The same tests on the question's three narratives alone ({len(three['verdicts']) // 4} ordered "
                "pairs to correct over instead of "
                f"{len(main_rows) // 4}):", ""]
        for v in three["verdicts"]:
            if (v["leader"], v["follower"]) in FOCUS[:2] and v["p_value"] is not None:
                out.append(f"- {v['series']}, {v['frequency']}: {v['verdict']}")
        out.append("")
    out.append("Robustness of the two links (raw p-value of the same test with the main run's transforms "
               "and lag order; a lead holds at p < alpha; the placebo pairs the follower with a shuffled copy "
               "of the leader and should not hold):")
    out.append("")
    variants = rows[rows["analysis"] == "granger"]
    short = {"ai_productivity": "AI", "fed_easing_liquidity": "Fed", "crypto_legitimacy": "crypto"}
    header = ["variant"] + [f"{short.get(a, a)} -> {short.get(b, b)} {s} {f}" for a, b in FOCUS[:2] for s, f in COLUMNS]
    table = []
    names = ["all", "first_half", "second_half", "placebo",
             *sorted({v for v in variants["variant"] if v.startswith("drop:")}, key=lambda v: feeds.get(v, v))]
    for name in names:
        cells = []
        for a, b in FOCUS[:2]:
            for s, f in COLUMNS:
                pick = variants[(variants["variant"] == name) & (variants["leader"] == a) & (variants["follower"] == b)
                                & (variants["series"] == s) & (variants["frequency"] == f)]
                cells.append(fmt_p(pick.iloc[0]["p_value"]) if len(pick) else "-")
        shown = f"drop {feeds.get(name, name)}" if name.startswith("drop:") else name.replace("_", " ")
        if name == "all":
            shown = "main (all sources, whole period)"
        table.append([shown, *cells])
    keep = [0] + [i for i in range(1, len(header)) if any(row[i] != "-" for row in table)]
    out += ["| " + " | ".join(header[i] for i in keep) + " |", "|---" + "|---:" * (len(keep) - 1) + "|"]
    out += ["| " + " | ".join(row[i] for i in keep) + " |" for row in table]
    out.append("")
    others = main_rows[(main_rows["significant"] == 1)
                       & ~main_rows.apply(lambda r: (r["leader"], r["follower"]) in FOCUS, axis=1)]
    out.append(f"Other leads found ({len(others)} of {len(main_rows)} main tests, focus links excluded):")
    out.append("")
    for r in others.sort_values("p_adjusted").to_dict("records"):
        out.append(f"- {r['series']}, {r['frequency']}: {r['verdict']}")
    if others.empty:
        out.append("- none")
    out.append("")
    out += ["Virality (first stories: members after 7 quiet days, or a spike's first day):", "",
            "| narrative | episodes | sources within 1 day | 3 days | 7 days | half-life after a spike (days) |",
            "|---|---:|---:|---:|---:|---:|"]
    for r in rows[rows["analysis"] == "virality"].to_dict("records"):
        pct = ["-" if missing(r[c]) else f"{r[c]:.0%}" for c in ("spread_1d", "spread_3d", "spread_7d")]
        life = "-" if missing(r["half_life_days"]) else f"{r['half_life_days']:g}"
        out.append(f"| {labels.get(r['leader'], r['leader'])} | {int(r['episodes'])} | {' | '.join(pct)} | {life} |")
    out.append("")
    out += ["Stationarity (ADF: p < 0.05 rejects a unit root; KPSS: p > 0.05 does not reject stationarity; "
            "KPSS p-values are clipped to its table, 0.01..0.1):", "",
            "| narrative | series | frequency | transform | n | ADF p | KPSS p |", "|---|---|---|---|---:|---:|---:|"]
    for r in rows[rows["analysis"] == "stationarity"].to_dict("records"):
        out.append(f"| {labels.get(r['leader'], r['leader'])} | {r['series']} | {r['frequency']} | "
                   f"{r['leader_transform']} | {r['n_obs']} | {fmt_p(r['adf_p'])} | {fmt_p(r['kpss_p'])} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
