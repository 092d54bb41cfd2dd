"""Runs scim2-tester's check_server against a SCIM server and prints one line per check.

Usage: scim2_tester_driver.py BASE_URL TOKEN KNOWN_DIFFERENCES_MD

Exit status: 0 when every check either passed or failed as listed in the
"Tolerated scim2-tester checks" section of KNOWN_DIFFERENCES_MD; 1 otherwise.
A check fails when scim2-tester rates it ERROR or CRITICAL (an RFC MUST violated).
"""

import re
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

FAILING = {Status.ERROR, Status.CRITICAL}


def tolerated_checks(path):
    """The checks listed under the tolerated-checks heading, one per line as
    - `title` [ResourceType] "fragment of the reason"
    where the resource type and the reason fragment are optional and narrow the match, so a
    tolerated disagreement about one attribute does not hide failures of the others."""
    checks = []
    in_section = False
    with open(path, encoding="utf-8") as known:
        for line in known:
            if line.startswith("## "):
                in_section = line.strip().lower() == "## tolerated scim2-tester checks"
                continue
            match = re.match(r'^- `([^`]+)`(?:\s+\[(\w+)\])?(?:\s+"([^"]+)")?', line)
            if in_section and match:
                checks.append(match.groups())
    return checks


def is_tolerated(checks, result, reason):
    return any(
        title == (result.title or "")
        and (resource is None or resource == result.resource_type)
        and (fragment is None or fragment in reason)
        for title, resource, fragment in checks
    )


def main():
    base_url, token, known_path = sys.argv[1:4]
    tolerated = tolerated_checks(known_path)
    http = Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    client = SyncSCIMClient(http)
    results = check_server(client)

    failed, tolerated_seen, counts = [], [], {}
    for result in results:
        name = result.title or "(untitled)"
        if result.resource_type:
            name = f"{name} [{result.resource_type}]"
        counts[result.status.name] = counts.get(result.status.name, 0) + 1
        reason = " ".join((result.reason or "").split())
        if result.status not in FAILING:
            reason = reason[:300]
        print(f"{result.status.name:<10} {name}: {reason}")
        if result.status in FAILING:
            if is_tolerated(tolerated, result, reason):
                tolerated_seen.append(name)
            else:
                failed.append(name)

    summary = ", ".join(f"{count} {status.lower()}" for status, count in sorted(counts.items()))
    print(f"scim2-tester: {len(results)} checks: {summary}")
    for name in tolerated_seen:
        print(f"tolerated (see scim-conformance/KNOWN_DIFFERENCES.md): {name}")
    for name in failed:
        print(f"FAILED: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
