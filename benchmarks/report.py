"""Turns one `make bench` result file (benchmarks/results/*.jsonl, lines `label<TAB>json`)
into the tables between the `bench:begin` and `bench:end` markers of BENCHMARKS.md, and
prints them. Ratios are computed from figures of the same run only.

usage: report.py RESULTS.jsonl [--no-write]
"""
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK_BEGIN, MARK_END = "<!-- bench:begin -->", "<!-- bench:end -->"
SERVERS = {"peer": "python-socketio + uvicorn", "empty": "Palisade, empty policy set", "stock": "Palisade, stock policies"}


def load(path: Path) -> dict:
    results = {}
    for line in path.read_text().splitlines():
        label, _, body = line.partition("\t")
        server, _, run = label.partition(" ")
        results.setdefault(server, {})[run] = json.loads(body)
    return results


def figure(results, server, run, key):
    return results.get(server, {}).get(run, {}).get(key)


def rounds(results, server, run, key) -> list:
    """The figures of the interleaved rounds (`<run>-round-<n>`), in round order."""
    found = sorted((int(name.rsplit("-", 1)[1]), body.get(key)) for name, body in results.get(server, {}).items()
                   if name.startswith(f"{run}-round-"))
    return [value for _, value in found if value is not None]


def median(values):
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def headline(results, server, run, key):
    """The median of the interleaved rounds, or the single run when there were none."""
    return median(rounds(results, server, run, key)) or figure(results, server, run, key)


def fmt(value, places=0):
    if value is None:
        return "—"
    if isinstance(value, (int, float)):
        return f"{value:,.{places}f}".replace(",", " ")
    return str(value)


def ratio(a, b):
    return None if a is None or not b else a / b


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}, commit {commit}"


def tables(results: dict, source: Path) -> str:
    servers = [s for s in SERVERS if s in results]
    rows = [
        ("connect + authenticate, connects/s", "connect", "connects_per_s", 0),
        ("server RSS per idle connection, bytes", "connect", "bytes_per_connection", 0),
        ("echo events/s (50 conns × 20 in flight)", "echo", "events_per_s", 0),
        ("echo p50 / p99 µs", "echo", ("p50_us", "p99_us"), 0),
        ("echo events/s (100 × 40: more client work)", "echo-more-work", "events_per_s", 0),
        ("fanout deliveries/s (10 rooms × 50)", "fanout", "deliveries_per_s", 0),
        ("fanout delivery p50 / p99 µs", "fanout", ("p50_us", "p99_us"), 0),
        ("Yjs: 10 editors of one document, updates/s", "yjs-10", "updates_per_s", 0),
        ("Yjs: 10 editors, relayed/s", "yjs-10", "deliveries_per_s", 0),
        ("Yjs: 100 editors of one document, updates/s", "yjs-100", "updates_per_s", 0),
        ("Yjs: 100 editors, relayed/s", "yjs-100", "deliveries_per_s", 0),
        ("Yjs: 100 editors, relay p50 / p99 µs", "yjs-100", ("p50_us", "p99_us"), 0),
        ("Yjs: updates in the big document", "yjs-join", "characters", 0),
        ("Yjs: join of the big document, ms", "yjs-join", "join_ms", 1),
        ("Yjs: its state, bytes", "yjs-join", "state_bytes", 0),
        ("server instructions per echo event (callgrind, 1 × 1)", "instructions", "per_event", 0),
        ("server CPU during echo, cores", "echo", "server_cpu_cores", 2),
        ("client CPU during echo, cores", "echo", "client_cpu_cores", 2),
    ]
    out = [f"Run of {source.name}: {machine()}.", "",
           "| measure | " + " | ".join(SERVERS[s] for s in servers) + " |",
           "| --- |" + " --- |" * len(servers)]
    for title, run, key, places in rows:
        cells = []
        for s in servers:
            if isinstance(key, tuple):
                cells.append(" / ".join(fmt(figure(results, s, run, k), places) for k in key))
            else:
                cells.append(fmt(figure(results, s, run, key), places))
        out.append(f"| {title} | " + " | ".join(cells) + " |")

    round_rows = [("connects/s", "connect", "connects_per_s"), ("echo events/s (50 × 20)", "echo", "events_per_s")]
    if any(rounds(results, s, run, key) for s in servers for _, run, key in round_rows):
        out += ["", "Interleaved rounds (each round runs every server in turn; the targets use the medians):", "",
                "| measure | " + " | ".join(SERVERS[s] for s in servers) + " |",
                "| --- |" + " --- |" * len(servers)]
        for title, run, key in round_rows:
            cells = [" / ".join(fmt(v) for v in rounds(results, s, run, key)) + f" (median {fmt(median(rounds(results, s, run, key)))})"
                     for s in servers]
            out.append(f"| {title} | " + " | ".join(cells) + " |")

    stock_echo, peer_echo, empty_echo = (headline(results, s, "echo", "events_per_s") for s in ("stock", "peer", "empty"))
    targets = [
        ("echo events/s, stock ÷ python peer", ratio(stock_echo, peer_echo), "≥ 10×"),
        ("echo events/s, stock ÷ raw node-ws echo (120 000/s, issue 5's reference)", ratio(stock_echo, 120_000), "≥ 1×"),
        ("cost of the stock policies: 1 − stock ÷ empty echo", None if ratio(stock_echo, empty_echo) is None
         else 1 - ratio(stock_echo, empty_echo), "≤ 15 %"),
        ("the same cost in instructions: 1 − empty ÷ stock instructions per echo event (callgrind)",
         None if ratio(figure(results, "empty", "instructions", "per_event"), figure(results, "stock", "instructions", "per_event")) is None
         else 1 - ratio(figure(results, "empty", "instructions", "per_event"), figure(results, "stock", "instructions", "per_event")), "≤ 15 %"),
        ("fanout deliveries/s, stock ÷ python peer", ratio(figure(results, "stock", "fanout", "deliveries_per_s"),
                                                          figure(results, "peer", "fanout", "deliveries_per_s")), "≥ 10×"),
        ("connects/s, stock ÷ python peer", ratio(headline(results, "stock", "connect", "connects_per_s"),
                                                  headline(results, "peer", "connect", "connects_per_s")), "≥ 5×"),
        ("RSS per idle connection, stock, KiB", None if figure(results, "stock", "connect", "bytes_per_connection") is None
         else figure(results, "stock", "connect", "bytes_per_connection") / 1024, "≤ 8 KiB"),
    ]
    out += ["", "| target (issue 5) | this run (round medians for echo and connects) | goal |", "| --- | --- | --- |"]
    for title, value, goal in targets:
        shown = "—" if value is None else (f"{value * 100:.0f} %" if "%" in goal else f"{value:.2f}")
        out.append(f"| {title} | {shown} | {goal} |")
    return "\n".join(out)


def write_between(begin: str, end: str, text: str) -> None:
    """Replaces what BENCHMARKS.md holds between the markers `begin` and `end` with `text`."""
    bench = ROOT / "BENCHMARKS.md"
    document = bench.read_text()
    if begin in document and end in document:
        head, rest = document.split(begin, 1)
        _, tail = rest.split(end, 1)
        bench.write_text(f"{head}{begin}\n{text}\n{end}{tail}")
        print(f"\nwritten to {bench}", file=sys.stderr)


def main() -> None:
    source = Path(sys.argv[1])
    text = tables(load(source), source)
    print(text)
    if "--no-write" not in sys.argv:
        write_between(MARK_BEGIN, MARK_END, text)


if __name__ == "__main__":
    main()
