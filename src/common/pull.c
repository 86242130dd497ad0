/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pull.c - image pulls in containerd's recorded calls, and their phases.
 *
 * What each process does (containerd 1.6, `ctr image pull` and the CRI's
 * PullImage alike): the client (ctr, or containerd itself for the CRI)
 * connects to the registry and resolves the reference; each blob it fetches
 * goes through containerd's content store: a writer opens
 * `ingest/<h>` (mkdirat) before the HTTP request, and the commit renames
 * `ingest/<h>/data` to `blobs/sha256/<digest>` (the library records the
 * blob's size on that rename).  The unpack, layer by layer in manifest
 * order: a snapshot is prepared (`snapshots/new-N` made and renamed to
 * `snapshots/<id>`), the applier opens the layer's blob (the library
 * records blob opens in containerd) and extracts it (into a bind mount of
 * the snapshot, or straight into the overlay upper dir), the snapshot is
 * committed (metadata only, no call).  The library records blob opens only
 * between a snapshot's prepare and the next blob open: the layer an unpack
 * applies.  A layer is a blob some unpack applied; the other blobs are the
 * manifest, an index before it, the config after it, in fetch order.
 *
 * A start made from the pulled image mounts the top layer's snapshot as
 * the first lowerdir of its rootfs: that ties the start's map to its pull.
 *
 * dockerd (docker.io 20.10, overlay2) pulls by itself: it resolves, puts
 * the manifest into its containerd's content store (found above, with
 * dockerd as the client) and downloads the layers, three at a time, into
 * files under its data root that the library does not record.  Each layer,
 * in manifest order, once downloaded: its directory `overlay2/<id>` is made,
 * a child re-executes dockerd as `docker-untar / .../overlay2/<id>/diff` to
 * extract it, and the layer is committed by renaming
 * `layerdb/tmp/write-set-N` to `layerdb/sha256/<chain id>`; the rename into
 * `distribution/diffid-by-digest/sha256/<hex>` that follows names the
 * layer's blob.  Last, the image's config goes to
 * `imagedb/content/sha256/<id>` and its tag into `repositories.json`.
 */
#include "pull.h"
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct blob {
	char h[72];       /* ingest directory name */
	char digest[80];  /* "sha256:<hex>", once committed */
	uint64_t size;
	uint64_t t0, t1;  /* ingest start, commit end */
	const struct sp_span *s0, *s1;
	const struct sp_proc *proc;
	int committed, layer;
};

struct unpack {
	char snap[512];   /* .../snapshots/<id> */
	char digest[80];
	uint64_t t0, topen, t1;
	const struct sp_span *s0, *sopen;
	const struct sp_proc *proc;
};

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* The last path component after `dir` ("/ingest/", "/blobs/sha256/"): a
 * 64-hex name with `rest` ("" or "/data") after it; copied into out. */
static int hex_after(const char *path, const char *dir, const char *rest, char *out)
{
	const char *p = path ? strstr(path, dir) : NULL;

	if (!p)
		return 0;
	p += strlen(dir);
	if (strlen(p) != 64 + strlen(rest) || !is_hex(p, 64) || strcmp(p + 64, rest) != 0)
		return 0;
	memcpy(out, p, 64);
	out[64] = '\0';
	return 1;
}

/* ".../snapshots/new-N" (a snapshot being prepared)? */
static int is_new_snapshot(const char *path)
{
	const char *p = path ? strstr(path, "/snapshots/new-") : NULL;

	return p && !strchr(p + 11, '/');
}

static int is_rename(unsigned c)
{
	return c == SP_C_RENAME || c == SP_C_RENAMEAT || c == SP_C_RENAMEAT2;
}

static int is_containerd(const struct sp_proc *p)
{
	return strcmp(sp_proc_role(p), "containerd") == 0;
}

/* ---- collection ---- */

struct found {
	char (*upper)[512]; /* overlay upper dirs, "/fs" cut: containers' snapshots */
	size_t nupper, capupper;
	char (*read)[80]; /* digests read outside an unpack (a config after a prepare) */
	size_t nread, capread;
	struct blob *b;
	size_t nb, capb;
	struct unpack *u;
	size_t nu, capu;
	struct sp_pull *pulls;
	size_t np;
};

static struct blob *blob_by_h(struct found *f, const struct sp_proc *p, const char *h)
{
	for (size_t i = f->nb; i-- > 0;)
		if (f->b[i].proc == p && !f->b[i].committed && strcmp(f->b[i].h, h) == 0)
			return &f->b[i];
	return NULL;
}

static int grow(void **v, size_t *cap, size_t n, size_t sz)
{
	void *g;

	if (n < *cap)
		return 0;
	g = realloc(*v, (*cap * 2 + 16) * sz);
	if (!g)
		return -1;
	*v = g;
	*cap = *cap * 2 + 16;
	return 0;
}

static int collect(struct found *f, const struct sp_proc *p)
{
	/* The snapshot being prepared, while its unpack's blob open is awaited. */
	const struct sp_span *prep = NULL;
	char snap[512] = "", hex[72];
	int awaiting = 0;

	for (size_t k = 0; k < p->nspans; k++) {
		const struct sp_span *s = &p->spans[k];
		const char *a = s->nstr > 0 ? s->strs[0] : NULL, *b = s->nstr > 1 ? s->strs[1] : NULL;

		if ((s->call == SP_C_MKDIRAT || s->call == SP_C_MKDIR) && hex_after(a, "/ingest/", "", hex)) {
			if (grow((void **)&f->b, &f->capb, f->nb, sizeof(*f->b)) < 0)
				return -1;
			memset(&f->b[f->nb], 0, sizeof(f->b[0]));
			snprintf(f->b[f->nb].h, sizeof(f->b[0].h), "%s", hex);
			f->b[f->nb].t0 = s->t0;
			f->b[f->nb].s0 = s;
			f->b[f->nb].proc = p;
			f->nb++;
		} else if (is_rename(s->call) && s->has_exit && s->result == 0 &&
			   hex_after(a, "/ingest/", "/data", hex)) {
			struct blob *bl = blob_by_h(f, p, hex);
			char dg[72];

			if (bl && hex_after(b, "/blobs/sha256/", "", dg)) {
				snprintf(bl->digest, sizeof(bl->digest), "sha256:%s", dg);
				bl->size = s->ret_arg;
				bl->t1 = s->t1;
				bl->s1 = s;
				bl->committed = 1;
			}
		} else if ((s->call == SP_C_MKDIRAT || s->call == SP_C_MKDIR) && is_new_snapshot(a)) {
			prep = s;
			awaiting = 0;
		} else if (is_rename(s->call) && prep && is_new_snapshot(a) && b &&
			   strcmp(a, prep->strs[0]) == 0 && s->has_exit && s->result == 0) {
			snprintf(snap, sizeof(snap), "%s", b);
			awaiting = 1;
		} else if (s->call == SP_C_OPENAT && hex_after(a, "/blobs/sha256/", "", hex)) {
			char dg[80];

			snprintf(dg, sizeof(dg), "sha256:%s", hex);
			/* A blob read before outside an unpack (a manifest or
			 * config: a start reads its image's config after its
			 * snapshot is prepared) is not a layer being applied. */
			for (size_t r = 0; awaiting && r < f->nread; r++)
				if (strcmp(f->read[r], dg) == 0)
					awaiting = 0;
			/* A container's rootfs snapshot (an overlay's upper dir)
			 * is not a layer's: a start reads its config after. */
			for (size_t r = 0; awaiting && r < f->nupper; r++)
				if (strcmp(f->upper[r], snap) == 0)
					awaiting = 0;
			if (awaiting) {
				/* The first blob read after a snapshot was prepared:
				 * the layer the applier unpacks into it. */
				struct unpack *u;

				if (grow((void **)&f->u, &f->capu, f->nu, sizeof(*f->u)) < 0)
					return -1;
				u = &f->u[f->nu++];
				memset(u, 0, sizeof(*u));
				snprintf(u->snap, sizeof(u->snap), "%s", snap);
				snprintf(u->digest, sizeof(u->digest), "%s", dg);
				u->t0 = prep->t0;
				u->s0 = prep;
				u->topen = s->t0;
				u->sopen = s;
				u->proc = p;
				awaiting = 0;
				prep = NULL;
			} else {
				if (grow((void **)&f->read, &f->capread, f->nread, sizeof(*f->read)) < 0)
					return -1;
				snprintf(f->read[f->nread++], sizeof(f->read[0]), "%s", dg);
			}
		}
	}
	return 0;
}

/* ---- pulls ---- */

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int blob_cmp(const void *x, const void *y)
{
	return cmp_u64(((const struct blob *)x)->t0, ((const struct blob *)y)->t0);
}

static int unpack_cmp(const void *x, const void *y)
{
	return cmp_u64(((const struct unpack *)x)->t0, ((const struct unpack *)y)->t0);
}

/* The traced process (not containerd) that was running at t and connected
 * to a remote address before it: the client that resolved the image. */
static const struct sp_proc *client_at(const struct sp_proc *procs, size_t n, uint64_t t)
{
	const struct sp_proc *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct sp_proc *p = &procs[i];

		if (is_containerd(p) || p->t_load_ns > t || (p->exited && p->t_exit_ns < t))
			continue;
		for (size_t k = 0; k < p->nspans; k++)
			if (p->spans[k].call == SP_C_CONNECT && p->spans[k].t0 <= t) {
				if (!best || p->t_load_ns > best->t_load_ns)
					best = p;
				break;
			}
	}
	return best;
}

/* First remote connect of p in [lo, hi], or NULL. */
static const struct sp_span *first_connect(const struct sp_proc *p, uint64_t lo, uint64_t hi)
{
	for (size_t k = 0; p && k < p->nspans; k++)
		if (p->spans[k].call == SP_C_CONNECT && p->spans[k].t0 >= lo && p->spans[k].t0 <= hi)
			return &p->spans[k];
	return NULL;
}

#define PULL_GAP_NS 5000000000ULL  /* how far back a resolve's connect is looked for */
#define PULL_QUIET_NS 20000000ULL  /* a pause in a pull's calls that may end it */

/* A remote connect by any traced process in (lo, hi]? */
static int connect_between(const struct sp_proc *procs, size_t n, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < procs[i].nspans; k++)
			if (procs[i].spans[k].call == SP_C_CONNECT && procs[i].spans[k].t0 > lo &&
			    procs[i].spans[k].t0 <= hi)
				return 1;
	return 0;
}

static int add_pull(struct found *f, struct sp_pull *p)
{
	struct sp_pull *g = realloc(f->pulls, (f->np + 1) * sizeof(*g));

	if (!g)
		return -1;
	f->pulls = g;
	f->pulls[f->np++] = *p;
	return 0;
}

/* End of the last unpack: its blob was opened at u->topen; the apply ends
 * before the next thing containerd or the client does about the image. */
static void last_unpack_end(struct sp_pull *pl, struct unpack *u)
{
	uint64_t end = 0;
	const struct sp_proc *p = u->proc;

	for (size_t k = 0; k < p->nspans; k++) {
		const struct sp_span *s = &p->spans[k];

		if (s->t0 <= u->topen)
			continue;
		if ((s->call == SP_C_OPENAT && s != u->sopen) ||
		    ((s->call == SP_C_MKDIRAT || s->call == SP_C_MKDIR) && s->nstr &&
		     (is_new_snapshot(s->strs[0]) || strstr(s->strs[0], "/ingest/")))) {
			end = s->t0;
			break;
		}
	}
	if (pl->client && pl->client->exited && pl->client->t_exit_ns > u->topen &&
	    (!end || pl->client->t_exit_ns < end))
		end = pl->client->t_exit_ns;
	u->t1 = end ? end : u->sopen->t1;
	if (!end)
		snprintf(pl->why, sizeof(pl->why),
			 "the last layer's apply has no recorded end (no later read of the "
			 "image's content by containerd, no traced client's exit): it ends here "
			 "at its blob's open");
}

static int build_pull(struct found *f, struct blob *b, size_t nb, struct unpack *u, size_t nu,
		      const struct sp_proc *procs, size_t n, uint64_t prev_end)
{
	struct sp_pull pl;
	uint64_t first_layer = 0;
	const struct sp_span *c = NULL;

	memset(&pl, 0, sizeof(pl));
	pl.daemon = b ? b->proc : u->proc;
	pl.client = client_at(procs, n, b ? b->t0 : u->t0);
	/* Layers: the blobs an unpack applied (sp_pulls_find); without an
	 * unpack (a fetch only), every blob after the first (the manifest). */
	for (size_t i = 0; i < nb; i++) {
		if (!nu)
			b[i].layer = i > 0;
		if (b[i].layer && b[i].committed && (!first_layer || b[i].t0 < first_layer))
			first_layer = b[i].t0;
	}
	/* In manifest order: the unpack order, then fetched layers never
	 * unpacked in fetch order. */
	for (size_t k = 0; k < nu && pl.nlayers < SP_PULL_MAX_LAYERS; k++) {
		struct sp_pull_layer *L = &pl.layers[pl.nlayers++];

		snprintf(L->digest, sizeof(L->digest), "%s", u[k].digest);
		snprintf(L->snapshot, sizeof(L->snapshot), "%s", u[k].snap);
		L->u0 = u[k].t0;
		L->u1 = k + 1 < nu ? u[k + 1].t0 : 0;
		L->uproc = u[k].proc;
		L->uspan = u[k].s0;
		L->unpacked = 1;
	}
	if (nu) {
		last_unpack_end(&pl, &u[nu - 1]);
		pl.layers[nu - 1 < SP_PULL_MAX_LAYERS ? nu - 1 : SP_PULL_MAX_LAYERS - 1].u1 = u[nu - 1].t1;
	}
	/* The blobs that are not layers, by ingest start: the config is
	 * the last (a child of the manifest, fetched with the layers), the
	 * manifest the one before it, an index before that. */
	{
		size_t nonl[3], nn = 0;

		for (size_t i = 0; i < nb; i++)
			if (b[i].committed && !b[i].layer) {
				if (nn == 3)
					memmove(nonl, nonl + 1, 2 * sizeof(*nonl)), nn = 2;
				nonl[nn++] = i;
			}
		for (size_t j = 0; j < nn; j++) {
			struct sp_pull_blob *o = nn == 1 ? &pl.manifest
						 : j == nn - 1 ? &pl.config
						 : j == nn - 2 ? &pl.manifest : &pl.index;
			const struct blob *x = &b[nonl[j]];

			snprintf(o->digest, sizeof(o->digest), "%s", x->digest);
			o->size = x->size;
			o->t0 = x->t0;
			o->t1 = x->t1;
			o->proc = x->proc;
			o->span = x->s0;
		}
	}
	for (size_t i = 0; i < nb; i++) {
		struct sp_pull_layer *L = NULL;

		if (!b[i].committed || !b[i].layer)
			continue;
		for (size_t k = 0; k < pl.nlayers; k++)
			if (strcmp(pl.layers[k].digest, b[i].digest) == 0)
				L = &pl.layers[k];
		if (!L && pl.nlayers < SP_PULL_MAX_LAYERS) {
			L = &pl.layers[pl.nlayers++];
			snprintf(L->digest, sizeof(L->digest), "%s", b[i].digest);
		}
		if (!L)
			continue;
		L->size = b[i].size;
		L->f0 = b[i].t0;
		L->f1 = b[i].t1;
		L->fproc = b[i].proc;
		L->fspan = b[i].s0;
		L->fetched = 1;
	}
	/* Resolve: from the first registry connect (the client's, else
	 * containerd's own for the CRI) to the first layer's fetch. */
	{
		uint64_t t_first = b && nb ? b[0].t0 : u[0].t0;
		uint64_t lo = t_first > PULL_GAP_NS ? t_first - PULL_GAP_NS : 0;

		if (lo < prev_end)
			lo = prev_end; /* not the previous pull's */

		if (pl.client)
			c = first_connect(pl.client, pl.client->t_load_ns, t_first);
		if (!c)
			c = first_connect(pl.daemon, lo, t_first);
		pl.resolve_proc = c ? (pl.client && c >= pl.client->spans &&
					      c < pl.client->spans + pl.client->nspans ? pl.client : pl.daemon)
				    : pl.daemon;
		pl.resolve_span = c;
		pl.t0 = c ? c->t0 : t_first;
		pl.resolve_seen = c != NULL;
	}
	/* An unpack prepared before its layer arrived (the CRI unpacks
	 * while fetching) starts when the fetch is done: waiting on the
	 * registry is fetch time. */
	for (size_t k = 0; k < pl.nlayers; k++)
		if (pl.layers[k].unpacked && pl.layers[k].fetched && pl.layers[k].f1 > pl.layers[k].u0)
			pl.layers[k].u0 = pl.layers[k].f1 < pl.layers[k].u1 || !pl.layers[k].u1
						  ? pl.layers[k].f1 : pl.layers[k].u1;
	if (pl.config.digest[0] && (!first_layer || pl.config.t0 < first_layer))
		first_layer = pl.config.t0; /* fetched alongside the layers */
	pl.resolve_t1 = first_layer ? first_layer : pl.manifest.t1 ? pl.manifest.t1 : pl.t0;
	pl.t1 = pl.resolve_t1;
	for (size_t k = 0; k < pl.nlayers; k++) {
		if (pl.layers[k].fetched && pl.layers[k].f1 > pl.t1)
			pl.t1 = pl.layers[k].f1;
		if (pl.layers[k].unpacked && pl.layers[k].u1 > pl.t1)
			pl.t1 = pl.layers[k].u1;
	}
	if (pl.config.t1 > pl.t1)
		pl.t1 = pl.config.t1;
	if (pl.client && pl.client->argc > 0) {
		/* The reference: the client's last argument that names one. */
		for (int a = pl.client->argc; a-- > 1;)
			if (pl.client->argv[a][0] != '-' && strchr(pl.client->argv[a], '/')) {
				snprintf(pl.ref, sizeof(pl.ref), "%s", pl.client->argv[a]);
				break;
			}
	}
	return add_pull(f, &pl);
}

/* Every overlay mount's upper dir (a container's snapshot), "/fs" cut. */
static int collect_uppers(struct found *f, const struct sp_proc *procs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < procs[i].nspans; k++) {
			const struct sp_span *s = &procs[i].spans[k];
			const char *up = s->nstr > 4 ? s->strs[4] : NULL;
			size_t l;

			if (s->call != SP_C_MOUNT || !up || (l = strlen(up)) < 4 || l >= 512 ||
			    strcmp(up + l - 3, "/fs") != 0)
				continue;
			if (grow((void **)&f->upper, &f->capupper, f->nupper, sizeof(*f->upper)) < 0)
				return -1;
			memcpy(f->upper[f->nupper], up, l - 3);
			f->upper[f->nupper++][l - 3] = '\0';
		}
	return 0;
}

/* ---- dockerd's own pulls ---- */

#define DOCKER_REG_NS 1000000000ULL /* the tag's write after the image's */

static int is_dockerd(const struct sp_proc *p)
{
	return strcmp(sp_proc_role(p), "dockerd") == 0;
}

static const char *base_of(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* A docker-untar exec: its layer's directory (".../overlay2/<id>") in out. */
static int docker_untar(const struct sp_span *s, char *out, size_t len)
{
	size_t l;

	if (!(sp_call_info(s->call)->cls & SP_CLS_EXEC) || s->nstr < 4 || !s->strs[1] ||
	    !s->strs[3] || strcmp(base_of(s->strs[1]), "docker-untar") != 0 ||
	    !strstr(s->strs[3], "/overlay2/"))
		return 0;
	l = strlen(s->strs[3]);
	if (l < 6 || l - 5 >= len || strcmp(s->strs[3] + l - 5, "/diff") != 0)
		return 0;
	memcpy(out, s->strs[3], l - 5);
	out[l - 5] = '\0';
	return 1;
}

/* A rename of p's whose target contains `dir`, at or after span k: its
 * index, or -1.  Looks no further than `limit` spans. */
static long rename_to(const struct sp_proc *p, size_t k, const char *dir, size_t limit)
{
	for (size_t j = k; j < p->nspans && j < k + limit; j++)
		if (is_rename(p->spans[j].call) && p->spans[j].nstr > 1 && p->spans[j].strs[1] &&
		    strstr(p->spans[j].strs[1], dir))
			return (long)j;
	return -1;
}

/* "sha256:<hex>" from a path ending in /sha256/<64 hex>, or "". */
static void digest_of(const char *path, char *out, size_t len)
{
	const char *b = base_of(path);

	out[0] = '\0';
	if (strlen(b) == 64 && is_hex(b, 64) && strstr(path, "/sha256/"))
		snprintf(out, len, "sha256:%s", b);
}

/* Does a docker option take a value as the next argument? */
static int docker_opt_valued(const char *v, const char *const *valued)
{
	if (strchr(v, '='))
		return 0;
	for (int q = 0; valued[q]; q++)
		if (strcmp(v, valued[q]) == 0)
			return 1;
	return 0;
}

/* The reference a traced docker client (docker [global options] pull|run|
 * create [options] REF, or docker image pull, docker container run|create)
 * named, if one was running over [t0, t1]. */
static void docker_ref(const struct sp_proc *procs, size_t n, uint64_t t0, uint64_t t1,
		       struct sp_pull *pl)
{
	char *out = pl->ref;
	size_t len = sizeof(pl->ref);
	static const char *const global[] = { "-H", "--host", "-c", "--context", "--config", "-l",
					      "--log-level", "--tlscacert", "--tlscert", "--tlskey",
					      NULL };
	/* run/create options that take no value (the others do). */
	static const char *const flag_only[] = { "--rm", "-d", "-i", "-t", "-it", "-ti", "--init",
						 "--privileged", "--detach", "--interactive",
						 "--tty", "--read-only", "-q", "--quiet", "-a",
						 "--all-tags", "-P", "--publish-all", "--disable-content-trust",
						 "--oom-kill-disable", "--no-healthcheck", "--sig-proxy",
						 NULL };

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct sp_proc *p = &procs[i];
		int a = 1;

		if (strcmp(sp_proc_comm(p), "docker") != 0 || p->argc < 3 || p->t_load_ns > t0 ||
		    (p->exited && p->t_exit_ns < t1))
			continue;
		while (a < p->argc && p->argv[a][0] == '-')
			a += 1 + docker_opt_valued(p->argv[a], global);
		if (a < p->argc && (strcmp(p->argv[a], "image") == 0 || strcmp(p->argv[a], "container") == 0))
			a++;
		if (a >= p->argc || (strcmp(p->argv[a], "pull") != 0 && strcmp(p->argv[a], "run") != 0 &&
				     strcmp(p->argv[a], "create") != 0))
			continue;
		pl->docker_cli = p;
		pl->cli_pull_only = strcmp(p->argv[a], "pull") == 0;
		for (a++; a < p->argc; a++) {
			const char *v = p->argv[a];
			int lone = 0;

			if (v[0] != '-') {
				snprintf(out, len, "%s", v);
				return;
			}
			for (int q = 0; flag_only[q]; q++)
				lone |= strcmp(v, flag_only[q]) == 0;
			if (!lone && !strchr(v, '='))
				a++; /* its value */
		}
	}
}

/* Close a docker pull: its resolve (the registry connect before its first
 * layer, or its manifest), its ends; appended to f. */
static int docker_close(struct found *f, struct sp_pull *pl, const struct sp_proc *procs,
			size_t n, uint64_t prev_end)
{
	uint64_t first = pl->nlayers ? pl->layers[0].u0 : pl->t1;
	uint64_t lo = first > PULL_GAP_NS ? first - PULL_GAP_NS : 0;
	const struct sp_span *c;

	/* Its manifest, from the containerd pull that dockerd drove: between
	 * the previous pull's end and the first layer. */
	for (size_t i = 0; i < f->np; i++) {
		struct sp_pull *q = &f->pulls[i];

		if (q->docker || q->client != pl->daemon || !q->manifest.digest[0] ||
		    q->manifest.t0 < prev_end || q->manifest.t0 > first)
			continue;
		pl->manifest = q->manifest;
		pl->index = q->index;
		q->docker = -1; /* taken */
		break;
	}
	if (pl->manifest.digest[0]) {
		lo = pl->manifest.t0 > PULL_GAP_NS ? pl->manifest.t0 - PULL_GAP_NS : 0;
		first = pl->manifest.t0;
	}
	if (lo < prev_end)
		lo = prev_end;
	c = first_connect(pl->daemon, lo, first);
	pl->resolve_proc = pl->daemon;
	pl->resolve_span = c;
	pl->resolve_seen = c != NULL;
	pl->t0 = c ? c->t0 : pl->manifest.digest[0] ? pl->manifest.t0 : first;
	pl->resolve_t1 = pl->manifest.digest[0] ? pl->manifest.t1 : pl->nlayers ? pl->layers[0].u0 : pl->t0;
	if (pl->resolve_t1 < pl->t0)
		pl->resolve_t1 = pl->t0;
	docker_ref(procs, n, pl->t0, pl->t1, pl);
	snprintf(pl->why, sizeof(pl->why), "%s",
		 "dockerd downloads the layers (three at a time) into files the library does "
		 "not record: this phase runs until the first layer was ready to apply");
	return add_pull(f, pl);
}

/* dockerd's pulls, after containerd's (whose manifest-only pulls with
 * dockerd as the client they take over). */
static int docker_pulls(struct found *f, const struct sp_proc *procs, size_t n)
{
	size_t nc = f->np;

	for (size_t i = 0; i < n; i++) {
		const struct sp_proc *p = &procs[i];
		struct sp_pull pl;
		int open = 0;
		uint64_t prev_end = p->t_load_ns;

		if (!is_dockerd(p))
			continue;
		for (size_t k = 0; k < p->nspans; k++) {
			const struct sp_span *s = &p->spans[k];
			char dir[512];
			long r;

			if (open && is_rename(s->call) && s->nstr > 1 && s->strs[1] &&
			    strstr(s->strs[1], "/imagedb/content/sha256/")) {
				/* The image is stored: the pull ends with its tag. */
				digest_of(s->strs[1], pl.image_id, sizeof(pl.image_id));
				pl.t1 = s->t1;
				for (size_t j = k + 1; j < p->nspans && p->spans[j].t0 < s->t1 + DOCKER_REG_NS; j++)
					if (is_rename(p->spans[j].call) && p->spans[j].nstr > 1 &&
					    p->spans[j].strs[1] &&
					    strcmp(base_of(p->spans[j].strs[1]), "repositories.json") == 0)
						pl.t1 = p->spans[j].t1;
				if (docker_close(f, &pl, procs, n, prev_end) < 0)
					return -1;
				prev_end = pl.t1;
				open = 0;
				continue;
			}
			if (!docker_untar(s, dir, sizeof(dir)))
				continue;
			if (!open) {
				memset(&pl, 0, sizeof(pl));
				pl.docker = 1;
				pl.daemon = p;
				open = 1;
			}
			if (pl.nlayers < SP_PULL_MAX_LAYERS) {
				struct sp_pull_layer *L = &pl.layers[pl.nlayers++];

				snprintf(L->snapshot, sizeof(L->snapshot), "%s", dir);
				L->unpacked = 1;
				L->uproc = p;
				L->u0 = s->t0;
				L->uspan = s;
				/* From the layer directory's making, just before. */
				for (size_t j = k; j-- > 0 && k - j < 64;)
					if ((p->spans[j].call == SP_C_MKDIRAT || p->spans[j].call == SP_C_MKDIR) &&
					    p->spans[j].nstr && p->spans[j].strs[0] &&
					    strcmp(p->spans[j].strs[0], dir) == 0) {
						L->u0 = p->spans[j].t0;
						L->uspan = &p->spans[j];
						break;
					}
				/* To its commit; the next rename names its blob. */
				L->u1 = s->t1;
				if ((r = rename_to(p, k + 1, "/layerdb/sha256/", 4096)) >= 0) {
					long d = rename_to(p, (size_t)r + 1, "/diffid-by-digest/sha256/", 16);

					L->u1 = p->spans[r].t1;
					if (d >= 0)
						digest_of(p->spans[d].strs[1], L->digest, sizeof(L->digest));
				}
				if (L->u1 > pl.t1)
					pl.t1 = L->u1;
			}
		}
		if (open && docker_close(f, &pl, procs, n, prev_end) < 0)
			return -1;
	}
	/* containerd pulls that dockerd drove and no layer of its own
	 * followed (every layer was local): dockerd's, with no layers. */
	for (size_t i = 0; i < nc; i++) {
		struct sp_pull *q = &f->pulls[i];
		uint64_t lo;
		const struct sp_span *c;

		if (q->docker || !q->client || !is_dockerd(q->client))
			continue;
		q->docker = 1;
		q->daemon = q->client;
		q->client = NULL;
		lo = q->manifest.t0 > PULL_GAP_NS ? q->manifest.t0 - PULL_GAP_NS : 0;
		c = first_connect(q->daemon, lo, q->manifest.t0);
		q->resolve_proc = q->daemon;
		q->resolve_span = c;
		q->resolve_seen = c != NULL;
		q->t0 = c ? c->t0 : q->manifest.t0;
		q->resolve_t1 = q->manifest.t1;
		q->t1 = q->manifest.t1;
		q->nlayers = 0;
		q->why[0] = '\0';
		docker_ref(procs, n, q->t0, q->t1, q);
	}
	/* Drop the ones taken over. */
	{
		size_t w = 0;

		for (size_t i = 0; i < f->np; i++)
			if (f->pulls[i].docker >= 0)
				f->pulls[w++] = f->pulls[i];
		f->np = w;
	}
	return 0;
}

int sp_pulls_find(const struct sp_proc *procs, size_t n, struct sp_pull **out)
{
	struct found f;
	size_t bi = 0, ui = 0;
	uint64_t prev_end = 0;

	memset(&f, 0, sizeof(f));
	*out = NULL;
	if (collect_uppers(&f, procs, n) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (is_containerd(&procs[i]) && collect(&f, &procs[i]) < 0)
			goto fail;
	if (f.nb)
		qsort(f.b, f.nb, sizeof(*f.b), blob_cmp);
	if (f.nu)
		qsort(f.u, f.nu, sizeof(*f.u), unpack_cmp);
	/* A layer: a blob some unpack applied. */
	for (size_t i = 0; i < f.nb; i++)
		for (size_t k = 0; k < f.nu && !f.b[i].layer; k++)
			f.b[i].layer = strcmp(f.u[k].digest, f.b[i].digest) == 0;
	while (bi < f.nb || ui < f.nu) {
		size_t b0 = bi, u0 = ui;
		uint64_t end = 0, unpack_started = 0;
		const struct sp_proc *cl = NULL;

		/* One pull: items in time order until a new manifest is fetched
		 * after this pull's unpacking began, another client is at work,
		 * or a pause with a registry connect in it (a new resolve). */
		while (bi < f.nb || ui < f.nu) {
			int take_blob = ui >= f.nu || (bi < f.nb && f.b[bi].t0 <= f.u[ui].t0);
			uint64_t t = take_blob ? f.b[bi].t0 : f.u[ui].t0;
			const struct sp_proc *c = client_at(procs, n, t);

			if (bi + ui > b0 + u0) {
				if (end && t > end + PULL_QUIET_NS && connect_between(procs, n, end, t))
					break;
				if (c && cl && c != cl)
					break;
				/* Not a layer, fetched once unpacking began:
				 * the next image's manifest. */
				if (take_blob && unpack_started && unpack_started < t && !f.b[bi].layer)
					break;
			}
			if (!cl)
				cl = c;
			if (take_blob) {
				if (f.b[bi].t1 > end)
					end = f.b[bi].t1;
				bi++;
			} else {
				if (!unpack_started)
					unpack_started = f.u[ui].t0;
				if (f.u[ui].topen > end)
					end = f.u[ui].topen;
				ui++;
			}
		}
		/* A pull fetched something or unpacked a layer it had. */
		if (build_pull(&f, bi > b0 ? &f.b[b0] : NULL, bi - b0, ui > u0 ? &f.u[u0] : NULL,
			       ui - u0, procs, n, prev_end) < 0)
			goto fail;
		prev_end = end;
	}
	if (docker_pulls(&f, procs, n) < 0)
		goto fail;
	free(f.upper);
	free(f.read);
	free(f.b);
	free(f.u);
	*out = f.pulls;
	return (int)f.np;
fail:
	free(f.upper);
	free(f.read);
	free(f.b);
	free(f.u);
	free(f.pulls);
	return -1;
}
