"""Clients that write the whole body before they read (Python's urllib and requests, as the
Huawei SDK does) must read the 413 the server gives before reading a body over 1 MiB, every
time: the server reads and discards the rest before closing (lingering close).

Usage: large_bodies.py BASE_URL [TRIES]
"""
import json
import sys
import urllib.error
import urllib.request

import requests

PROJECT = "24edf66e79d04187acb99a463e610764"
SIZES_MIB = (2, 8, 64)


def with_urllib(url, body):
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", "X-Project-Id": PROJECT})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def with_requests(url, body):
    resp = requests.post(url, data=body, timeout=60,
                         headers={"Content-Type": "application/json", "X-Project-Id": PROJECT})
    return resp.status_code, resp.content


def main():
    base, tries = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50
    url = f"{base}/v3/{PROJECT}/notifications"
    failures = 0
    for client in (with_urllib, with_requests):
        for mib in SIZES_MIB:
            body = b" " * (mib << 20)
            answered = 0
            for _ in range(tries):
                try:
                    status, text = client(url, body)
                except (OSError, requests.RequestException) as e:
                    print(f"  {client.__name__} {mib} MiB: {type(e).__name__}: {e}")
                    continue
                if status == 413 and json.loads(text)["error_code"] == "CTS.0413":
                    answered += 1
                else:
                    print(f"  {client.__name__} {mib} MiB: {status} {text[:200]!r}")
            print(f"{client.__name__} {mib} MiB: 413 read {answered} of {tries}")
            failures += tries - answered
    print(f"{(len(SIZES_MIB) * 2 * tries) - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
