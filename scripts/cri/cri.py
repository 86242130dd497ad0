#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cri.py - a small CRI v1 client that starts pods the way a kubelet does.

  cri.py --address SOCK pod [--name NAME] [--containers N] [--image IMG]
                            [--pull] [--host-network] [--logdir DIR] [--keep SECONDS]
  cri.py --address SOCK pods --count N [--name PREFIX] [--containers N] ...

`pod` runs one pod: RunPodSandbox, (with --pull: PullImage of the image, as
a kubelet does when the node lacks it), then CreateContainer and StartContainer
for each container, waits until every container is RUNNING, checks its
log, then tears the pod down as the kubelet does (StopContainer,
RemoveContainer, StopPodSandbox, RemovePodSandbox).  `pods` starts N pods
at the same time (a thread each).  Each pod prints one JSON line: its
sandbox and container ids, the client-side time from RunPodSandbox sent to
the last StartContainer returned (start_ms), the containers' states and
exit codes.  Exit status 0 if every pod started and stopped as expected,
1 if not (the reason on stderr), 2 on bad usage.

Test and demo tooling for startpath; not a kubelet.  It needs
python3-grpcio and python3-grpc-tools (the stubs are generated from
cri.proto on first use, into build/cri or $STARTPATH_CRI_GEN).
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load_stubs():
    gen = os.environ.get("STARTPATH_CRI_GEN") or os.path.join(HERE, "..", "..", "build", "cri")
    proto = os.path.join(HERE, "cri.proto")
    out = os.path.join(gen, "cri_pb2.py")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(proto):
        os.makedirs(gen, exist_ok=True)
        r = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I" + HERE,
                            "--python_out=" + gen, "--grpc_python_out=" + gen, proto],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("cri.py: cannot generate the CRI stubs (apt-get install python3-grpc-tools): "
                     + r.stderr.strip())
    sys.path.insert(0, gen)
    import grpc  # noqa: E402
    import cri_pb2  # noqa: E402
    import cri_pb2_grpc  # noqa: E402
    return grpc, cri_pb2, cri_pb2_grpc


class PodError(Exception):
    pass


def run_pod(stub, pb, name, ncont, image, host_network, logdir, keep, timeout, cgparent,
            istub=None):
    uid = "uid-%s-%d" % (name, os.getpid())
    plog = os.path.join(logdir, name) if logdir else ""
    if plog:
        os.makedirs(plog, exist_ok=True)
    sec = pb.LinuxSandboxSecurityContext(
        namespace_options=pb.NamespaceOption(network=2 if host_network else 0))
    sconf = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace="default", attempt=0),
        hostname=name, log_directory=plog,
        linux=pb.LinuxPodSandboxConfig(cgroup_parent=cgparent, security_context=sec))
    res = {"name": name}
    t0 = time.monotonic()
    res["t_sent_realtime_ns"] = time.time_ns()
    sid = stub.RunPodSandbox(pb.RunPodSandboxRequest(config=sconf), timeout=timeout).pod_sandbox_id
    res["sandbox_id"] = sid
    res["run_pod_sandbox_ms"] = (time.monotonic() - t0) * 1e3
    if istub:
        t1 = time.monotonic()
        res["image_ref"] = istub.PullImage(pb.PullImageRequest(
            image=pb.ImageSpec(image=image), sandbox_config=sconf), timeout=timeout).image_ref
        res["pull_ms"] = (time.monotonic() - t1) * 1e3
    cids = []
    for i in range(ncont):
        cname = "c%d" % (i + 1)
        msg = "hello from %s/%s" % (name, cname)
        cconf = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=cname, attempt=0),
            image=pb.ImageSpec(image=image),
            command=["/bin/sh", "-c", "echo %s; exec sleep 3600" % msg],
            log_path=(cname + ".log") if plog else "")
        cid = stub.CreateContainer(pb.CreateContainerRequest(
            pod_sandbox_id=sid, config=cconf, sandbox_config=sconf), timeout=timeout).container_id
        stub.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=timeout)
        cids.append((cid, cname, msg))
    res["start_ms"] = (time.monotonic() - t0) * 1e3
    res["t_done_realtime_ns"] = time.time_ns()
    res["containers"] = [c[0] for c in cids]
    # Running, and saying what it was told to (the CRI log file).
    states = []
    for cid, cname, msg in cids:
        st = stub.ContainerStatus(pb.ContainerStatusRequest(container_id=cid), timeout=timeout).status
        if st.state != pb.CONTAINER_RUNNING:
            raise PodError("%s: container %s is %s, not RUNNING (%s)" %
                           (name, cname, pb.ContainerState.Name(st.state), st.message))
        states.append(pb.ContainerState.Name(st.state))
        if plog:
            path = os.path.join(plog, cname + ".log")
            deadline = time.monotonic() + 10
            text = ""
            while time.monotonic() < deadline:
                try:
                    with open(path) as f:
                        text = f.read()
                except OSError:
                    text = ""
                if " stdout F %s\n" % msg in text:
                    break
                time.sleep(0.05)
            else:
                raise PodError("%s: container %s's log %s lacks '%s': %r" %
                               (name, cname, path, msg, text[:300]))
    res["states"] = states
    if keep:
        time.sleep(keep)
    codes = []
    for cid, cname, _ in cids:
        stub.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=0), timeout=timeout)
        st = stub.ContainerStatus(pb.ContainerStatusRequest(container_id=cid), timeout=timeout).status
        if st.state != pb.CONTAINER_EXITED:
            raise PodError("%s: container %s is %s after StopContainer" %
                           (name, cname, pb.ContainerState.Name(st.state)))
        codes.append(st.exit_code)
        stub.RemoveContainer(pb.RemoveContainerRequest(container_id=cid), timeout=timeout)
    res["exit_codes"] = codes
    stub.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sid), timeout=timeout)
    stub.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sid), timeout=timeout)
    return res


def main():
    ap = argparse.ArgumentParser(prog="cri.py", description=__doc__.split("\n\n")[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", required=True, help="containerd's gRPC socket")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per call (120)")
    ap.add_argument("--cgroup-parent", default="", help="the pods' cgroup parent")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for c in ("pod", "pods"):
        p = sub.add_parser(c)
        p.add_argument("--name", default="pod", help="pod name (pods: prefix, -1.. appended)")
        p.add_argument("--containers", type=int, default=1, help="containers per pod (1)")
        p.add_argument("--image", default="docker.io/library/bb:latest")
        p.add_argument("--pull", action="store_true", help="PullImage before the containers")
        p.add_argument("--host-network", action="store_true")
        p.add_argument("--logdir", default="", help="pod log directory root (CRI logs)")
        p.add_argument("--keep", type=float, default=0, help="seconds to keep it running")
        if c == "pods":
            p.add_argument("--count", type=int, required=True)
    a = ap.parse_args()
    if a.containers < 1 or (a.cmd == "pods" and a.count < 1):
        ap.error("--containers and --count must be at least 1")
    grpc, pb, pbg = load_stubs()
    chan = grpc.insecure_channel("unix://" + os.path.abspath(a.address))
    stub = pbg.RuntimeServiceStub(chan)
    istub = pbg.ImageServiceStub(chan) if a.pull else None
    names = [a.name] if a.cmd == "pod" else ["%s-%d" % (a.name, i + 1) for i in range(a.count)]
    results, errors = {}, []

    def one(n):
        try:
            results[n] = run_pod(stub, pb, n, a.containers, a.image, a.host_network,
                                 a.logdir, a.keep, a.timeout, a.cgroup_parent, istub)
        except (PodError, grpc.RpcError) as e:
            errors.append("cri.py: pod %s: %s" % (n, e.details() if hasattr(e, "details") else e))

    threads = [threading.Thread(target=one, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in names:
        if n in results:
            print(json.dumps(results[n]), flush=True)
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
