"""Turns one benchmarks/redis-fanout.sh result file (benchmarks/results/redis-*.jsonl, lines
`<stack> <load>-round-<n><TAB>json`) into the table between the `bench-redis:begin` and
`bench-redis:end` markers of BENCHMARKS.md, and prints it. Every cell shows the rounds in
order and their median; ratios are taken per round (stacks measured side by side) and the
median of those is shown.

usage: redis-report.py RESULTS.jsonl [--no-write]
"""
import json
import sys
from pathlib import Path

from report import fmt, machine, median, write_between

MARK_BEGIN, MARK_END = "<!-- bench-redis:begin -->", "<!-- bench-redis:end -->"
STACKS = {
    "peer": "2 × python-socketio, AsyncRedisManager",
    "empty": "2 × Palisade, one channel",
    "empty-rc": "2 × Palisade, room channels",
}


def load(path: Path) -> dict:
    """{stack: {load: {round: result}}}"""
    results = {}
    for line in path.read_text().splitlines():
        label, _, body = line.partition("\t")
        stack, _, run = label.partition(" ")
        load_name, _, round_number = run.partition("-round-")
        results.setdefault(stack, {}).setdefault(load_name, {})[int(round_number)] = json.loads(body)
    return results


def derived(result: dict, key: str):
    """A figure of the result, or one computed from it (`publish_per_s`)."""
    if key == "publish_per_s" and "redis_commands" in result:
        return result["redis_commands"].get("publish", 0) / result["duration_s"]
    return result.get(key)


def values(results, stack, load_name, key) -> list:
    runs = results.get(stack, {}).get(load_name, {})
    return [derived(runs[n], key) for n in sorted(runs) if derived(runs[n], key) is not None]


def cell(figures, places=0) -> str:
    if not figures:
        return "—"
    shown = " / ".join(fmt(v, places) for v in figures)
    return shown if len(figures) == 1 else f"{shown} (median {fmt(median(figures), places)})"


def per_round_ratios(results, a, b, load_name, key, invert=False) -> list:
    """a ÷ b (or b ÷ a) of each round both stacks ran."""
    ours, theirs = results.get(a, {}).get(load_name, {}), results.get(b, {}).get(load_name, {})
    out = []
    for n in sorted(set(ours) & set(theirs)):
        x, y = ours[n].get(key), theirs[n].get(key)
        if x and y:
            out.append(y / x if invert else x / y)
    return out


def tables(results: dict, source: Path) -> str:
    stacks = [s for s in STACKS if s in results]
    rows = [
        ("light: sends/s (all rooms)", "light", "sent_per_s", 0),
        ("light: deliveries/s, expected", "light", "expected_deliveries_per_s", 0),
        ("light: deliveries/s, both instances", "light", "deliveries_per_s", 0),
        ("light: delivery p50 µs, both instances", "light", "p50_us", 0),
        ("light: delivery p99 µs, both instances", "light", "p99_us", 0),
        ("light: delivery p99 µs, instance B (crossed Redis)", "light", "second_p99_us", 0),
        ("light: Redis commands per relayed event", "light", "redis_commands_per_event", 2),
        ("light: Redis PUBLISH per relayed event", "light", "redis_publish_per_event", 2),
        ("light: Redis bytes in / out per relayed event", "light", ("redis_in_bytes_per_event", "redis_out_bytes_per_event"), 0),
        ("full: sends/s offered (all rooms)", "full", "sent_per_s", 0),
        ("full: deliveries/s, both instances", "full", "deliveries_per_s", 0),
        ("full: deliveries/s, instance B (crossed Redis)", "full", "second_deliveries_per_s", 0),
        ("full: delivery p99 µs, both instances", "full", "p99_us", 0),
        ("full: PUBLISH/s (the emits A put on Redis)", "full", "publish_per_s", 0),
        ("full: CPU cores, server A / B", "full", ("server_cpu_cores", "second_server_cpu_cores"), 2),
        ("full: CPU cores, Redis / client", "full", ("redis_cpu_cores", "client_cpu_cores"), 2),
    ]
    out = [f"Run of {source.name}: {machine()}.", "",
           "| measure (rounds in order) | " + " | ".join(STACKS[s] for s in stacks) + " |",
           "| --- |" + " --- |" * len(stacks)]
    for title, load_name, key, places in rows:
        if isinstance(key, tuple):
            cells = [" / ".join(fmt(median(values(results, s, load_name, k)), places) for k in key) + " (medians)"
                     for s in stacks]
        else:
            cells = [cell(values(results, s, load_name, key), places) for s in stacks]
        out.append(f"| {title} | " + " | ".join(cells) + " |")

    ratios = []
    for ours in ("empty", "empty-rc"):
        if ours in stacks and "peer" in stacks:
            name = STACKS[ours].removeprefix("2 × ")
            ratios += [
                (f"full deliveries/s, {name} ÷ peer", per_round_ratios(results, ours, "peer", "full", "deliveries_per_s")),
                (f"full deliveries/s on instance B, {name} ÷ peer",
                 per_round_ratios(results, ours, "peer", "full", "second_deliveries_per_s")),
                (f"light p50 latency, peer ÷ {name}", per_round_ratios(results, ours, "peer", "light", "p50_us", invert=True)),
                (f"light p99 latency, peer ÷ {name}", per_round_ratios(results, ours, "peer", "light", "p99_us", invert=True)),
            ]
    if ratios:
        out += ["", "| ratio (per round, side by side) | rounds | median |", "| --- | --- | --- |"]
        for title, figures in ratios:
            out.append(f"| {title} | {' / '.join(f'{v:.1f}' for v in figures) or '—'} | "
                       f"{'—' if not figures else f'{median(figures):.1f}'} |")
    return "\n".join(out)


def main() -> None:
    source = Path(sys.argv[1])
    text = tables(load(source), source)
    print(text)
    if "--no-write" not in sys.argv:
        write_between(MARK_BEGIN, MARK_END, text)

if __name__ == "__main__":
    main()
