#!/usr/bin/env python3
"""Edge coverage of the code a fuzz target is about, from libFuzzer's -print_coverage=1 output
(one line per instrumented function: `COVERED_FUNC: hits: H edges: C/T name path:line`).
Counts the edges of the functions whose source file starts with one of PREFIXES (relative to the
repository). Code inlined into another function counts where it landed, so this is close to,
not exactly, the edges of those files.

Usage: scripts/fuzz-coverage.py LOG PREFIX...   (prints `covered/total edges (percent)`)"""

import re
import sys
from pathlib import Path

LINE = re.compile(r"^(?:UN)?COVERED_FUNC: hits: \d+ edges: (\d+)/(\d+) \S+ (\S+):\d+$")


def main():
    log, prefixes = Path(sys.argv[1]), sys.argv[2:]
    root = str(Path(__file__).resolve().parent.parent) + "/"
    covered = total = 0
    seen = set()
    for line in log.read_text(errors="replace").splitlines():
        match = LINE.match(line)
        if not match or line in seen:
            continue
        seen.add(line)
        path = match.group(3).removeprefix(root)
        if any(path.startswith(prefix) for prefix in prefixes):
            covered += int(match.group(1))
            total += int(match.group(2))
    print(f"{covered}/{total} edges ({100 * covered / total:.0f}%)" if total else "no edges found")


if __name__ == "__main__":
    main()
