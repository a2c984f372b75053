#!/usr/bin/env python3
"""`threat-analyzer mcp` on a corpus (python3 standard library only).

    mcp_bench.py BINARY CORPUS [CALLS]

Runs the server twice on CORPUS with an empty index cache directory, then with the cache the
first run wrote (THREAT_ANALYZER_CACHE_DIR). Each run measures the time from process start to
the first `summary` answer (initialize, initialized and summary are sent at once), then CALLS
(default 1000) `query` calls (`threats for X` over the assets the model names, and
`unmitigated` every 10th) and CALLS `file_context` calls (over every annotated file), one at a
time, and reports the median and p95 of each, and the server's resident memory (VmRSS now,
VmHWM peak) at the end. Prints one JSON line per run.
"""
import json
import os
import subprocess
import sys
import tempfile
import time


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class Server:
    def __init__(self, binary, corpus, cache_dir):
        env = dict(os.environ, THREAT_ANALYZER_CACHE_DIR=cache_dir)
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(
            [binary, "mcp", corpus], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=corpus
        )
        self.next_id = 0

    def send(self, message):
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def wait(self, wanted):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit("the server ended")
            message = json.loads(line)
            if message.get("id") == wanted and "method" not in message:
                return message

    def tool(self, name, arguments):
        began = time.perf_counter()
        answer = self.wait(self.request("tools/call", {"name": name, "arguments": arguments}))
        return time.perf_counter() - began, answer["result"]["structuredContent"]

    def memory_kib(self, field):
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
        return 0

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def run(binary, corpus, cache_dir, calls, label):
    server = Server(binary, corpus, cache_dir)
    init = server.request(
        "initialize",
        {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
    )
    server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    summary_id = server.request("tools/call", {"name": "summary", "arguments": {}})
    server.wait(init)
    summary = server.wait(summary_id)["result"]["structuredContent"]
    first_summary = time.perf_counter() - server.start

    files = sorted(
        os.path.relpath(os.path.join(d, f), corpus)
        for d, _, names in os.walk(os.path.join(corpus, "src"))
        for f in names
        if f.endswith((".c", ".py", ".go", ".ts", ".gal"))
    )
    assets = []
    for path in files[:50]:
        _, context = server.tool("file_context", {"path": path})
        for entity in context.get("entities", {}).get("items", []):
            if entity["kind"] == "asset" and entity["name"]["text"] not in assets:
                assets.append(entity["name"]["text"])
    query_times = []
    for i in range(calls):
        query = "unmitigated" if i % 10 == 9 else f"threats for {assets[i % len(assets)]}"
        elapsed, _ = server.tool("query", {"query": query})
        query_times.append(elapsed)
    context_times = []
    for i in range(calls):
        elapsed, _ = server.tool("file_context", {"path": files[i % len(files)]})
        context_times.append(elapsed)
    result = {
        "run": label,
        "first_summary_s": round(first_summary, 3),
        "annotations": summary["annotations"],
        "query_median_ms": round(percentile(query_times, 50) * 1000, 2),
        "query_p95_ms": round(percentile(query_times, 95) * 1000, 2),
        "file_context_median_ms": round(percentile(context_times, 50) * 1000, 2),
        "file_context_p95_ms": round(percentile(context_times, 95) * 1000, 2),
        "rss_mib": round(server.memory_kib("VmRSS") / 1024, 1),
        "peak_rss_mib": round(server.memory_kib("VmHWM") / 1024, 1),
    }
    server.close()
    return result


def main():
    binary, corpus = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    with tempfile.TemporaryDirectory() as cache_dir:
        print(json.dumps(run(binary, corpus, cache_dir, calls, "cold (empty cache)")), flush=True)
        # The first run's cache is written on a thread of its own while it answers.
        print(json.dumps(run(binary, corpus, cache_dir, calls, "with the cache")), flush=True)


if __name__ == "__main__":
    main()
