#!/usr/bin/env python3
"""Records real HTTP/1.x exchanges as socket-event streams for agent/http tests.

Runs `python3 -m http.server` and `nginx` on loopback ports under `strace -ff`
(and `curl` under strace for the client side), drives them with `curl`, and
turns the traced socket syscalls into the events the kernel side reports:

  open  <conn> <server|client> <peer_port> <local_port>
  data  <conn> <in|out> <tid> <start_ns> <end_ns> <length> <hex of the first
        min(length, 4096) bytes moved, or '-'>
  close <conn> <tid> <ts_ns>

One syscall per data line, in time order; sendfile lines carry the length
only (no bytes), like the kernel's record. Next to each NAME.stream,
NAME.expected holds what curl itself reported for every request, in order:
"<method> <path> <status> <body bytes>" (curl -w), so the test compares the
spans against a view we did not compute.

Usage: record_exchanges.py OUTPUT_DIR   (needs curl, nginx, strace)
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
TRACED = "accept,accept4,connect,read,recvfrom,recvmsg,write,writev,sendto,sendmsg,sendfile,close"
LINE = re.compile(r"^(\d+)\.(\d+) (\w+)\((.*)\) = (-?\d+)(?: [^<]*)?(?: <(\d+)\.(\d+)>)?$")
# Bytes kept per syscall: the kernel side's default capture limit.
CAPTURE_LIMIT = 4096
STRING = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')
PORT = re.compile(r"sin6?_port=htons\((\d+)\)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def strace_cmd(prefix, argv):
    return ["strace", "-ff", "-ttt", "-T", "-xx", "-s", "1048576", "-e", "trace=" + TRACED,
            "-o", prefix] + argv


def unhex(s):
    return bytes.fromhex(s.replace("\\x", ""))


def parse_traces(prefix, role_filter, port_of_interest):
    """Turns strace -ff output files into event lines."""
    calls = []
    d, base = os.path.split(prefix)
    for name in os.listdir(d):
        if not name.startswith(base + "."):
            continue
        tid = int(name.rsplit(".", 1)[1])
        with open(os.path.join(d, name), errors="replace") as f:
            for line in f:
                m = LINE.match(line.rstrip("\n"))
                if m:
                    start = int(m.group(1)) * 10**9 + int(m.group(2).ljust(9, "0"))
                    dur = int(m.group(6) or 0) * 10**9 + int((m.group(7) or "0").ljust(9, "0"))
                    calls.append((start, tid, m.group(3), m.group(4), int(m.group(5)), dur))
    calls.sort()
    conns = {}  # fd -> conn id
    next_id = 1
    out = []
    for start, tid, name, args, ret, dur in calls:
        end = start + dur
        fd = int(args.split(",", 1)[0]) if args[:1].isdigit() else -1
        if name in ("accept", "accept4") and ret >= 0 and role_filter == "server":
            pm = PORT.search(args)
            conns[ret] = next_id
            out.append(f"open {next_id} server {pm.group(1) if pm else 0} {port_of_interest}")
            next_id += 1
        elif name == "connect" and role_filter == "client" and \
                f"htons({port_of_interest})" in args and (ret == 0 or "EINPROGRESS" in args or ret == -1):
            conns[fd] = next_id
            out.append(f"open {next_id} client {port_of_interest} 0")
            next_id += 1
        elif fd in conns and name == "close":
            out.append(f"close {conns.pop(fd)} {tid} {end}")
        elif fd in conns and ret > 0:
            direction = "in" if name in ("read", "recvfrom", "recvmsg") else "out"
            if name == "sendfile":
                data = b""
            else:
                data = b"".join(unhex(s) for s in STRING.findall(args))[:min(ret, CAPTURE_LIMIT)]
            out.append(f"data {conns[fd]} {direction} {tid} {start} {end} {ret} "
                       f"{data.hex() if data else '-'}")
    return out


def run_curls(port, requests, trace_prefix=None):
    """Runs one curl per entry (an entry may hold several URLs: keep-alive)."""
    expected = []
    fmt = "%{method} %{url_effective} %{http_code} %{size_download}\\n"
    for extra, paths in requests:
        argv = ["curl", "-s", "-w", fmt] + extra
        for p in paths:
            argv += ["-o", "/dev/null", f"http://127.0.0.1:{port}{p}"]
        if trace_prefix:
            argv = strace_cmd(f"{trace_prefix}", argv)
        res = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60)
        for line in res.stdout.splitlines():
            parts = line.split()
            if len(parts) != 4:
                raise RuntimeError(f"unexpected curl output: {line!r}")
            method, url, code, size = parts
            path = url.split(str(port), 1)[1]
            expected.append(f"{method} {path} {code} {size}")
    return expected


def write(out_dir, name, lines, expected):
    with open(os.path.join(out_dir, name + ".stream"), "w") as f:
        f.write("# recorded by record_exchanges.py\n" + "\n".join(lines) + "\n")
    with open(os.path.join(out_dir, name + ".expected"), "w") as f:
        f.write("\n".join(expected) + "\n")


def stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def record_python(out_dir, work):
    root = os.path.join(work, "www")
    os.makedirs(root)
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<html><body>hello from http.server</body></html>\n")
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(os.urandom(300000))
    port = free_port()
    server_prefix = os.path.join(work, "py")
    server = subprocess.Popen(strace_cmd(server_prefix, [PYTHON, "-m", "http.server", "-b", "127.0.0.1",
                                                         str(port), "-d", root]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)
        time.sleep(0.3)
        requests = [
            ([], ["/index.html"]),
            (["-I"], ["/index.html"]),
            ([], ["/missing"]),
            ([], ["/big.bin"]),
            (["-X", "POST", "-d", "x=1"], ["/index.html"]),  # http.server: 501
        ]
        client_prefix = os.path.join(work, "curl")
        expected = run_curls(port, requests, trace_prefix=client_prefix)
        time.sleep(0.3)
    finally:
        stop(server)
    # The readiness probe's connection is first: drop it (no data).
    write(out_dir, "python_http_server", parse_traces(server_prefix, "server", port), expected)
    write(out_dir, "curl_to_python_client", parse_traces(client_prefix, "client", port), expected)


NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi;
  uwsgi_temp_path {work}/uwsgi;
  scgi_temp_path {work}/scgi;
  sendfile on;
  keepalive_timeout 30;
  types {{ text/html html; application/octet-stream bin; }}
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location /gz/ {{ gzip on; gzip_min_length 1; gzip_types text/html; }}
    location = /teapot {{ return 418 "short and stout\\n"; }}
    location = /boom {{ return 503; }}
  }}
}}
"""


def record_nginx(out_dir, work):
    root = os.path.join(work, "nginx-www")
    os.makedirs(os.path.join(root, "gz"))
    page = "<html><body>" + "nginx test page " * 400 + "</body></html>\n"
    for p in ("index.html", "gz/page.html"):
        with open(os.path.join(root, p), "w") as f:
            f.write(page)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(os.urandom(2 * 1024 * 1024))
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(work=work, port=port, root=root))
    prefix = os.path.join(work, "ngx")
    server = subprocess.Popen(strace_cmd(prefix, ["nginx", "-c", conf, "-p", work]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)
        time.sleep(0.3)
        requests = [
            ([], ["/index.html", "/teapot", "/boom"]),   # keep-alive: one connection
            (["--compressed"], ["/gz/page.html"]),       # gzip: chunked response
            ([], ["/big.bin"]),                           # sendfile: bytes not copied
            (["-I"], ["/index.html"]),
            ([], ["/nope"]),
        ]
        expected = run_curls(port, requests)
        time.sleep(0.3)
    finally:
        stop(server)
    write(out_dir, "nginx_server", parse_traces(prefix, "server", port), expected)


def main():
    out_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "recorded")
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="record-http-")
    try:
        record_python(out_dir, work)
        record_nginx(out_dir, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
