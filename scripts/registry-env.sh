# SPDX-License-Identifier: Apache-2.0
# registry-env.sh - a private registry (Debian's docker-registry, the CNCF
# distribution registry) on 127.0.0.1 and images pushed to it from layers
# built here, offline (sourced by the demo, the tests and the benchmarks).
#   reg_start DIR          start it, storage under DIR; sets REG_ADDR
#                          (127.0.0.1:PORT), also in DIR/addr
#   reg_image DIR REPO SIZES...
#                          build an image of busybox plus one layer of
#                          random data per size (MB; "0.5" works), gzip'd,
#                          and push it as REPO:latest; its layer digests and
#                          sizes, in order, go to DIR/REPO.layers
#                          ("digest size" lines), the manifest's digest to
#                          DIR/REPO.manifest
#   reg_stop DIR           stop it
# REG_SEED: seed of the random layers: the same seed, position and size give
# the same layer (images that differ in one layer share the others).

reg_start() {
	local d=$1 port
	mkdir -p "$d/data"
	# A free port: the kernel picks one for a socket bound to port 0.
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$d/config.yml" <<EOT
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $d/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOT
	docker-registry serve "$d/config.yml" >"$d/registry.log" 2>&1 &
	echo $! >"$d/registry.pid"
	REG_ADDR=127.0.0.1:$port
	echo "$REG_ADDR" >"$d/addr"
	for _ in $(seq 1 100); do
		curl -sf "http://$REG_ADDR/v2/" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "docker-registry did not start; its log:" >&2
	tail -20 "$d/registry.log" >&2
	return 1
}

# _reg_blob ADDR REPO FILE: monolithic upload (POST, then PUT with the digest).
_reg_blob() {
	local addr=$1 repo=$2 f=$3 dg loc
	dg=sha256:$(sha256sum "$f" | cut -d' ' -f1)
	loc=$(curl -sf -X POST -D - -o /dev/null "http://$addr/v2/$repo/blobs/uploads/" |
		tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	[ -n "$loc" ] || { echo "registry refused an upload to $repo" >&2; return 1; }
	case $loc in http*) ;; *) loc="http://$addr$loc" ;; esac
	case $loc in *\?*) loc="$loc&digest=$dg" ;; *) loc="$loc?digest=$dg" ;; esac
	curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$f" "$loc" >/dev/null ||
		{ echo "upload of $f to $repo failed" >&2; return 1; }
}

reg_image() {
	local d=$1 repo=$2 addr img i s n layers="" diffs="" dg sz df cfg m
	shift 2
	addr=$(cat "$d/addr")
	img="$d/build-$repo"
	rm -rf "$img"
	mkdir -p "$img/l0/bin" "$img/l0/etc" "$img/l0/proc" "$img/l0/sys" "$img/l0/dev" "$img/l0/tmp"
	cp /bin/busybox "$img/l0/bin/busybox"
	for a in sh echo true cat ls sleep; do ln -sf busybox "$img/l0/bin/$a"; done
	tar -C "$img/l0" --numeric-owner --owner=0 --group=0 --mtime=@0 -cf "$img/layer0.tar" .
	i=1
	for s in "$@"; do
		mkdir -p "$img/l$i/data"
		n=$(awk -v s="$s" 'BEGIN { printf "%d", s * 1048576 }')
		# Random, so that gzip cannot shrink it: the layer's size is s MB.
		openssl enc -aes-128-ctr -nosalt -pass "pass:${REG_SEED:-startpath}-$i-$s" \
			-in /dev/zero 2>/dev/null | head -c "$n" >"$img/l$i/data/blob$i"
		tar -C "$img/l$i" --numeric-owner --owner=0 --group=0 --mtime=@0 -cf "$img/layer$i.tar" .
		i=$((i + 1))
	done
	: >"$d/$repo.layers"
	for t in "$img"/layer*.tar; do
		df=sha256:$(sha256sum "$t" | cut -d' ' -f1)
		gzip -1 -n -c "$t" >"$t.gz"
		dg=sha256:$(sha256sum "$t.gz" | cut -d' ' -f1)
		sz=$(stat -c %s "$t.gz")
		_reg_blob "$addr" "$repo" "$t.gz" || return 1
		echo "$dg $sz" >>"$d/$repo.layers"
		layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$dg\",\"size\":$sz}"
		diffs="$diffs${diffs:+,}\"$df\""
	done
	printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"],"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$diffs" >"$img/config.json"
	_reg_blob "$addr" "$repo" "$img/config.json" || return 1
	cfg=sha256:$(sha256sum "$img/config.json" | cut -d' ' -f1)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[%s]}' \
		"$cfg" "$(stat -c %s "$img/config.json")" "$layers" >"$img/manifest.json"
	curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$img/manifest.json" "http://$addr/v2/$repo/manifests/latest" >/dev/null ||
		{ echo "manifest push of $repo failed" >&2; return 1; }
	echo "sha256:$(sha256sum "$img/manifest.json" | cut -d' ' -f1)" >"$d/$repo.manifest"
	rm -rf "$img"
}

reg_stop() {
	local d=$1 pid
	pid=$(cat "$d/registry.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$d/registry.pid"
}
