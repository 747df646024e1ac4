#!/usr/bin/env python3
"""Writes the Autobahn Testsuite's results (its index.json) into AUTOBAHN.md: cases by outcome,
and every case whose outcome is not OK with the suite's words for it. Exit 1 when a case is not
OK, NON-STRICT or INFORMATIONAL (for the data exchange or for the closing handshake).

Usage: scripts/autobahn-summary.py INDEX_JSON MARKDOWN"""

import json
import sys
from collections import Counter
from pathlib import Path

ACCEPTED = {"OK", "NON-STRICT", "INFORMATIONAL"}


def case_key(case_id):
    return [int(part) for part in case_id.split(".")]


def main():
    index_path, markdown_path = Path(sys.argv[1]), Path(sys.argv[2])
    cases = json.loads(index_path.read_text())["Palisade"]
    outcomes = Counter(result["behavior"] for result in cases.values())
    closes = Counter(result["behaviorClose"] for result in cases.values())
    notable = []
    failed = []
    for case_id in sorted(cases, key=case_key):
        result = cases[case_id]
        if result["behavior"] != "OK" or result["behaviorClose"] != "OK":
            report = json.loads((index_path.parent / result["reportfile"].replace(".html", ".json")).read_text())
            description = " ".join(report["description"].split("<br>")[0].split())[:160]
            notable.append(f"| {case_id} | {result['behavior']} | {result['behaviorClose']} | {description} | {report['result']} |")
        if result["behavior"] not in ACCEPTED or result["behaviorClose"] not in ACCEPTED:
            failed.append(case_id)
    groups = Counter(case_id.split(".")[0] for case_id in cases)
    lines = [
        "# Autobahn Testsuite (RFC 6455 conformance)",
        "",
        "`make autobahn` runs the Autobahn Testsuite's fuzzingclient (PyPI's `autobahntestsuite` 25.10.1,",
        "Python 2.7) against PalisadeTestServer's raw echo route `/autobahn`: the product's WebSocket",
        "upgrade, frame reader, fragment joining, ping, close and UTF-8 rules, with each whole message",
        "echoed instead of decoded as Engine.IO. Cases 1 to 10; 12 and 13 test permessage-deflate, which",
        "Palisade does not offer. The test server runs with `--max-payload 20000000` (case 9 sends",
        "16 MiB messages). This file is written by the run (scripts/autobahn-summary.py).",
        "",
        "What the runs found and what was done (fixes in WebSocketTransportHandler.swift):",
        "- 9.3.1-9.3.4 and 9.4.1-9.4.4 (4 MiB in fragments of 64 B to 4 KiB) FAILED: a message could",
        "  have 1024 fragments at most, so the server closed with 1009. Now one fragment per 64 bytes of",
        "  the message limit is allowed (at least 1024); the limit on the message's bytes is unchanged.",
        "- NON-STRICT 6.4.x: invalid UTF-8 is found once the whole message is in, not in the fragment",
        "  where it starts (the suite allows both).",
        "- INFORMATIONAL 7.1.6 and 7.13.x: behaviour the suite records without a verdict.",
        "",
        f"{len(cases)} cases ({', '.join(f'{group}.*: {count}' for group, count in sorted(groups.items(), key=lambda g: int(g[0])))}).",
        "",
        "| outcome | cases (data) | cases (closing) |",
        "| --- | --- | --- |",
    ]
    for outcome in sorted(set(outcomes) | set(closes)):
        lines.append(f"| {outcome} | {outcomes[outcome]} | {closes[outcome]} |")
    lines += ["", "Cases not plainly OK:", "", "| case | data | closing | what it sends | the suite's verdict |", "| --- | --- | --- | --- | --- |"]
    lines += notable or ["| none | | | | |"]
    lines += ["", f"Result: {'FAILED: ' + ', '.join(failed) if failed else 'every case is OK, NON-STRICT or INFORMATIONAL'}.", ""]
    markdown_path.write_text("\n".join(lines))
    print("\n".join(lines[17:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
