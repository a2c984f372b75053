#!/usr/bin/env python3
"""What a language server session keeps of the names it has read (model::interned: key texts
are never freed).

    python3 benches/lsp_growth.py BIN N

Starts `BIN lsp` on a new one-file workspace, opens the file, then sends N versions of it, each
naming 100 components no earlier version named, waiting for each version's diagnostics (so
every version is parsed). Prints the server's VmRSS before the edits and after them. Python 3
standard library only; Linux (/proc). Figures: README, "A repository cannot exhaust memory or
time"; benches/README.md, twenty-eighth sitting.
"""
import json, os, subprocess, sys, tempfile, threading, time
bin_, n = sys.argv[1], int(sys.argv[2])
work = tempfile.mkdtemp()
os.makedirs(work + "/src")
path = work + "/src/a.py"
open(path, "w").write("# @threat SQL injection (#sqli)\n")
env = dict(os.environ, THREAT_ANALYZER_CACHE_DIR=work + "/cache")
p = subprocess.Popen([bin_, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
pubs = [0]
lock = threading.Condition()
def reader():
    f = p.stdout
    while True:
        line = f.readline()
        if not line: return
        if line.lower().startswith(b"content-length:"):
            ln = int(line.split(b":")[1]); f.readline(); body = json.loads(f.read(ln))
            if body.get("method") == "textDocument/publishDiagnostics" and body["params"]["uri"].endswith("a.py"):
                with lock: pubs[0] += 1; lock.notify_all()
            elif "id" in body and "method" in body:
                send({"jsonrpc": "2.0", "id": body["id"], "result": None})
def send(m):
    b = json.dumps(m).encode(); p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(b) + b); p.stdin.flush()
threading.Thread(target=reader, daemon=True).start()
uri = "file://" + path
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": "file://" + work, "capabilities": {}}})
time.sleep(1)
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
time.sleep(1)
text = open(path).read()
send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}})
time.sleep(2)
def rss():
    d = {}
    for l in open("/proc/%d/status" % p.pid):
        k, v = l.split(":", 1); d[k] = v.strip()
    return d["VmRSS"]
before = rss()
# n edits, each naming 100 components no edit before named; each waits for its publish.
for i in range(n):
    t = text + "".join("# @exposes Shop:Component Number %d to #sqli with input\n" % (i * 100 + j) for j in range(100))
    with lock:
        k = pubs[0]
    send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": i + 2}, "contentChanges": [{"text": t}]}})
    with lock:
        lock.wait_for(lambda: pubs[0] > k, timeout=30)
time.sleep(2)
print(os.path.basename(bin_), "edits", n, "VmRSS before", before, "after", rss())
send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}); send({"jsonrpc": "2.0", "method": "exit"})
p.wait(timeout=10)
