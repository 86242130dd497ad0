#!/usr/bin/env bash
# The deployment examples hold together, offline:
#  - examples/kubernetes: `kubectl kustomize` builds it (kubectl's
#    --dry-run=client asks an API server for its resource types even on the
#    client side, so it cannot run without a cluster), and the objects say
#    what the README promises: a privileged init container that installs
#    the library, the launcher and the containerd drop-in from the
#    ConfigMap on the node, a watch container serving /metrics on the
#    annotated port, the output directory shared through a hostPath; the
#    shell scripts in it parse;
#  - the systemd units run `startpath watch` with options it accepts.
. "$(dirname "$0")/lib.sh"
need_cmd kubectl kubernetes-client
need_cmd python3 python3
kubectl kustomize "$TOP/examples/kubernetes" >"$TMP/k.yaml" 2>"$TMP/e" || fail "kustomize: $(cat "$TMP/e")"
python3 - "$TMP/k.yaml" "$TMP" <<'EOT' || fail "the Kubernetes example does not hold together"
import subprocess, sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
assert set(docs) == {"Namespace", "ConfigMap", "DaemonSet"}, docs.keys()
ds, cm = docs["DaemonSet"], docs["ConfigMap"]
assert ds["apiVersion"] == "apps/v1"
spec = ds["spec"]["template"]["spec"]
ann = ds["spec"]["template"]["metadata"]["annotations"]
assert ann["prometheus.io/scrape"] == "true"
init, = spec["initContainers"]
watch, = spec["containers"]
assert init["securityContext"]["privileged"] is True
port = [p for p in watch["ports"] if p["name"] == "metrics"][0]["containerPort"]
assert str(port) == ann["prometheus.io/port"], (port, ann)
assert watch["readinessProbe"]["httpGet"]["path"] == "/metrics"
script = init["command"][-1]
for want in ["libstartpath.so", "startpath-exec", "containerd.service.d/startpath.conf", "/dropin/startpath.conf"]:
    assert want in script, want
ws = watch["command"][-1]
assert "startpath watch /run/startpath" in ws and "--metrics-listen 0.0.0.0:%d" % port in ws, ws
conf = cm["data"]["startpath.conf"]
assert "LD_PRELOAD=/opt/startpath/lib/libstartpath.so" in conf and "STARTPATH_DIR=/run/startpath" in conf
vols = {v["name"]: v for v in spec["volumes"]}
mounts = {m["name"]: m["mountPath"] for m in watch["volumeMounts"]}
assert vols[[n for n, p in mounts.items() if p == "/run/startpath"][0]]["hostPath"]["path"] == "/run/startpath"
assert vols["dropin"]["configMap"]["name"] == cm["metadata"]["name"]
for i, s in enumerate([script, ws]):
    open("%s/s%d.sh" % (sys.argv[2], i), "w").write(s)
EOT
for s in "$TMP"/s*.sh; do sh -n "$s" || fail "a script of the DaemonSet does not parse: $s"; done
ok "examples/kubernetes: builds offline (kustomize), the DaemonSet installs the library and serves /metrics on its annotated port"
# The systemd unit's command line: startpath watch takes its options (run
# once, on a directory of the test's own).
unit="$TOP/examples/systemd/startpath-watch.service"
args=$(awk '/^ExecStart=/ { on = 1; sub(/^ExecStart=/, "") } on { c = sub(/\\$/, ""); printf "%s ", $0; if (!c) exit }' "$unit")
set -- $args
[ "$(basename "$1")" = startpath ] && [ "$2" = watch ] || fail "the unit does not run startpath watch: $args"
[ "$3" = /run/startpath ] || fail "the unit watches $3, not the drop-in's /run/startpath"
shift 3
timeout 60 "$SP" watch "$TMP/dir" "$@" --once --state "$TMP/state" >/dev/null 2>"$TMP/e"; rc=$?
[ $rc -eq 0 ] || fail "startpath watch with the unit's options: exit $rc: $(cat "$TMP/e")"
ok "examples/systemd: startpath watch takes the unit's options ($*)"
