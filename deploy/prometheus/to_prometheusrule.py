#!/usr/bin/env python3
"""Write deploy/kubernetes/prometheusrule.yaml: the groups of rules.yml, verbatim, as a
Prometheus Operator PrometheusRule. `--check` fails when the file is out of date (CI)."""
import pathlib, sys

here = pathlib.Path(__file__).resolve().parent
rules = (here / "rules.yml").read_text()
groups = rules[rules.index("groups:\n") + len("groups:\n"):]
header = """# Optional: the alert and recording rules of deploy/prometheus/rules.yml as a
# Prometheus Operator PrometheusRule. Generated from that file (same groups,
# verbatim) by deploy/prometheus/to_prometheusrule.py: edit rules.yml, run its
# promtool tests, then run the script.
# The rules select job="pixelwarden" (and job="pixelwarden-probe" for the probe):
# scrape pixelwarden with a ServiceMonitor on service.yaml (job = the service
# name) or relabel the job accordingly.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: pixelwarden
  namespace: pixelwarden
  labels:
    app.kubernetes.io/name: pixelwarden
    # ADJUST to your Prometheus' ruleSelector (kube-prometheus-stack
    # selects release: <helm release name> by default).
    release: kube-prometheus-stack
spec:
  groups:
"""
body = "".join(("    " + line if line.strip() else line) for line in groups.splitlines(keepends=True))
out = header + body
target = here.parent / "kubernetes" / "prometheusrule.yaml"
if "--check" in sys.argv:
    if target.read_text() != out:
        sys.exit(f"{target} is out of date: run {pathlib.Path(__file__).name}")
    print(f"{target.name} matches rules.yml")
else:
    target.write_text(out)
    print(f"wrote {target}")
