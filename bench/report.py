"""The benchmark's table (markdown, for the terminal and the README) and its chart (bench/chart.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FLOOR = "bare Starlette"


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    r = a / b
    return f"{r:.2f}" if r < 10 else f"{r:.0f}"


def _short(name: str) -> str:
    """A target's name for a ratio's column: "Prism" for "Prism (OpenAI spec)"; other mockai trees whole."""
    return name if name.startswith("mockai") else name.split(" (")[0]


def header(results: dict[str, Any]) -> str:
    m = results["machine"]
    load = f"load average {m['load_average_at_start']:.1f} at start"
    if "load_average_at_end" in m:
        load += f", {m['load_average_at_end']:.1f} at end"
    return (
        f"mockai {m['mockai']} benchmark, {m['date']}: {m['cpu']}, {m['cores']} cores, {m['os']}, "
        f"Python {m['python']} ({load}).\n"
        "Every figure is from this one run, the median of its repeats; "
        "every comparison is a ratio of two such figures."
    )


def throughput_table(servers: dict[str, Any]) -> list[str]:
    from throughput import SCENARIOS

    targets: dict[str, dict[str, Any]] = servers["targets"]
    mockai = targets.get("mockai", {})
    floor = targets.get(FLOOR, {})
    others = [name for name in targets if name not in ("mockai", FLOOR)]
    lines = [
        f"### 1. Server throughput, requests/s ({servers['generator']}, 1 thread, "
        f"{servers['connections']} connections, "
        f"{servers['seconds']:.0f} s a run, median of {servers['rounds']} rounds)",
        "",
        "| "
        + " | ".join(
            [
                "scenario",
                "mockai",
                "bare Starlette (floor)",
                "mockai / floor",
                *(c for o in others for c in (o, f"mockai / {_short(o)}")),
            ]
        )
        + " |",
        "|---|---:|---:|---:|" + "---:|---:|" * len(others),
    ]
    notes = []
    for scenario, label in SCENARIOS.items():
        m = mockai.get(scenario, {}).get("rps")
        f = floor.get(scenario, {}).get("rps")
        row = [label, _n(m) if m else "-", _n(f) if f else "-", _ratio(m, f)]
        for o in others:
            entry = targets[o].get(scenario, {})
            rps = entry.get("rps")
            row += [_n(rps) if rps else "n/a", _ratio(m, rps)]
            for key in ("skipped", "note"):
                if entry.get(key):
                    notes.append(f"{o}, {label}: {entry[key]}")
            if entry.get("errors"):
                notes.append(f"{o}, {label}: {entry['errors']} failed requests")
        if mockai.get(scenario, {}).get("errors"):
            notes.append(f"mockai, {label}: {mockai[scenario]['errors']} failed requests")
        lines.append("| " + " | ".join(row) + " |")
    for name, why in servers.get("skipped", {}).items():
        notes.append(f"{name} skipped: {why}")
    lines += [""] + [f"- {n}" for n in notes] if notes else []
    return lines


def streaming_table(servers: dict[str, Any]) -> list[str]:
    targets = servers["targets"]
    m = targets.get("mockai", {}).get("stream", {})
    f = targets.get(FLOOR, {}).get("stream", {})
    lines = [
        "### 2. Streaming",
        "",
        "| measure | mockai | bare Starlette (floor) | mockai / floor |",
        "|---|---:|---:|---:|",
    ]
    lines.append(
        f"| chunks/s, no pacing ({m.get('events', 0)} chunks a stream) | {_n(m.get('chunks_per_s', 0))} | "
        f"{_n(f.get('chunks_per_s', 0))} | "
        f"{_ratio(m.get('chunks_per_s'), f.get('chunks_per_s'))} |"
    )
    p = servers.get("paced")
    if p:
        lines += [
            "",
            "| paced stream | asked tokens/s | measured tokens/s | asked / measured |",
            "|---|---:|---:|---:|",
            f"| {p['tokens']} tokens, `stream: {{tokens_per_second: {p['asked']}}}` | {p['asked']} | "
            f"{p['measured']:.1f} | {p['asked_over_measured']:.3f} |",
        ]
    return lines


def per_call_table(per_call: dict[str, Any]) -> list[str]:
    if "skipped" in per_call:
        return ["### 3. Per call through the fixture", "", f"skipped: {per_call['skipped']}"]
    costs: dict[str, float] = per_call["seconds_per_call"]
    floor = next(v for k, v in costs.items() if k.startswith("floor"))
    lines = [
        f"### 3. Per call: `client.chat.completions.create`, "
        f"{per_call['calls']:,} calls x {per_call['repeats']}, median",
        "",
        "| transport | us a call | x MockTransport floor |",
        "|---|---:|---:|",
    ]
    for name, seconds in costs.items():
        lines.append(f"| {name} | {seconds * 1e6:,.0f} | {seconds / floor:.2f} |")
    lines += ["", f"Fixture setup + teardown per test: {per_call['fixture_setup_teardown_s'] * 1e6:,.0f} us."]
    return lines


def startup_table(s: dict[str, Any]) -> list[str]:
    return [
        "### 4. Start-up",
        "",
        "| measure | mockai | bare Starlette (floor) | mockai / floor |",
        "|---|---:|---:|---:|",
        f"| import | {s['import_mockai_s'] * 1000:,.0f} ms | {s['import_floor_s'] * 1000:,.0f} ms | "
        f"{_ratio(s['import_mockai_s'], s['import_floor_s'])} |",
        f"| process start to first answer | {s['first_answer_mockai_s'] * 1000:,.0f} ms | "
        f"{s['first_answer_floor_s'] * 1000:,.0f} ms | "
        f"{_ratio(s['first_answer_mockai_s'], s['first_answer_floor_s'])} |",
        *(
            [
                f"| mockai: process start to health ok | {s['ready_mockai_s'] * 1000:,.0f} ms | | |",
                f"| mockai: first chat answer after ready, then the median of 20 more | "
                f"{s['first_call_mockai_s'] * 1000:,.1f} ms, {s['later_call_mockai_s'] * 1000:,.1f} ms | | |",
            ]
            if "ready_mockai_s" in s
            else []
        ),
    ]


def replay_table(r: dict[str, Any]) -> list[str]:
    if "skipped" in r:
        return ["### 5. Replay scale", "", f"skipped: {r['skipped']}"]
    rows = r["rows"]
    base = rows[0]["lookup_s"]
    first = rows[0]["lookup_passes_s"][0]
    lines = [
        f"### 5. Replay scale (lookup: median of {r['repeats']} passes of {r['lookups']:,} random requests; "
        "first pass apart)",
        "",
        "| interactions | file | load | load a interaction | lookup | lookup / lookup at 10 | "
        "first pass after load | first pass / at 10 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['interactions']:,} | {row['mb']:.1f} MB | {row['load_s']:.2f} s | "
            f"{row['load_s'] / row['interactions'] * 1e6:.1f} us | "
            f"{row['lookup_s'] * 1e6:.0f} us | {row['lookup_s'] / base:.2f} | "
            f"{row['lookup_passes_s'][0] * 1e6:.0f} us | "
            f"{row['lookup_passes_s'][0] / first:.2f} |"
        )
    return lines


def table(results: dict[str, Any]) -> str:
    parts = [[header(results)]]
    if "servers" in results:
        parts += [throughput_table(results["servers"]), streaming_table(results["servers"])]
    if "per_call" in results:
        parts.append(per_call_table(results["per_call"]))
    if "startup" in results:
        parts.append(startup_table(results["startup"]))
    if "replay" in results:
        parts.append(replay_table(results["replay"]))
    return "\n\n".join("\n".join(p) for p in parts) + "\n"


# ------------------------------------------------------------------------------------------------------


def chart(results: dict[str, Any], path: Path) -> str:
    """A small 2x2 chart of the headline ratios; needs matplotlib (the `bench` extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no chart: matplotlib is missing (pip install -e '.[bench]')"
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    _throughput_panel(axes[0][0], results.get("servers"))
    _per_call_panel(axes[0][1], results.get("per_call"))
    _replay_panel(axes[1][0], results.get("replay"))
    _startup_panel(axes[1][1], results.get("startup"), results.get("servers"))
    m = results["machine"]
    fig.suptitle(
        f"mockai {m['mockai']}, measured {m['date']} on {m['cpu']} ({m['cores']} cores), "
        f"Python {m['python']}",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return f"chart: {path}"


def _throughput_panel(ax: Any, servers: dict[str, Any] | None) -> None:
    from throughput import SCENARIOS

    ax.set_title("Server throughput, relative to the bare-Starlette floor (= 1)", fontsize=9)
    if not servers:
        return
    targets = servers["targets"]
    floor = targets.get(FLOOR, {})
    names = [n for n in targets if n != FLOOR]
    width = 0.8 / max(1, len(names))
    for k, name in enumerate(names):
        values = []
        for scenario in SCENARIOS:
            rps, base = targets[name].get(scenario, {}).get("rps"), floor.get(scenario, {}).get("rps")
            values.append(rps / base if rps and base else 0)
        xs = [i + k * width for i in range(len(SCENARIOS))]
        bars = ax.bar(xs, values, width, label=name)
        ax.bar_label(bars, labels=[f"{v:.2f}" if v else "n/a" for v in values], fontsize=6)
    ax.axhline(1, color="grey", lw=0.8, ls="--")
    ax.set_yscale("log")
    labels = [label.replace(", ", "\n", 1) for label in SCENARIOS.values()]
    ax.set_xticks([i + width * (len(names) - 1) / 2 for i in range(len(SCENARIOS))], labels, fontsize=7)
    ax.legend(fontsize=7)


def _per_call_panel(ax: Any, per_call: dict[str, Any] | None) -> None:
    ax.set_title("Per openai SDK call, microseconds", fontsize=9)
    if not per_call or "skipped" in per_call:
        return
    costs = per_call["seconds_per_call"]
    floor = next(iter(costs.values()))
    labels = [k.split(" (")[0] for k in costs]
    bars = ax.barh(
        labels, [v * 1e6 for v in costs.values()], color=["grey", "tab:blue", "tab:green"][: len(costs)]
    )
    ax.bar_label(bars, labels=[f" {v * 1e6:,.0f} ({v / floor:.2f}x)" for v in costs.values()], fontsize=7)
    ax.set_xlim(0, max(costs.values()) * 1e6 * 1.3)
    ax.tick_params(labelsize=7)


def _replay_panel(ax: Any, replay: dict[str, Any] | None) -> None:
    ax.set_title("Replay: lookup time vs cassette size", fontsize=9)
    if not replay or "skipped" in replay:
        return
    rows = replay["rows"]
    xs = [r["interactions"] for r in rows]
    ys = [r["lookup_s"] * 1e6 for r in rows]
    first = [r["lookup_passes_s"][0] * 1e6 for r in rows]
    ax.plot(xs, ys, marker="o", label="lookup (median pass)")
    ax.plot(xs, first, marker=".", ls=":", color="grey", label="first pass after load")
    for x, y, r in zip(xs, ys, rows):
        ax.annotate(
            f"{y:.0f} us\nload {r['load_s']:.2f} s",
            (x, y),
            fontsize=7,
            textcoords="offset points",
            xytext=(0, -22),
            ha="center",
        )
    ax.set_xscale("log")
    ax.set_xlim(min(xs) / 3, max(xs) * 3)
    ax.set_ylim(0, max(first + ys) * 1.3)
    ax.legend(fontsize=7)
    ax.set_xlabel("interactions", fontsize=7)
    ax.set_ylabel("us a lookup", fontsize=7)
    ax.tick_params(labelsize=7)


def _startup_panel(ax: Any, startup: dict[str, Any] | None, servers: dict[str, Any] | None) -> None:
    ax.set_title("Start-up (ms) and paced-stream accuracy", fontsize=9)
    if startup:
        labels = ["import", "start to first answer"]
        mockai = [startup["import_mockai_s"] * 1000, startup["first_answer_mockai_s"] * 1000]
        floor = [startup["import_floor_s"] * 1000, startup["first_answer_floor_s"] * 1000]
        b1 = ax.bar([0, 1], mockai, 0.35, label="mockai")
        b2 = ax.bar([0.35, 1.35], floor, 0.35, label="bare Starlette", color="grey")
        ax.bar_label(b1, fmt="%.0f", fontsize=7)
        ax.bar_label(b2, fmt="%.0f", fontsize=7)
        ax.set_xticks([0.175, 1.175], labels, fontsize=7)
        ax.legend(fontsize=7, loc="center left")
        ax.set_ylim(0, max(mockai + floor) * 1.25)
    paced = (servers or {}).get("paced")
    if paced:
        ax.text(
            0.02,
            0.97,
            f"paced stream: asked {paced['asked']} tokens/s,\nmeasured {paced['measured']:.1f} "
            f"(asked/measured {paced['asked_over_measured']:.3f})",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=7,
        )
