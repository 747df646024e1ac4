#!/usr/bin/env python3
"""Fails when a target imports, or declares a dependency on, a target it must not.

The rules keep dependencies pointing one way: the codecs, the Yjs format, the stores, the
contract, the policy engine and the relay never reach the server; they meet it through the
contract (PalisadeGateway). Checked twice: every `import` in a target's Swift files, and the
target's dependencies in Package.swift (`swift package dump-package`).

Usage: scripts/check-layering.py [--no-manifest]   (exit 1 and one line per breach)
"""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# target -> modules it must never import or depend on
FORBIDDEN = {
    "PalisadeJSON": {"PalisadeProtocol", "PalisadeGateway", "PalisadeServer", "PalisadePolicy", "PalisadeYjsRelay"},
    "PalisadeProtocol": {"PalisadeServer", "PalisadeGateway", "PalisadePolicy", "PalisadeYjsRelay"},
    "PalisadeYjs": {"PalisadeServer", "PalisadeGateway", "PalisadePolicy", "PalisadeYjsRelay", "PalisadeProtocol"},
    "PalisadeJWT": {"PalisadeServer", "PalisadeGateway", "PalisadePolicy", "PalisadeYjsRelay", "PalisadeProtocol"},
    "PalisadeState": {"PalisadeServer", "PalisadeGateway", "PalisadePolicy", "PalisadeYjsRelay"},
    "PalisadeSQLite": {"PalisadeServer", "PalisadeGateway", "PalisadePolicy", "PalisadeYjsRelay"},
    "PalisadeDirectory": {"PalisadeServer", "PalisadeGateway", "PalisadePolicy", "PalisadeYjsRelay", "PalisadeProtocol"},
    "PalisadeDocuments": {"PalisadeServer", "PalisadeGateway", "PalisadePolicy", "PalisadeYjsRelay", "PalisadeDirectory"},
    "PalisadeRedis": {"PalisadeServer", "PalisadeGateway", "PalisadePolicy", "PalisadeYjsRelay"},
    "PalisadeRedisState": {"PalisadeServer", "PalisadeGateway", "PalisadePolicy", "PalisadeYjsRelay"},
    "PalisadeTLS": {"PalisadeServer", "PalisadeGateway", "PalisadePolicy", "PalisadeYjsRelay"},
    "PalisadeHTTPClient": {"PalisadeServer", "PalisadeGateway", "PalisadePolicy", "PalisadeYjsRelay"},
    "PalisadeGateway": {"PalisadeServer", "PalisadePolicy", "PalisadeYjsRelay", "PalisadeProtocol"},
    "PalisadePolicy": {"PalisadeServer", "PalisadeYjsRelay"},
    "PalisadeYjsRelay": {"PalisadeServer", "PalisadePolicy"},
    "PalisadeCluster": {"PalisadePolicy", "PalisadeYjsRelay"},
    "palisade-bench": {"PalisadeServer", "PalisadeGateway", "PalisadePolicy", "PalisadeYjsRelay"},
}

# Only executables pick the metrics backend (Prometheus); libraries use the swift-metrics API alone.
for library in [name for name in FORBIDDEN if name[0].isupper()] + ["PalisadeServer"]:
    FORBIDDEN.setdefault(library, set()).add("Prometheus")

IMPORT = re.compile(r"^\s*(?:@testable\s+|@_exported\s+)?import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?(\w+)",
                    re.MULTILINE)


def target_paths() -> dict[str, Path]:
    """Each target's source folder, from the manifest when it can be read, else by convention."""
    try:
        manifest = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True,
                                             capture_output=True, text=True).stdout)
    except (OSError, subprocess.CalledProcessError):
        return {}, None
    paths = {}
    for target in manifest["targets"]:
        default = ("Tests/" if target["type"] == "test" else "Sources/") + target["name"]
        paths[target["name"]] = ROOT / (target.get("path") or default)
    return paths, manifest


def main() -> int:
    paths, manifest = target_paths() if "--no-manifest" not in sys.argv else ({}, None)
    breaches = []
    for target, forbidden in FORBIDDEN.items():
        folder = paths.get(target) or ROOT / "Sources" / target
        if not folder.is_dir():
            continue
        for source in sorted(folder.rglob("*.swift")):
            for module in IMPORT.findall(source.read_text(encoding="utf-8")):
                if module in forbidden:
                    breaches.append(f"{source.relative_to(ROOT)}: {target} must not import {module}")
    if manifest is not None:
        for target in manifest["targets"]:
            forbidden = FORBIDDEN.get(target["name"], set())
            for dependency in target.get("dependencies", []):
                name = (dependency.get("byName") or dependency.get("target") or dependency.get("product") or [None])[0]
                if name in forbidden:
                    breaches.append(f"Package.swift: {target['name']} must not depend on {name}")
    for line in breaches:
        print(f"layering: {line}", file=sys.stderr)
    if breaches:
        return 1
    print(f"layering: ok ({len(FORBIDDEN)} targets checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
