"""Draw docs/topology.png, the deployment picture of the README: `python docs/topology.py`."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

OUT = Path(__file__).with_name("topology.png")
BLUE, GREEN, RED, GREY, ORANGE = "#dbe9f6", "#dff2e1", "#f9e0dc", "#eeeeee", "#fdebd0"


def box(ax, x: float, y: float, w: float, h: float, title: str, sub: str, color: str) -> None:
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                fc=color, ec="#555555", lw=1.2))
    ax.text(x + w / 2, y + h * 0.64, title, ha="center", va="center", fontsize=11,
            weight="bold")
    ax.text(x + w / 2, y + h * 0.3, sub, ha="center", va="center", fontsize=8.2,
            color="#333333")


def arrow(ax, a: tuple[float, float], b: tuple[float, float], label: str = "",
          both: bool = False, dy: float = 0.12, style: str = "-") -> None:
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="<|-|>" if both else "-|>",
                                 mutation_scale=12, lw=1.1, color="#444444", linestyle=style))
    if label:
        ax.text((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + dy, label, ha="center", va="bottom",
                fontsize=7.6, color="#222222")


def main() -> None:
    fig, ax = plt.subplots(figsize=(12, 6.2), dpi=110)
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 6.2)
    ax.axis("off")

    box(ax, 0.2, 2.6, 1.7, 1.0, "browsers", "page: websocket\nfirst, polling fallback",
        GREY)
    box(ax, 2.6, 2.6, 1.8, 1.0, "nginx", "deploy/nginx.conf\nleast_conn / ip_hash", ORANGE)
    for i, y in enumerate((4.3, 2.6, 0.9)):
        title = "web ×N" if i == 2 else f"web {i + 1}"
        box(ax, 5.1, y, 1.9, 1.0, title, "digitflow web\ngunicorn gevent, 1 proc", BLUE)
        arrow(ax, (4.4, 3.1), (5.1, y + 0.5), both=True)
    box(ax, 7.8, 2.5, 1.6, 1.2, "Redis", "broker · results ·\nSocket.IO queue ·\nbatches",
        RED)
    for y in (4.8, 3.1, 1.4):
        arrow(ax, (7.0, y), (7.8, 3.1), both=True)
    for i, y in enumerate((4.6, 3.0)):
        box(ax, 10.1, y, 1.7, 1.0, "worker ×M" if i else "worker",
            "digitflow worker\nqueues live, batch", GREEN)
        arrow(ax, (10.1, y + 0.5), (9.4, 3.1), both=True)
    box(ax, 10.1, 1.4, 1.7, 1.0, "trainer", "digitflow trainer\nqueue training", GREEN)
    arrow(ax, (10.1, 1.9), (9.4, 3.0), both=True)
    box(ax, 7.8, 0.2, 1.6, 1.0, "model store", "MODEL_STORE\ns3:// or NFS", GREY)
    arrow(ax, (10.9, 1.4), (9.4, 0.7), style="--")
    arrow(ax, (10.4, 3.0), (9.25, 1.2), style="--")
    arrow(ax, (6.05, 0.9), (7.8, 0.7), style="--")

    arrow(ax, (1.9, 3.1), (2.6, 3.1), "HTTP +\nwebsocket", both=True, dy=0.15)
    ax.text(6.05, 5.75, "web tier: holds the connections", ha="center", fontsize=9,
            style="italic")
    ax.text(10.95, 5.75, "workers: hold the model", ha="center", fontsize=9, style="italic")
    ax.text(0.2, 0.45, "solid: requests, tasks, events (all through Redis)\n"
                       "dashed: model files (read by workers and web, written by the trainer)",
            fontsize=8, color="#333333")
    fig.tight_layout()
    fig.savefig(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
