"""The layering checker finds each kind of forbidden edge and include, and
lets the allowed ones pass (tests/layering/layering.py)."""
import os
import tempfile
import unittest

import layering


class EdgeRules(unittest.TestCase):
    def check(self, src, dst, testonly=()):
        return layering.check_edges([(src, dst)], frozenset(testonly))

    def test_allowed_directions_pass(self):
        for src, dst in [
            ("//ctl:run_command", "//agent/pipeline:record_spill"),
            ("//ctl:tracectl", "//otlp:config"),
            ("//agent/daemon:session_manager", "//syscalls:classes"),
            ("//controlplane/fanout:fanout", "//otlp:exporter"),
            ("//otlp:otlp_grpc_exporter", "//auth:tls"),
            ("//storage:rocksdb_wal", "//common:status_macros"),
            ("//agent/capture:events", "//third_party:absl"),
            ("//tests/e2e:cli_test", "//ctl:tracectl"),
            ("//agent/spans:span_builder", "//tools/build_defs:cc"),
        ]:
            self.assertEqual(self.check(src, dst), [], f"{src} -> {dst}")

    def test_peers_and_upward_edges_fail(self):
        for src, dst, words in [
            ("//agent/daemon:x", "//controlplane/auth:tls", "agent/ must not depend on controlplane/"),
            ("//controlplane/server:x", "//agent/syscalls:classes", "controlplane/ must not depend on agent/"),
            ("//controlplane:main", "//ctl:version", "controlplane/ must not depend on ctl/"),
            ("//version:version", "//ctl:version", "version/ must not depend on ctl/"),
            ("//otlp:config", "//controlplane/fanout:x", "otlp/ must not depend on controlplane/"),
            ("//common:backoff", "//storage:wal", "common/ must not depend on storage/"),
            ("//ctl:run_command", "//controlplane/store:trace_store", "ctl/ must not depend on controlplane/"),
        ]:
            bad = self.check(src, dst)
            self.assertEqual(len(bad), 1, f"{src} -> {dst}")
            self.assertIn(words, bad[0])

    def test_tests_only_from_test_code(self):
        self.assertIn("production code depends on tests/",
                      self.check("//storage:wal", "//tests/testing:gunzip")[0])
        self.assertEqual(self.check("//storage:wal_test", "//tests/testing:gunzip",
                                    testonly=["//storage:wal_test"]), [])

    def test_parses_bazel_graph_lines(self):
        lines = ['digraph mygraph {', '  "//a:b" -> "//c:d"', '  "//a:b" -> "@x//:y"', '}']
        self.assertEqual(list(layering.parse_edges(lines)), [("//a:b", "//c:d")])


class IncludeRules(unittest.TestCase):
    def test_forbidden_include_is_reported_with_its_file(self):
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "agent/daemon"))
            os.makedirs(os.path.join(root, "controlplane/auth"))
            with open(os.path.join(root, "agent/daemon/x.cc"), "w") as f:
                f.write('#include "controlplane/auth/tls.h"\n#include "otlp/exporter.h"\n'
                        '#include "tracer/v1/agent.pb.h"\n#include <vector>\n')
            with open(os.path.join(root, "controlplane/auth/tls.h"), "w") as f:
                f.write('#include "auth/role.h"\n')
            bad = layering.check_includes(root)
            self.assertEqual(bad, ["agent/daemon/x.cc: includes controlplane/auth/tls.h: "
                                   "agent/ must not use controlplane/"])


if __name__ == "__main__":
    unittest.main()
