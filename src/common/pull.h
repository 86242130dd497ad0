/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pull.h - image pulls found in containerd's and dockerd's recorded calls
 * (pull.c): the registry resolve, each blob's fetch into the content store,
 * each layer's unpack into a snapshot (or, for dockerd, into an overlay2
 * layer).
 */
#ifndef SP_PULL_H
#define SP_PULL_H

#include <stddef.h>
#include <stdint.h>
#include "phases.h"

#define SP_PULL_MAX_LAYERS 64

struct sp_pull_blob {
	char digest[80];
	uint64_t size, t0, t1;
	const struct sp_proc *proc;
	const struct sp_span *span;
};

struct sp_pull_layer {
	char digest[80];         /* "sha256:<hex>" of the blob (compressed) */
	uint64_t size;           /* its size, as committed (0: not fetched here) */
	char snapshot[512];      /* .../snapshots/<id> (dockerd: .../overlay2/<id>) it
				    was unpacked into */
	int fetched, unpacked;
	uint64_t f0, f1;         /* content ingest start .. commit end */
	uint64_t u0, u1;         /* snapshot prepare .. the next layer's (or the apply's end) */
	const struct sp_proc *fproc, *uproc;
	const struct sp_span *fspan, *uspan;
};

struct sp_pull {
	uint64_t t0, t1;                /* first registry connect .. last unpack's end */
	uint64_t resolve_t1;            /* the first layer's fetch starts */
	int resolve_seen;               /* a registry connect was recorded */
	const struct sp_proc *client;   /* the traced client that resolved, or NULL */
	const struct sp_proc *daemon;   /* containerd */
	const struct sp_proc *resolve_proc;
	const struct sp_span *resolve_span;
	char ref[256];                  /* the client's reference argument, or "" */
	struct sp_pull_blob index, manifest, config;
	size_t nlayers;
	struct sp_pull_layer layers[SP_PULL_MAX_LAYERS]; /* in manifest order */
	char why[200];                  /* what was not recorded, or "" */
	/* dockerd's own pull (its layer store, not containerd's): the layers'
	 * downloads are not recorded, their applies are; the image's id
	 * (its config's digest) as dockerd stored it. */
	int docker;
	char image_id[80];
	/* The traced docker client over the pull, if any, and whether it
	 * only pulled (docker pull: no start of it to open). */
	const struct sp_proc *docker_cli;
	int cli_pull_only;
};

/* The pulls in procs, in time order (*out malloc'd; free()).  Returns how
 * many, or -1. */
int sp_pulls_find(const struct sp_proc *procs, size_t n, struct sp_pull **out);

#endif
