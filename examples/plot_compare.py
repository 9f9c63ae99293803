#!/usr/bin/env python3
"""Draw the four-market comparison figure from `aimarket compare --trajectories` output.

For users who style their own figures: reads trajectories.csv (one row per scenario, quantity
and month) and draws, per market, the base and scenario HHI trajectories with 95 % confidence
bands (top row) and the paired difference scenario - base with its band (bottom row), in the
Okabe-Ito palette. Needs pandas and matplotlib:

    pip install pandas matplotlib
    aimarket compare configs/baseline.toml configs/scenarios/eu_data_act.toml --trajectories
    python3 examples/plot_compare.py outputs/compare --out compare.pdf

Any matplotlib format works (.pdf, .svg, .png). `--quantities` picks other columns of the
catalogue (e.g. `switching_rate rent.azure`). The `aimarket plot` command draws the same figure
without Python.
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442"]
MARKETS = ["hhi_cloud", "hhi_ai_channel", "hhi_model", "hhi_compute"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="output directory of aimarket compare --trajectories")
    ap.add_argument("--out", type=Path, default=None, help="figure file (default DIR/compare.pdf)")
    ap.add_argument("--quantities", nargs="+", default=MARKETS, help="quantities, one column each")
    args = ap.parse_args()

    path = args.dir / "trajectories.csv"
    if not path.exists():
        raise SystemExit(f"{path} not found: re-run aimarket compare with --trajectories")
    t = pd.read_csv(path, parse_dates=["date"])
    manifest = args.dir / "manifest.json"
    base = json.loads(manifest.read_text())["base"]["label"] if manifest.exists() else "base"
    scenarios = list(dict.fromkeys(t["scenario"]))
    unknown = [q for q in args.quantities if q not in set(t["quantity"])]
    if unknown:
        raise SystemExit(f"unknown quantities {unknown}; valid: {', '.join(dict.fromkeys(t['quantity']))}")

    n = len(args.quantities)
    fig, axes = plt.subplots(2, n, figsize=(4.2 * n, 6.4), sharex=True, squeeze=False)
    for j, q in enumerate(args.quantities):
        top, bottom = axes[0][j], axes[1][j]
        for i, s in enumerate(scenarios):
            d = t[(t["scenario"] == s) & (t["quantity"] == q)].sort_values("tick")
            colour = OKABE_ITO[i % len(OKABE_ITO)]
            if i == 0:  # the base, from the first scenario's pairs
                top.fill_between(d["date"], d["base_ci_low"], d["base_ci_high"], color="black", alpha=0.12, lw=0)
                top.plot(d["date"], d["base_mean"], color="black", lw=1.6, label=base)
            top.fill_between(d["date"], d["scenario_ci_low"], d["scenario_ci_high"], color=colour, alpha=0.2, lw=0)
            top.plot(d["date"], d["scenario_mean"], color=colour, lw=1.6, label=s)
            bottom.fill_between(d["date"], d["delta_ci_low"], d["delta_ci_high"], color=colour, alpha=0.2, lw=0)
            bottom.plot(d["date"], d["delta"], color=colour, lw=1.6)
        bottom.axhline(0, color="0.5", lw=0.8)
        top.set_title(q)
        bottom.set_title(f"Δ {q} (scenario − base)")
        if j == 0:
            top.set_ylabel("HHI (0–10,000)" if q.startswith("hhi_") else q)
            bottom.set_ylabel("paired difference")
        for ax in (top, bottom):
            locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            ax.grid(color="0.9")
            ax.spines[["top", "right"]].set_visible(False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    reps = int(t["replicates"].max())
    fig.suptitle(f"{', '.join(scenarios)} vs {base} — {reps} paired replicates, bands: 95% CI")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    out = args.out or args.dir / "compare.pdf"
    fig.savefig(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
