#!/usr/bin/env python3
"""Builds an OCI image layout archive (OCI image-spec v1.0: image-layout.md,
manifest.md, config.md, layer.md) from one binary of ours and the build
machine's Debian libraries. Invoked by tools/build_defs/oci.bzl; also
usable by hand.

The image has two layers:
  1. runtime: the dynamic loader and exactly the shared libraries the binary
     loads (the transitive closure `ldd` resolves, every symlink on the way
     kept as a symlink: /lib -> usr/lib, libfoo.so.1 -> libfoo.so.1.2.3),
     /etc/passwd + /etc/group (root and nonroot=65532), the CA bundle, and
     empty directories (mount points, data directories).
  2. app: the binary.

Reproducible: entries sorted, every mtime = the commit time from the
workspace status (0 when unstamped), uid/gid 0 and no user/group names in
tar headers (except directories given an owner with --dir), modes normalised
(0755 executables and directories, 0644 other files), gzip without name or
time. The same inputs give the same manifest digest on any machine with the
same Debian libraries.

Usage:
  oci_image.py --out IMG.tar --digest_out IMG.digest --binary SRC:/usr/bin/NAME
      --title NAME --version_header version/semver.h [--version V]
      [--status stable-status.txt] [--source URL] [--user UID:GID]
      [--entrypoint JSON_LIST] [--env K=V]... [--label K=V]...
      [--dir PATH:UID:GID:MODE]... [--file SRC:DEST]...
"""

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

PASSWD = ("root:x:0:0:root:/root:/sbin/nologin\n"
          "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
GROUP = "root:x:0:\nnonroot:x:65532:\n"


class Layer:
    """Files of one layer: path (relative, no leading /) -> entry."""

    def __init__(self):
        self.entries = {}

    def add_dir(self, path, mode=0o755, uid=0, gid=0):
        path = path.strip("/")
        if not path:
            return
        self.add_parents(path)
        self.entries[path] = ("dir", None, mode, uid, gid)

    def add_parents(self, path):
        parent = os.path.dirname(path.strip("/"))
        while parent and parent not in self.entries:
            self.entries[parent] = ("dir", None, 0o755, 0, 0)
            parent = os.path.dirname(parent)

    def add_file(self, path, data, executable=False):
        path = path.strip("/")
        self.add_parents(path)
        self.entries[path] = ("file", data, 0o755 if executable else 0o644, 0, 0)

    def add_symlink(self, path, target):
        path = path.strip("/")
        self.add_parents(path)
        self.entries[path] = ("symlink", target, 0o777, 0, 0)

    def tar(self, mtime):
        """The uncompressed layer tar (bytes): sorted, fixed metadata."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            for path in sorted(self.entries):
                kind, data, mode, uid, gid = self.entries[path]
                info = tarfile.TarInfo(path)
                info.mtime = mtime
                info.mode = mode
                info.uid, info.gid = uid, gid
                info.uname = info.gname = ""
                if kind == "dir":
                    info.type = tarfile.DIRTYPE
                    t.addfile(info)
                elif kind == "symlink":
                    info.type = tarfile.SYMTYPE
                    info.linkname = data
                    t.addfile(info)
                else:
                    info.size = len(data)
                    t.addfile(info, io.BytesIO(data))
        return buf.getvalue()


def resolve_into(layer, path, depth=0):
    """Adds host file `path` to `layer` the way the kernel and the loader
    reach it: each symlink met on the way (a directory like /lib or the file
    itself) becomes the same symlink in the image, the final target a regular
    file with the host file's content."""
    if depth > 40:
        raise RuntimeError(f"symlink loop at {path}")
    parts = [p for p in path.split("/") if p]
    current = "/"
    for i, comp in enumerate(parts):
        cand = os.path.join(current, comp)
        if os.path.islink(cand):
            target = os.readlink(cand)
            layer.add_symlink(cand, target)
            base = target if target.startswith("/") else os.path.join(current, target)
            rest = "/".join(parts[i + 1:])
            return resolve_into(layer, os.path.normpath(os.path.join(base, rest)), depth + 1)
        current = cand
    if not os.path.isfile(current):
        raise RuntimeError(f"{path}: not a regular file")
    with open(current, "rb") as f:
        layer.add_file(current, f.read(), executable=os.access(current, os.X_OK))


_LDD_ARROW = re.compile(r"^\s*(\S+)\s+=>\s+(\S+)\s+\(0x[0-9a-f]+\)\s*$")
_LDD_PLAIN = re.compile(r"^\s*(/\S+)\s+\(0x[0-9a-f]+\)\s*$")


def shared_libraries(binary):
    """Absolute paths of the loader and every shared library `binary` loads
    (the transitive DT_NEEDED closure as the host's loader resolves it)."""
    p = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"ldd {binary}: {p.stderr.strip() or p.stdout.strip()}")
    paths = set()
    for line in p.stdout.splitlines():
        if "not found" in line:
            raise RuntimeError(f"{binary}: library not found on the build machine: {line.strip()}")
        m = _LDD_ARROW.match(line)
        if m:
            paths.add(m.group(2))
            continue
        m = _LDD_PLAIN.match(line)
        if m:
            paths.add(m.group(1))   # the loader (PT_INTERP)
        # linux-vdso.so.1 has no file: skipped.
    if not any("ld-linux" in p or "/ld-" in p for p in paths):
        raise RuntimeError(f"{binary}: no dynamic loader in ldd output (static binary?)")
    return sorted(paths)


def read_status(path):
    values = {}
    if path:
        with open(path, encoding="utf-8") as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition(" ")
                values[k] = v
    return values


def header_version(path):
    with open(path, encoding="utf-8") as f:
        m = re.search(r'kVersion\[\]\s*=\s*"([^"]+)"', f.read())
    if not m:
        raise RuntimeError(f"{path}: no kVersion")
    return m.group(1)


def blob(layout, data):
    """Adds `data` to blobs/sha256; returns its descriptor fields."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    layout["blobs/sha256/" + digest.split(":")[1]] = data
    return digest, len(data)


def canonical_json(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def build(a):
    status = read_status(a.status)
    revision = status.get("STABLE_GIT_COMMIT", "unknown")
    mtime = int(status.get("STABLE_GIT_COMMIT_TIME", "0") or 0)
    version = a.version or header_version(a.version_header)
    source = a.source or status.get("STABLE_GIT_REMOTE_URL") or "unknown"
    created = datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")

    src, dest = a.binary.split(":", 1)
    runtime = Layer()
    for lib in shared_libraries(src):
        resolve_into(runtime, lib)
    runtime.add_file("etc/passwd", PASSWD.encode())
    runtime.add_file("etc/group", GROUP.encode())
    for spec in a.file:
        fsrc, fdest = spec.split(":", 1)
        with open(fsrc, "rb") as f:
            runtime.add_file(fdest, f.read())
    runtime.add_dir("tmp", mode=0o1777)
    for spec in a.dir:
        path, uid, gid, mode = spec.split(":")
        runtime.add_dir(path, mode=int(mode, 8), uid=int(uid), gid=int(gid))
    app = Layer()
    with open(src, "rb") as f:
        app.add_file(dest, f.read(), executable=True)

    layout = {}
    layers, diff_ids = [], []
    for layer in (runtime, app):
        raw = layer.tar(mtime)
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        gz = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=gz, mtime=0, compresslevel=6) as z:
            z.write(raw)
        digest, size = blob(layout, gz.getvalue())
        layers.append({"mediaType": MEDIA_LAYER_GZIP, "digest": digest, "size": size})

    labels = {
        "org.opencontainers.image.title": a.title,
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.source": source,
        "org.opencontainers.image.created": created,
    }
    for kv in a.label:
        k, _, v = kv.partition("=")
        labels[k] = v
    config = {
        "created": created,
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": a.user,
            "Entrypoint": json.loads(a.entrypoint) if a.entrypoint else [dest],
            "Env": ["PATH=/usr/bin:/bin"] + a.env,
            "WorkingDir": "/",
            "Labels": labels,
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [
            {"created": created, "created_by": "oci_image: loader, libraries, accounts, CA"},
            {"created": created, "created_by": f"oci_image: {dest}"},
        ],
    }
    cdigest, csize = blob(layout, canonical_json(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": cdigest, "size": csize},
        "layers": layers,
        "annotations": labels,
    }
    mdigest, msize = blob(layout, canonical_json(manifest))
    index = {
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [{
            "mediaType": MEDIA_MANIFEST, "digest": mdigest, "size": msize,
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": a.ref_name or version},
        }],
    }
    layout["index.json"] = canonical_json(index)
    layout["oci-layout"] = canonical_json({"imageLayoutVersion": "1.0.0"})

    outer = Layer()
    for path, data in layout.items():
        outer.add_file(path, data)
    with open(a.out, "wb") as f:
        f.write(outer.tar(mtime))
    with open(a.digest_out, "w") as f:
        f.write(mdigest + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="the OCI layout archive (tar) to write")
    p.add_argument("--digest_out", required=True, help="file for the manifest digest")
    p.add_argument("--binary", required=True, help="SRC:DEST, DEST absolute in the image")
    p.add_argument("--title", required=True)
    p.add_argument("--version_header", help="C++ header defining kVersion")
    p.add_argument("--version", help="overrides the header's version")
    p.add_argument("--ref_name", help="index ref name (default: the version)")
    p.add_argument("--status", help="Bazel stable-status.txt (stamped builds)")
    p.add_argument("--source", help="org.opencontainers.image.source")
    p.add_argument("--user", default="0:0")
    p.add_argument("--entrypoint", help="JSON list")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--dir", action="append", default=[], help="PATH:UID:GID:OCTAL_MODE")
    p.add_argument("--file", action="append", default=[], help="SRC:DEST")
    a = p.parse_args(argv)
    if not a.version and not a.version_header:
        p.error("--version or --version_header is needed")
    try:
        build(a)
    except (OSError, RuntimeError, ValueError) as e:
        print(f"oci_image: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
