"""deploy/kubernetes: every object passes the offline schema check
(k8s_schema.py), and the values that matter are read back and checked
against each other and against the real binaries: their flags, the ports
they listen on, the files they load, the probes' targets."""

import copy
import os
import shutil
import tempfile
import unittest
import urllib.request

import deploy_util as d
import k8s_schema

# The agent's capabilities, measured (agent_caps_test.py repeats it).
AGENT_CAPABILITIES = ["BPF", "PERFMON", "SYS_PTRACE"]
# Host paths the agent mounts: path -> read-only?
AGENT_HOST_MOUNTS = {"/sys/kernel/btf": True, "/sys/fs/cgroup": True,
                     "/var/lib/tracer/agent": False}
OTLP_EGRESS_PORTS = {4317, 4318, 443}


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kust, cls.objs = d.manifests()
        cls.agent = cls.objs[("DaemonSet", "trace-agent")]
        cls.cp = cls.objs[("Deployment", "trace-controlplane")]
        cls.svc = cls.objs[("Service", "trace-controlplane")]
        cls.pvc = cls.objs[("PersistentVolumeClaim", "trace-controlplane-data")]

    def mounts(self, obj):
        return d.mounts(obj)


class SchemaTest(Base):
    def test_every_object_is_valid(self):
        self.assertEqual(len(self.objs), 9)
        for (kind, name), obj in self.objs.items():
            with self.subTest(kind=kind, name=name):
                self.assertEqual(k8s_schema.validate(k8s_schema.strip(obj)), [])

    def test_checker_rejects_broken_objects(self):
        ds = k8s_schema.strip(self.agent)
        cases = {
            "unknown field": ("hostPid", lambda o: d.pod_spec(o).__setitem__("hostPid", True)),
            "wrong type": ("expected a boolean",
                           lambda o: d.pod_spec(o).__setitem__("hostPID", "yes")),
            "missing required": ("required field", lambda o: o["spec"].pop("selector")),
            "misplaced field": ("volumeMount",
                                lambda o: d.container(o).__setitem__("volumeMount", [])),
            "bad newer field": ("appArmorProfile.kind",
                                lambda o: d.container(o)["securityContext"]
                                ["appArmorProfile"].__setitem__("kind", "x")),
        }
        for what, (needle, mutate) in cases.items():
            with self.subTest(what):
                o = copy.deepcopy(ds)
                mutate(o)
                errors = k8s_schema.validate(o)
                self.assertTrue(any(needle in e for e in errors), errors)

    def test_kustomization(self):
        ns = self.kust["namespace"]
        self.assertEqual(ns, "tracer")
        self.assertIn(("Namespace", ns), self.objs)
        for (kind, name), obj in self.objs.items():
            if kind != "Namespace":
                self.assertEqual(obj["metadata"].get("namespace"), ns, (kind, name))
        images = {i["name"] for i in self.kust["images"]}
        used = {c["image"].rsplit(":", 1)[0] for o in (self.agent, self.cp)
                for c in d.pod_spec(o)["containers"]}
        self.assertEqual(images, used)
        self.assertEqual(used, {"tracer/trace-agent", "tracer/trace-controlplane"})

    def test_service_accounts_exist_without_tokens(self):
        for obj in (self.agent, self.cp):
            sa = d.pod_spec(obj)["serviceAccountName"]
            self.assertIn(("ServiceAccount", sa), self.objs)
            self.assertIs(self.objs[("ServiceAccount", sa)]["automountServiceAccountToken"], False)
            self.assertIs(d.pod_spec(obj)["automountServiceAccountToken"], False)


class AgentTest(Base):
    def test_host_pid_and_capabilities(self):
        spec = d.pod_spec(self.agent)
        self.assertIs(spec["hostPID"], True)
        self.assertNotIn("hostNetwork", spec)
        sc = d.container(self.agent)["securityContext"]
        self.assertIs(sc["privileged"], False)
        self.assertIs(sc["allowPrivilegeEscalation"], False)
        self.assertIs(sc["readOnlyRootFilesystem"], True)
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        self.assertEqual(sc["capabilities"]["add"], AGENT_CAPABILITIES)
        # The annotation and the field say the same thing.
        ann = self.agent["spec"]["template"]["metadata"]["annotations"]
        name = d.container(self.agent)["name"]
        self.assertEqual(ann[f"container.apparmor.security.beta.kubernetes.io/{name}"],
                         sc["appArmorProfile"]["type"].lower())

    def test_host_mounts(self):
        got = {}
        for path, (vol, ro) in self.mounts(self.agent).items():
            if "hostPath" in vol:
                self.assertEqual(vol["hostPath"]["path"].split("/")[:3],
                                 path.split("/")[:3], path)
                got[vol["hostPath"]["path"]] = ro
        self.assertEqual(got, AGENT_HOST_MOUNTS)
        # tracefs is not needed (raw tracepoints attach through bpf(2)).
        self.assertFalse(any("tracing" in p or "debug" in p for p in self.mounts(self.agent)))

    def test_data_dir_and_certificates(self):
        c = d.container(self.agent)
        flags = d.flag_map(c["args"])
        mounts = self.mounts(self.agent)
        vol, ro = mounts[flags["--data_dir"]]
        self.assertEqual(vol["hostPath"], {"path": "/var/lib/tracer/agent",
                                           "type": "DirectoryOrCreate"})
        self.assertFalse(ro)
        vol, ro = mounts[flags["--tls_dir"]]
        self.assertTrue(ro)
        self.assertEqual(vol["secret"]["secretName"], "tracer-agent-tls")
        self.assertEqual(vol["secret"]["defaultMode"], 0o400)

    def test_node_id_from_downward_api(self):
        c = d.container(self.agent)
        env = {e["name"]: e for e in c["env"]}
        flags = d.flag_map(c["args"])
        var = flags["--node_id"][2:-1]
        self.assertEqual(flags["--node_id"], f"$({var})")
        self.assertEqual(env[var]["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName")
        # The certificate is chosen by node id: no fixed --tls_name.
        self.assertNotIn("--tls_name", flags)

    def test_probes_use_the_agents_grpc_health_service(self):
        c = d.container(self.agent)
        flags = d.flag_map(c["args"])
        env = {e["name"]: e for e in c["env"]}
        host, port = flags["--health_listen"].rsplit(":", 1)
        var = host[2:-1]
        self.assertEqual(host, f"$({var})")
        self.assertEqual(env[var]["valueFrom"]["fieldRef"]["fieldPath"], "status.podIP")
        self.assertIn("--health_allow_non_loopback", flags)
        self.assertEqual(d.container_ports(c)["health"], int(port))
        for probe in ("readinessProbe", "livenessProbe"):
            self.assertEqual(set(c[probe]) & {"grpc", "httpGet", "tcpSocket", "exec"}, {"grpc"})
            self.assertEqual(d.probe_port(c, c[probe]), int(port))
        # host.name of the spans is the node's name too.
        self.assertEqual(flags["--host_name"], flags["--node_id"])

    def test_controlplane_address_is_the_service(self):
        flags = d.flag_map(d.container(self.agent)["args"])
        host, port = flags["--controlplane"].rsplit(":", 1)
        self.assertEqual(host, f"{self.svc['metadata']['name']}."
                               f"{self.svc['metadata']['namespace']}.svc")
        ports = {p["name"]: p for p in self.svc["spec"]["ports"]}
        self.assertEqual(ports["grpc"]["port"], int(port))
        cp_ports = d.container_ports(d.container(self.cp))
        self.assertEqual(cp_ports[ports["grpc"]["targetPort"]], int(port))

    def test_runs_everywhere_with_resources(self):
        spec = d.pod_spec(self.agent)
        self.assertIn({"operator": "Exists"}, spec["tolerations"])
        res = d.container(self.agent)["resources"]
        self.assertEqual(set(res), {"requests", "limits"})
        self.assertEqual(set(res["limits"]), {"cpu", "memory"})
        # Room for the shutdown upload deadline before SIGKILL.
        flags = d.flag_map(d.container(self.agent)["args"])
        self.assertGreater(spec["terminationGracePeriodSeconds"] * 1000,
                           int(flags["--shutdown_upload_deadline_ms"]))


class ControlPlaneTest(Base):
    def test_deployment_shape(self):
        self.assertEqual(self.cp["spec"]["replicas"], 1)
        self.assertEqual(self.cp["spec"]["strategy"], {"type": "Recreate"})
        self.assertEqual(self.pvc["spec"]["accessModes"], ["ReadWriteOnce"])
        vol, ro = self.mounts(self.cp)[d.flag_map(d.container(self.cp)["args"])["--data_dir"]]
        self.assertEqual(vol["persistentVolumeClaim"]["claimName"],
                         self.pvc["metadata"]["name"])
        self.assertFalse(ro)

    def test_security(self):
        psc = d.pod_spec(self.cp)["securityContext"]
        self.assertIs(psc["runAsNonRoot"], True)
        self.assertEqual(psc["runAsUser"], 65532)  # the image's user
        self.assertEqual(psc["fsGroup"], 65532)
        self.assertEqual(psc["seccompProfile"], {"type": "RuntimeDefault"})
        sc = d.container(self.cp)["securityContext"]
        self.assertIs(sc["readOnlyRootFilesystem"], True)
        self.assertIs(sc["allowPrivilegeEscalation"], False)
        self.assertEqual(sc["capabilities"], {"drop": ["ALL"]})

    def test_secret_items_are_the_files_the_daemon_loads(self):
        flags = d.flag_map(d.container(self.cp)["args"])
        vol, ro = self.mounts(self.cp)[flags["--tls_dir"]]
        self.assertTrue(ro)
        self.assertEqual(vol["secret"]["secretName"], "tracer-controlplane-tls")
        self.assertEqual(vol["secret"]["defaultMode"], 0o400)
        name = flags["--tls_name"]
        self.assertEqual(sorted(i["path"] for i in vol["secret"]["items"]),
                         sorted(["ca.pem", f"{name}.pem", f"{name}.key"]))

    def test_service_and_probes_match_listen_flags(self):
        c = d.container(self.cp)
        flags = d.flag_map(c["args"])
        ports = d.container_ports(c)
        self.assertEqual(ports["grpc"], int(flags["--listen"].rsplit(":", 1)[1]))
        self.assertEqual(ports["metrics"], int(flags["--metrics_listen"].rsplit(":", 1)[1]))
        self.assertEqual({p["name"]: (p["port"], p["targetPort"]) for p in self.svc["spec"]["ports"]},
                         {"grpc": (7443, "grpc"), "metrics": (9464, "metrics")})
        labels = self.cp["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(self.svc["spec"]["selector"], {"app.kubernetes.io/name": "trace-controlplane"})
        self.assertLessEqual(self.svc["spec"]["selector"].items(), labels.items())
        self.assertEqual(d.probe_port(c, c["readinessProbe"]), ports["grpc"])
        self.assertEqual(d.probe_port(c, c["livenessProbe"]), ports["metrics"])
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/metrics")


class NetworkPolicyTest(Base):
    def test_controlplane_policy(self):
        np = self.objs[("NetworkPolicy", "trace-controlplane")]["spec"]
        self.assertEqual(np["podSelector"]["matchLabels"], self.svc["spec"]["selector"])
        self.assertEqual(np["policyTypes"], ["Ingress", "Egress"])
        grpc_rule = next(r for r in np["ingress"] if r["ports"][0]["port"] == 7443)
        peers = [p["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                 for p in grpc_rule["from"]]
        self.assertEqual(sorted(peers), ["trace-agent", "tracectl"])
        self.assertEqual(self.agent["spec"]["template"]["metadata"]["labels"]
                         ["app.kubernetes.io/name"], "trace-agent")
        # Every Service port is covered by an ingress rule.
        ingress_ports = {p["port"] for r in np["ingress"] for p in r["ports"]}
        self.assertEqual(ingress_ports, {p["port"] for p in self.svc["spec"]["ports"]})
        egress_ports = {(p["port"], p["protocol"]) for r in np["egress"] for p in r["ports"]}
        self.assertEqual(egress_ports, {(p, "TCP") for p in OTLP_EGRESS_PORTS}
                         | {(53, "UDP"), (53, "TCP")})

    def test_agent_policy(self):
        np = self.objs[("NetworkPolicy", "trace-agent")]["spec"]
        self.assertEqual(np["podSelector"]["matchLabels"],
                         self.agent["spec"]["selector"]["matchLabels"])
        self.assertNotIn("ingress", np)  # nothing may connect to an agent
        self.assertIn("Ingress", np["policyTypes"])
        to_cp = np["egress"][0]
        self.assertEqual(to_cp["to"][0]["podSelector"]["matchLabels"], self.svc["spec"]["selector"])
        self.assertEqual(to_cp["ports"], [{"port": 7443, "protocol": "TCP"}])


class BinariesTest(Base):
    """The manifests' command lines against the real binaries."""

    def test_every_flag_exists(self):
        for obj, rel in ((self.agent, "agent/trace-agent"),
                         (self.cp, "controlplane/trace-controlplane")):
            c = d.container(obj)
            self.assertEqual(c["command"], [f"/usr/bin/{os.path.basename(rel)}"])
            known = d.binary_flags(d.runfile(rel))
            for flag in d.flag_map(c["args"]):
                self.assertIn(flag[2:], known, f"{rel}: {flag}")

    def test_controlplane_serves_with_manifest_args(self):
        """The control plane with the Deployment's args (paths under a temp
        root, ports on loopback) and a TLS dir holding only the Secret's
        items: it starts, the probes' ports answer, tracectl gets through,
        and SIGTERM ends it with 0."""
        c = d.container(self.cp)
        tmp = tempfile.mkdtemp(prefix="tracer-manifests-")
        self.addCleanup(shutil.rmtree, tmp, True)
        with d.ControlPlaneRun(self.cp, tmp) as cp:
            self.assertTrue(d.tcp_connects(cp.port("startupProbe")))
            live = c["livenessProbe"]["httpGet"]
            url = f"http://127.0.0.1:{cp.port('livenessProbe')}{live['path']}"
            with urllib.request.urlopen(url, timeout=10) as r:
                self.assertEqual(r.status, 200)
                self.assertIn(b"# TYPE", r.read())
            p = cp.tracectl_run("status")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(cp.stop(), 0, cp.log()[-2000:])


if __name__ == "__main__":
    unittest.main()
