"""A throwaway nginx on loopback for the HTTP capture benchmark.

One master and `worker_processes` workers (default 1, so every request is
served by one known process that the tracer can attach to with -p), daemon
off, access_log off, a small static file, and a stub_status location whose
"requests" counter is nginx's own count of requests served (the reference the
span count is checked against, next to wrk's count). Everything lives in a
temporary directory that stop() removes.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

STATUS_PATH = "/nginx_status"


def free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid):
    """Child pids of `pid` (all its threads' children)."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except FileNotFoundError:
        pass
    return out


class NginxServer:
    def __init__(self, body_bytes=612, workers=1, port=None, keepalive_requests=1000):
        self.port = port or free_loopback_port()
        self.dir = tempfile.mkdtemp(prefix="http_bench_nginx_")
        self.body_bytes = body_bytes
        root = os.path.join(self.dir, "www")
        os.makedirs(root)
        # A page the size of nginx's default index.html (612 bytes).
        with open(os.path.join(root, "index.html"), "wb") as f:
            f.write(b"<html><body>" + b"x" * (body_bytes - 27) + b"</body></html>\n")
        conf = f"""
daemon off;
master_process on;
worker_processes {workers};
user root;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {self.dir}/body;
    proxy_temp_path {self.dir}/proxy;
    fastcgi_temp_path {self.dir}/fastcgi;
    uwsgi_temp_path {self.dir}/uwsgi;
    scgi_temp_path {self.dir}/scgi;
    sendfile on;
    keepalive_requests {keepalive_requests};
    server {{
        listen 127.0.0.1:{self.port};
        root {root};
        location = {STATUS_PATH} {{ stub_status; }}
    }}
}}
"""
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/index.html"

    def start(self, timeout=10.0):
        subprocess.run(["nginx", "-t", "-q", "-c", self.conf, "-p", self.dir], check=True)
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "w+")
        self.proc = subprocess.Popen(["nginx", "-c", self.conf, "-p", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stderr.seek(0)
                raise RuntimeError(f"nginx exited: {self.stderr.read()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=1) as r:
                    if r.status == 200 and self.workers():
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def workers(self):
        return children(self.proc.pid)

    def requests_served(self):
        """nginx's count of requests served so far, this status request excluded."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{STATUS_PATH}", timeout=5) as r:
            text = r.read().decode()
        # "server accepts handled requests\n A H R \n"
        m = re.search(r"\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n", text)
        if not m:
            raise RuntimeError(f"unexpected stub_status output: {text!r}")
        return int(m.group(3)) - 1

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
