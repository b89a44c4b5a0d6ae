"""The OCI images of //deploy: reproducible, complete and exactly as
declared. Part runs unprivileged (the layout, the layers, two packaging runs
with the same inputs); unpacking with umoci and running the binaries from the
root filesystem with chroot needs root and skips (saying so) without it."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import image_util as iu  # noqa: E402

IMAGES = {
    # name: (binary path, title, user, entrypoint flags)
    "controlplane_image": ("/usr/bin/trace-controlplane", "trace-controlplane", "65532:65532",
                           ["--data_dir=/var/lib/tracer", "--listen=0.0.0.0:7443",
                            "--tls_dir=/etc/tracer/tls"]),
    "agent_image": ("/usr/bin/trace-agent", "trace-agent", "0:0",
                    ["--data_dir=/var/lib/tracer", "--tls_dir=/etc/tracer/tls",
                     "--controlplane=trace-controlplane:7443",
                     "--health_listen=127.0.0.1:7444"]),
    "tracectl_image": ("/usr/bin/tracectl", "tracectl", "65532:65532", []),
}

CA = "/etc/ssl/certs/ca-certificates.crt"


def version_from_header():
    with open(iu.runfile("version/semver.h")) as f:
        return re.search(r'kVersion\[\] = "([^"]+)"', f.read()).group(1)


class LayoutTest(unittest.TestCase):
    """What the archives say, read with our own reader and with skopeo."""

    def test_layout_config_labels_and_entrypoint(self):
        version = version_from_header()
        for name, (path, title, user, flags) in IMAGES.items():
            with self.subTest(image=name):
                tar, digest = iu.image(name)
                lay = iu.Layout(tar)
                self.assertEqual(lay.manifest_digest, digest)
                self.assertEqual(json.loads(lay.files["oci-layout"]),
                                 {"imageLayoutVersion": "1.0.0"})
                self.assertEqual(lay.manifest["mediaType"],
                                 "application/vnd.oci.image.manifest.v1+json")
                self.assertEqual(lay.ref, version)
                cfg = lay.config["config"]
                self.assertEqual(cfg["User"], user)
                self.assertEqual(cfg["Entrypoint"], [path] + flags)
                labels = cfg["Labels"]
                self.assertEqual(labels["org.opencontainers.image.title"], title)
                self.assertEqual(labels["org.opencontainers.image.version"], version)
                self.assertRegex(labels["org.opencontainers.image.revision"],
                                 r"^([0-9a-f]{40}|unknown)$")
                self.assertIn("org.opencontainers.image.source", labels)
                self.assertEqual(lay.config["rootfs"]["diff_ids"].__len__(),
                                 len(lay.manifest["layers"]))
                # skopeo, a reader we did not write, agrees.
                p = iu.run(["skopeo", "inspect", f"oci-archive:{tar}:{version}"])
                s = json.loads(p.stdout)
                self.assertEqual(s["Digest"], digest)
                self.assertEqual(s["Labels"], labels)

    def test_next_images_differ_only_in_version(self):
        for base in ("agent_image", "controlplane_image"):
            with self.subTest(image=base):
                a = iu.Layout(iu.image(base)[0])
                b = iu.Layout(iu.image(base + "_next")[0])
                self.assertEqual(b.ref, "0.1.1-next")
                self.assertEqual(b.config["config"]["Labels"]["org.opencontainers.image.version"],
                                 "0.1.1-next")
                self.assertNotEqual(a.manifest_digest, b.manifest_digest)
                self.assertEqual(a.config["rootfs"], b.config["rootfs"])  # same layers

    def test_layers_are_normalised(self):
        for name in IMAGES:
            with self.subTest(image=name):
                lay = iu.Layout(iu.image(name)[0])
                mtimes = set()
                for i in range(len(lay.manifest["layers"])):
                    members, _ = lay.layer_members(i)
                    names = [m.name for m in members]
                    self.assertEqual(names, sorted(names))
                    for m in members:
                        mtimes.add(m.mtime)
                        self.assertEqual((m.uname, m.gname), ("", ""), m.name)
                        if m.name != "var/lib/tracer":   # the data dir belongs to the user
                            self.assertEqual((m.uid, m.gid), (0, 0), m.name)
                self.assertEqual(len(mtimes), 1, mtimes)

    def test_same_inputs_same_digest(self):
        """Runs the packaging tool twice on the same inputs, into different
        directories, as the Bazel rule does; then once with another version."""
        tool = iu.runfile("deploy/oci_image.py")
        binary = iu.runfile("controlplane/trace-controlplane")
        tmp = tempfile.mkdtemp(prefix="oci-repro-")
        try:
            status = os.path.join(tmp, "stable-status.txt")
            with open(status, "w") as f:
                f.write("STABLE_GIT_COMMIT " + "ab" * 20 + "\nSTABLE_GIT_COMMIT_TIME 1700000000\n")

            def build(out_dir, *extra):
                os.makedirs(out_dir)
                iu.run([sys.executable, tool, "--out", f"{out_dir}/i.tar",
                        "--digest_out", f"{out_dir}/i.digest",
                        "--binary", f"{binary}:/usr/bin/trace-controlplane",
                        "--title", "trace-controlplane",
                        "--version_header", iu.runfile("version/semver.h"),
                        "--status", status, "--user", "65532:65532",
                        "--dir", "var/lib/tracer:65532:65532:0700",
                        "--file", f"{CA}:{CA}", *extra])
                with open(f"{out_dir}/i.digest") as f, open(f"{out_dir}/i.tar", "rb") as t:
                    return f.read().strip(), t.read()

            d1, t1 = build(os.path.join(tmp, "one"))
            d2, t2 = build(os.path.join(tmp, "two", "deeper"))
            d3, _ = build(os.path.join(tmp, "three"), "--version", "9.9.9")
            self.assertRegex(d1, r"^sha256:[0-9a-f]{64}$")
            self.assertEqual(d1, d2)
            self.assertEqual(t1, t2)          # the whole archive, byte for byte
            self.assertNotEqual(d1, d3)
            cfg = iu.Layout(os.path.join(tmp, "one", "i.tar")).config
            self.assertEqual(cfg["created"], "2023-11-14T22:13:20Z")
            self.assertEqual(cfg["config"]["Labels"]["org.opencontainers.image.revision"],
                             "ab" * 20)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class RootfsTest(unittest.TestCase):
    """Unpacked with umoci, run from the root filesystem with chroot."""

    def setUp(self):
        if os.geteuid() != 0:
            if os.environ.get("CI"):
                self.fail("the rootfs tests need root, and CI runs as root")
            self.skipTest("SKIP: needs root to unpack images and chroot (sudo make test)")
        self.tmp = tempfile.mkdtemp(prefix="oci-rootfs-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_binaries_run_from_rootfs_with_exactly_their_libraries(self):
        for name, (path, title, user, flags) in IMAGES.items():
            with self.subTest(image=name):
                tar, _ = iu.image(name)
                lay = iu.Layout(tar)
                rootfs, bundle_cfg = iu.unpack(tar, os.path.join(self.tmp, name))
                # The OCI runtime config umoci derived from the image.
                uid, gid = (int(x) for x in user.split(":"))
                self.assertEqual(bundle_cfg["process"]["user"]["uid"], uid)
                self.assertEqual(bundle_cfg["process"]["user"]["gid"], gid)
                self.assertEqual(bundle_cfg["process"]["args"], [path] + flags)
                # --version from the image's own loader and libraries.
                p = iu.run(["chroot", rootfs, path, "--version"])
                revision = lay.config["config"]["Labels"]["org.opencontainers.image.revision"]
                self.assertIn(f"{version_from_header()} (revision {revision}", p.stdout)
                # The loader resolves every library inside the image ...
                p = iu.run(["chroot", rootfs, "/lib64/ld-linux-x86-64.so.2", "--list", path])
                self.assertNotIn("not found", p.stdout)
                loaded = set()
                for line in p.stdout.splitlines():
                    m = re.search(r"=> (\S+) \(", line) or re.match(r"\s*(/\S+) \(", line)
                    if m:
                        loaded.add(os.path.basename(m.group(1)))
                # ... and the image holds nothing else: every shared object in
                # it (through its symlinks) is one the binary loads.
                shipped = set()
                for d, _, files in os.walk(os.path.join(rootfs, "usr/lib")):
                    for f in files:
                        if ".so" in f:
                            shipped.add(f)
                shipped_real = {os.path.basename(os.path.realpath(
                    os.path.join(rootfs, "lib/x86_64-linux-gnu", s)))
                    for s in loaded if not s.startswith("ld-linux")}
                self.assertTrue(shipped_real <= shipped)
                self.assertEqual(shipped - shipped_real - loaded, set(),
                                 "libraries the binary does not load")
                # Accounts, CA bundle.
                with open(os.path.join(rootfs, "etc/passwd")) as f:
                    passwd = f.read()
                self.assertIn("nonroot:x:65532:65532:", passwd)
                self.assertIn("root:x:0:0:", passwd)
                with open(os.path.join(rootfs, CA.lstrip("/")), "rb") as f, open(CA, "rb") as g:
                    self.assertEqual(f.read(), g.read())

    def test_controlplane_runs_as_nonroot_and_owns_its_data_dir(self):
        tar, _ = iu.image("controlplane_image")
        rootfs, _ = iu.unpack(tar, os.path.join(self.tmp, "cp"))
        st = os.stat(os.path.join(rootfs, "var/lib/tracer"))
        self.assertEqual((st.st_uid, st.st_gid), (65532, 65532))
        p = iu.run(["chroot", "--userspec=65532:65532", rootfs, "/usr/bin/trace-controlplane",
                    "--version"])
        self.assertIn("trace-controlplane version", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
