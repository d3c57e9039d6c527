"""Sends a fixed number of identical POST requests over keep-alive connections and checks
every answer is 200: the count-based load for scripts/bench_instructions.sh (wrk runs for a
duration, not a count).

Usage: oip_client.py URL BODY_FILE REQUESTS CONNECTIONS
"""

import http.client
import sys
import threading
import time
import urllib.parse


def main() -> None:
    url, body_file, requests, connections = sys.argv[1:5]
    requests, connections = int(requests), int(connections)
    target = urllib.parse.urlsplit(url)
    with open(body_file, "rb") as f:
        body = f.read()
    headers = {"Content-Type": "application/json"}
    share = [requests // connections + (i < requests % connections) for i in range(connections)]
    failures: list[str] = []

    def send(n: int) -> None:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
        for _ in range(n):
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200:
                failures.append(f"{response.status}: {answer[:200]!r}")
                return
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=send, args=(n,)) for n in share]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit(f"{len(failures)} connections got an error, first: {failures[0]}")
    elapsed = time.monotonic() - started
    print(f"{requests} requests in {elapsed:.1f} s over {connections} connections")


if __name__ == "__main__":
    main()
