"""The city map as a picture: each city a point at its latitude/longitude, coloured by its
noisy mean score and sized by its noisy count; suppressed cities as small grey rings
(where a city is, is public). No map tiles, no network: matplotlib's Agg backend only."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from openscore.fairness.charts import _pyplot, save_figure

if TYPE_CHECKING:
    from openscore.privacy.city_map import CityMapRelease


def map_chart(release: CityMapRelease, directory: Path, *, title: str) -> dict[str, str]:
    plt = _pyplot()
    t = release.table
    shown, hidden = t[t["published"]], t[~t["published"]]
    fig, ax = plt.subplots(figsize=(8, 7))
    ax.scatter(
        hidden["longitude"],
        hidden["latitude"],
        s=10,
        facecolors="none",
        edgecolors="#b0b0b0",
        linewidths=0.6,
        label=f"suppressed (noisy count < {release.k}): {len(hidden)}",
    )
    if len(shown):
        people = shown["people"].astype(float).to_numpy()
        sizes = 8 + 120 * np.sqrt(people / max(people.max(), 1.0))
        points = ax.scatter(
            shown["longitude"],
            shown["latitude"],
            c=shown["mean_score"].astype(float),
            s=sizes,
            cmap="RdYlGn",
            vmin=500,
            vmax=700,
            edgecolors="#333333",
            linewidths=0.3,
            label=f"published: {len(shown)}",
        )
        bar = fig.colorbar(points, ax=ax, shrink=0.75, extend="both")
        bar.set_label("mean score (with DP noise)")
    lat = float(np.nanmean(t["latitude"])) if len(t) else 0.0
    ax.set_aspect(1 / max(math.cos(math.radians(lat)), 0.2))  # degrees of longitude shrink
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.grid(True, linewidth=0.3, alpha=0.5)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title, fontsize=10)
    return save_figure(fig, directory, "map", tight=True)
