"""Draws the tool parser's streaming cost against argument size from `tool_parser_bench.py --json`.

    python bench/tool_parser_bench.py --json bench/tool_parser_cost.json     # measure (needs vLLM)
    python bench/plot_tool_parser.py bench/tool_parser_cost.json docs/tool_parser_cost.png

Plots the time to stream one call against the size of its string argument for `tool_parser` and for
vLLM's `lfm2` parser, on log-log axes with a linear and a quadratic guide through each first point,
so the slopes read directly. Only the measured figures in the JSON are drawn. Needs matplotlib (not a
dependency of the gateway: install it wherever you run this).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def draw(data: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = data["rows"]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    series = [("ours_s", "tool_parser (this repository)", "#1f77b4"), ("vllm_s", "vLLM 0.32 lfm2 parser", "#d62728")]
    for key, label, color in series:
        points = [(r["kb"], r[key]) for r in rows if r.get(key)]
        if not points:
            continue
        kb, seconds = zip(*points, strict=True)
        ax.plot(kb, [s * 1000 for s in seconds], "o-", color=color, label=label, linewidth=2)
        k0, s0 = points[0]
        guide = [k0, kb[-1]]
        power = 1 if key == "ours_s" else 2
        ax.plot(guide, [s0 * 1000 * (k / k0) ** power for k in guide], ":", color=color, alpha=0.6,
                label=f"∝ size{'²' if power == 2 else ''} (guide)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("string argument size (KB)")
    ax.set_ylabel("time to stream one call (ms)")
    ax.set_title(f"Streaming parse cost, {data['delta_chars']}-character deltas", fontsize=11)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="upper left")
    fig.text(0.01, 0.01, f"measured {data['date']}: {data['machine'][:90]}", fontsize=6, alpha=0.7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("figures", help="the JSON that tool_parser_bench.py --json wrote")
    cli.add_argument("png", help="where to write the plot")
    args = cli.parse_args()
    draw(json.loads(Path(args.figures).read_text()), Path(args.png))
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
