#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The deployment recipes (deploy/), checked offline: no cluster, no registry.
#  - yamllint:     the manifests' syntax and style (yamllint, strict, deploy/.yamllint).
#  - daemonset:    the DaemonSet asks for exactly the privileges the helper needs (CAP_BPF,
#                  CAP_NET_ADMIN, CAP_PERFMON added, ALL dropped, not privileged, no
#                  escalation), the node's network namespace, bpffs and the socket
#                  directory as hostPath, a readiness probe; every helper option it passes
#                  is one the built helper accepts; the pod example mounts the socket
#                  directory and the library and sets LD_PRELOAD to where the init
#                  container puts it.
#  - containerfile: the files the image copies are those `make install PREFIX=/usr`
#                  produces, and the paths the manifest runs are those the image has.
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(deploy/yamllint deploy/daemonset deploy/containerfile)
D=$SKT_ROOT/deploy
[ -x "$HELPERD" ] || { for t in "${TESTS[@]}"; do skt_skip "$t" "$HELPERD not built (make)"; done; exit 0; }

t=deploy/yamllint
if ! command -v yamllint >/dev/null; then
	skt_skip $t "yamllint not installed"
elif out=$(yamllint -s -c "$D/.yamllint" "$D"/kubernetes/*.yaml 2>&1); then
	skt_pass $t
else
	skt_fail $t "$(tr '\n' '|' <<<"$out" | cut -c1-400)"
fi

# The helper's options, from its --help: what the manifest may pass.
"$HELPERD" --help >"$SKT_TMP/help" 2>&1

t=deploy/daemonset
if ! python3 -c 'import yaml' 2>/dev/null; then
	skt_skip $t "python3-yaml not installed"
elif out=$(python3 - "$D/kubernetes/daemonset.yaml" "$D/kubernetes/pod-example.yaml" "$SKT_TMP/help" "$HELPERD" 2>&1 <<'EOF'
import re, subprocess, sys, yaml

ds_path, pod_path, help_path, helperd = sys.argv[1:5]
errs = []
docs = [d for d in yaml.safe_load_all(open(ds_path)) if d]
ds = [d for d in docs if d.get("kind") == "DaemonSet"]
if len(ds) != 1:
    sys.exit("want one DaemonSet, found %d" % len(ds))
ds = ds[0]
if ds.get("apiVersion") != "apps/v1":
    errs.append("apiVersion %r" % ds.get("apiVersion"))
spec = ds["spec"]["template"]["spec"]
if ds["spec"]["selector"]["matchLabels"].items() - ds["spec"]["template"]["metadata"]["labels"].items():
    errs.append("the selector does not match the template's labels")
if spec.get("hostNetwork") is not True:
    errs.append("hostNetwork must be true: the helper reads the node's addresses and routes")
if spec.get("hostPID"):
    errs.append("hostPID is not needed")
c = [x for x in spec["containers"] if x["name"] == "helperd"]
if len(c) != 1:
    sys.exit("no container named helperd")
c = c[0]
sc = c.get("securityContext", {})
caps = sc.get("capabilities", {})
if sorted(caps.get("add", [])) != ["BPF", "NET_ADMIN", "PERFMON"]:
    errs.append("capabilities.add is %r, want exactly BPF, NET_ADMIN, PERFMON" % caps.get("add"))
if caps.get("drop") != ["ALL"]:
    errs.append("capabilities.drop must be [ALL]")
if sc.get("privileged") is not False or sc.get("allowPrivilegeEscalation") is not False:
    errs.append("privileged and allowPrivilegeEscalation must be false")
for x in spec.get("initContainers", []):
    if x.get("securityContext", {}).get("capabilities", {}).get("add"):
        errs.append("init container %s adds capabilities" % x["name"])
probe = c.get("readinessProbe", {})
if "exec" not in probe or not any("helperd.sock" in a for a in probe["exec"]["command"]):
    errs.append("no readiness probe on the helper's socket")
vols = {v["name"]: v for v in spec["volumes"]}
mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
for path in ("/sys/fs/bpf", "/run/skaccel"):
    v = vols.get(mounts.get(path))
    if not v or v.get("hostPath", {}).get("path") != path:
        errs.append("%s must be the node's %s (hostPath)" % (path, path))
# Every option the manifest passes exists in this helper, with a valid value.
opts = set(re.findall(r"--[a-z][a-z-]+", open(help_path).read()))
args = c.get("args", [])
for a in args:
    name = a.split("=", 1)[0]
    if name not in opts:
        errs.append("the helper has no option %s" % name)
r = subprocess.run([helperd] + [a for a in args if a.startswith("--cross-netns")] + ["--help"],
                   capture_output=True, text=True)
if r.returncode != 0:
    errs.append("the helper refuses %s: %s" % (args, r.stderr.strip()))
# The pod example: socket directory, library where the init container puts it, LD_PRELOAD.
lib_vol = vols["lib"]["hostPath"]["path"]
pod = yaml.safe_load(open(pod_path))
pvols = {v["name"]: v.get("hostPath", {}).get("path") for v in pod["spec"]["volumes"]}
for pc in pod["spec"]["containers"]:
    env = {e["name"]: e.get("value") for e in pc.get("env", [])}
    pm = {m["mountPath"]: pvols.get(m["name"]) for m in pc.get("volumeMounts", [])}
    if pm.get("/run/skaccel") != "/run/skaccel":
        errs.append("pod container %s does not mount the socket directory" % pc["name"])
    pre = env.get("LD_PRELOAD", "")
    d = pre.rsplit("/", 1)[0]
    if not pre.endswith("/libskaccel.so") or pm.get(d) != lib_vol:
        errs.append("pod container %s: LD_PRELOAD %r is not the node's %s/libskaccel.so"
                    % (pc["name"], pre, lib_vol))
print("; ".join(errs))
sys.exit(1 if errs else 0)
EOF
); then
	skt_pass $t
else
	skt_fail $t "$out"
fi

t=deploy/containerfile
inst=$SKT_TMP/install
if ! make -s -C "$SKT_ROOT" install DESTDIR="$inst" PREFIX=/usr >"$SKT_TMP/install.log" 2>&1; then
	skt_fail $t "make install: $(skt_tail "$SKT_TMP/install.log")"
else
	ERR=""
	# COPY --from=build /out/SRC DST: SRC must be installed, DST the same path.
	while read -r _ _ src dst; do
		[ -e "$inst/${src#/out/}" ] || ERR="${ERR:+$ERR; }$src is not installed"
		[ "${src#/out}" = "$dst" ] || ERR="${ERR:+$ERR; }$src copied to $dst"
	done < <(grep -E '^COPY --from=build ' "$D/Containerfile")
	[ "$(grep -c '^FROM ' "$D/Containerfile")" -eq 2 ] || ERR="${ERR:+$ERR; }want a build and a runtime stage"
	# What the manifest runs is in the image.
	for p in /usr/sbin/skaccel-helperd /usr/lib/libskaccel.so /usr/bin/skaccel-run; do
		grep -q "$p" "$D/kubernetes/daemonset.yaml" || ERR="${ERR:+$ERR; }the manifest does not use $p"
		grep -qE "^COPY --from=build /out$p $p\$" "$D/Containerfile" ||
			ERR="${ERR:+$ERR; }the image lacks $p"
	done
	grep -q '^ENTRYPOINT \["/usr/sbin/skaccel-helperd"\]' "$D/Containerfile" ||
		ERR="${ERR:+$ERR; }the entrypoint is not the helper"
	if [ -n "$ERR" ]; then skt_fail $t "$ERR"; else skt_pass $t; fi
fi
skt_done
