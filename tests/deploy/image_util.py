"""Helpers for the image tests: locate the Bazel-built OCI archives, read
their index/manifest/config, and unpack them with umoci into a root
filesystem (OCI runtime bundle: BUNDLE/rootfs, BUNDLE/config.json)."""

import hashlib
import json
import os
import subprocess
import tarfile


def runfile(rel):
    for base in (os.environ.get("TEST_SRCDIR", ""), os.getcwd()):
        for cand in (os.path.join(base, "tracer", rel), os.path.join(base, rel)):
            if os.path.exists(cand):
                return os.path.abspath(cand)
    raise FileNotFoundError(rel)


def image(name):
    """(archive path, manifest digest) of //deploy:<name>."""
    tar = runfile(f"deploy/{name}.tar")
    with open(runfile(f"deploy/{name}.digest")) as f:
        return tar, f.read().strip()


def run(args, timeout=120, check=True, **kw):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


class Layout:
    """An OCI image layout archive, read without unpacking to disk."""

    def __init__(self, archive):
        self.archive = archive
        with tarfile.open(archive) as t:
            self.members = {m.name: m for m in t.getmembers()}
            self.files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
        self.index = json.loads(self.files["index.json"])
        desc = self.index["manifests"][0]
        self.ref = desc["annotations"]["org.opencontainers.image.ref.name"]
        self.manifest_digest = desc["digest"]
        self.manifest = json.loads(self.blob(desc["digest"]))
        self.config = json.loads(self.blob(self.manifest["config"]["digest"]))

    def blob(self, digest):
        data = self.files["blobs/sha256/" + digest.split(":", 1)[1]]
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise AssertionError(f"blob {digest}: content does not match its digest")
        return data

    def layer_members(self, i):
        """TarInfo entries of layer i (decompressed)."""
        import gzip
        import io
        raw = gzip.decompress(self.blob(self.manifest["layers"][i]["digest"]))
        with tarfile.open(fileobj=io.BytesIO(raw)) as t:
            return t.getmembers(), raw


def unpack(archive, bundle):
    """Untars the layout next to `bundle` and `umoci unpack`s it (as root:
    owners from the layers are kept). Returns (rootfs path, config.json)."""
    layout = bundle + ".layout"
    os.makedirs(layout, exist_ok=True)
    with tarfile.open(archive) as t:
        t.extractall(layout)
    ref = Layout(archive).ref
    run(["umoci", "unpack", "--image", f"{layout}:{ref}", bundle], timeout=300)
    with open(os.path.join(bundle, "config.json")) as f:
        return os.path.join(bundle, "rootfs"), json.load(f)
