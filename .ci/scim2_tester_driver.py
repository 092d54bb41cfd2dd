"""Runs scim2-tester's check_server against a SCIM server and prints one line per check.

Usage: scim2_tester_driver.py BASE_URL TOKEN KNOWN_DIFFERENCES_MD

Exit status: 0 when every check either passed or failed as listed in the
"Tolerated scim2-tester checks" section of KNOWN_DIFFERENCES_MD; 1 otherwise.
A check fails when scim2-tester rates it ERROR or CRITICAL (an RFC MUST violated).
"""

import json
import re
import sys

from httpx2 import Client, HTTPTransport, Response
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

FAILING = {Status.ERROR, Status.CRITICAL}


class Rfc9967Adapter(HTTPTransport):
    """Takes RFC 9967's `securityEvents` out of /ServiceProviderConfig before scim2-models reads
    it. scim2-models 0.12.3 predates RFC 9967 and forbids attributes it does not know, and
    scim2-tester stops after the discovery step when the configuration fails to parse, so one
    unknown member would hide every later check. What is taken out is kept to be verified here
    (see scim-conformance/KNOWN_DIFFERENCES.md)."""

    def __init__(self):
        super().__init__()
        self.security_events = None

    def handle_request(self, request):
        response = super().handle_request(request)
        if request.method != "GET" or not request.url.path.endswith("/ServiceProviderConfig"):
            return response
        response.read()
        try:
            config = json.loads(response.content)
        except ValueError:
            return response
        if not isinstance(config, dict) or "securityEvents" not in config:
            return response
        self.security_events = config.pop("securityEvents")
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return Response(
            response.status_code,
            headers=headers,
            content=json.dumps(config).encode(),
            request=request,
        )


def security_events_problem(security_events):
    """What is wrong with the RFC 9967 §4 advertisement scimd must make, or None."""
    if not isinstance(security_events, dict):
        return "/ServiceProviderConfig has no securityEvents object (RFC 9967 §4)"
    if not isinstance(security_events.get("asyncRequest"), str):
        return f"securityEvents.asyncRequest is {security_events.get('asyncRequest')!r}"
    uris = security_events.get("eventUris")
    prefix = "urn:ietf:params:scim:event:"
    if not isinstance(uris, list) or not uris or not all(
        isinstance(uri, str) and uri.startswith(prefix) for uri in uris
    ):
        return f"securityEvents.eventUris is not a list of {prefix}… URIs: {uris!r}"
    return None


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
    adapter = Rfc9967Adapter()
    http = Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
        transport=adapter,
    )
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

    problem = security_events_problem(adapter.security_events)
    if problem:
        print(f"ERROR      securityEvents (checked by this driver): {problem}")
        failed.append("securityEvents")
    else:
        print("SUCCESS    securityEvents (checked by this driver): RFC 9967 §4 advertisement present")

    summary = ", ".join(f"{count} {status.lower()}" for status, count in sorted(counts.items()))
    print(f"scim2-tester: {len(results)} checks: {summary}")
    for name in tolerated_seen:
        print(f"tolerated (see scim-conformance/KNOWN_DIFFERENCES.md): {name}")
    for name in failed:
        print(f"FAILED: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
