/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roles.c - what each traced process is in a container start, decided from
 * what the processes do and how they are related, not from file names:
 * runtimes are renamed (runc.amd64), moved, static, or reached through a
 * wrapper that execs them.
 *
 *   shim:start, shim:delete, shim   a containerd shim: its arguments are the
 *                 shim v2 protocol's (-id with -namespace/-address), the
 *                 last one `start` or `delete` for the short-lived ones;
 *   containerd    the process that spawned a shim (or is named so);
 *   runc:init     a runtime's re-exec of itself as `<runtime> init` (its
 *                 parent is a runtime process, or another runc:init image);
 *   runc:create, runc:run, runc:start, runc:delete, runc:exec, runc
 *                 a process with an OCI runtime's command line (global
 *                 options, then create/run/start/delete/...) of the runc
 *                 family: it, or the create/run of the same container,
 *                 re-executed itself as `init`;
 *   crun:create, crun:start, crun:delete, crun:run, crun
 *                 the same command line in the crun family: the container
 *                 is set up by a forked child of the runtime (no re-exec);
 *                 a rule's "crun" means any of them;
 *   conmon        podman's container monitor (its -c names the container);
 *   hook          a program a runtime's create/run started (not its init):
 *                 an OCI hook;
 *   dockerd       Docker's daemon (its re-executions by their argv[0]:
 *                 libnetwork-setkey, set-ipv6, docker-untar);
 *   cni:add, cni:del, cni:check, cni:version
 *                 a CNI plugin (and an IPAM plugin it runs): CNI_COMMAND in
 *                 the environment it was started with; its container is
 *                 CNI_CONTAINERID (a pod's sandbox);
 * anything else: its command name.  Where the behaviour was not recorded
 * (a process not traced), the name decides as before: "runc*", "crun*",
 * "containerd-shim*", "containerd".
 */
#include "phases.h"

#include <stdlib.h>
#include <string.h>

/* ---- command lines ---- */

/* The first argument that is not a global option of an OCI runtime (runc,
 * crun): its subcommand; *at its index.  NULL if none. */
static const char *runtime_sub(const struct sp_proc *p, int *at)
{
	static const char *const with_value[] = { "--root", "--log", "--log-format", "--criu",
						  "--rootless", "--cgroup-manager", NULL };

	for (int i = 1; i < p->argc; i++) {
		const char *a = p->argv[i];

		if (a[0] != '-') {
			if (at)
				*at = i;
			return a;
		}
		if (strchr(a, '='))
			continue;
		for (int k = 0; with_value[k]; k++)
			if (strcmp(a, with_value[k]) == 0) {
				i++;
				break;
			}
	}
	return NULL;
}

/* Subcommands that name a container as their last argument. */
static int sub_names_container(const char *sub)
{
	static const char *const subs[] = { "run", "create", "start", "delete", "kill", "state",
					    "pause", "resume", "ps", "exec", "update", "events",
					    "checkpoint", "restore", NULL };

	for (int k = 0; sub && subs[k]; k++)
		if (strcmp(sub, subs[k]) == 0)
			return 1;
	return 0;
}

/* The container a runtime command line is about: its last argument, when
 * the subcommand takes one and that argument is neither it nor an option. */
static const char *runtime_cid(const struct sp_proc *p)
{
	int at = 0;
	const char *sub = runtime_sub(p, &at);
	const char *last;

	if (!sub_names_container(sub) || at >= p->argc - 1)
		return NULL;
	last = p->argv[p->argc - 1];
	return last[0] != '-' ? last : NULL;
}

static int has_arg(const struct sp_proc *p, const char *want)
{
	for (int i = 1; i < p->argc; i++)
		if (strcmp(p->argv[i], want) == 0)
			return 1;
	return 0;
}

/* The shim v2 protocol's command line: -id with -namespace or -address. */
static int shim_args(const struct sp_proc *p)
{
	return has_arg(p, "-id") && (has_arg(p, "-namespace") || has_arg(p, "-address"));
}

static const char *shim_role(const struct sp_proc *p)
{
	const char *last = p->argc > 1 ? p->argv[p->argc - 1] : "";

	return strcmp(last, "start") == 0 ? "shim:start"
	       : strcmp(last, "delete") == 0 ? "shim:delete" : "shim";
}

static const char *crun_role(const char *sub)
{
	return !sub ? "crun" : strcmp(sub, "create") == 0 ? "crun:create"
	       : strcmp(sub, "start") == 0 ? "crun:start" : strcmp(sub, "delete") == 0 ? "crun:delete"
	       : strcmp(sub, "run") == 0 ? "crun:run" : "crun";
}

static const char *runc_role(const char *sub)
{
	return strcmp(sub, "create") == 0 ? "runc:create" : strcmp(sub, "run") == 0 ? "runc:run"
	       : strcmp(sub, "start") == 0 ? "runc:start" : strcmp(sub, "delete") == 0 ? "runc:delete"
	       : strcmp(sub, "init") == 0 ? "runc:init" : strcmp(sub, "exec") == 0 ? "runc:exec" : "runc";
}

const char *sp_proc_env(const struct sp_proc *p, const char *name)
{
	size_t l = strlen(name);

	for (size_t i = 0; i < p->nmarks; i++) {
		const char *m = p->marks[i].name;

		if (m && strncmp(m, "env:", 4) == 0 && strncmp(m + 4, name, l) == 0 && m[4 + l] == '=')
			return m + 5 + l;
	}
	return NULL;
}

static const char *cni_role(const struct sp_proc *p)
{
	const char *c = sp_proc_env(p, "CNI_COMMAND");

	if (!c)
		return NULL;
	return strcmp(c, "ADD") == 0 ? "cni:add" : strcmp(c, "DEL") == 0 ? "cni:del"
	       : strcmp(c, "CHECK") == 0 ? "cni:check" : "cni:version";
}

/* The role from the process alone (its name and arguments): what the
 * roles were before they were assigned from behaviour, and the fallback
 * where the behaviour is missing. */
static const char *role_by_name(const struct sp_proc *p)
{
	const char *comm = sp_proc_comm(p);

	if (cni_role(p))
		return cni_role(p);
	if (strcmp(comm, "conmon") == 0 || (has_arg(p, "--api-version") && has_arg(p, "-c") &&
					       (has_arg(p, "-r") || has_arg(p, "--runtime"))))
		return "conmon";
	if (strcmp(comm, "dockerd") == 0 && p->argc > 0) {
		/* dockerd re-executes itself as docker-untar, libnetwork-setkey,
		 * set-ipv6...: argv[0] says which. */
		const char *a0 = strrchr(p->argv[0], '/') ? strrchr(p->argv[0], '/') + 1 : p->argv[0];

		return strcmp(a0, "dockerd") == 0 ? "dockerd" : a0;
	}
	if (strncmp(comm, "runc", 4) == 0) {
		const char *sub = runtime_sub(p, NULL);

		return sub ? runc_role(sub) : "runc";
	}
	if (strncmp(comm, "containerd-shim", 15) == 0 || shim_args(p))
		return shim_role(p);
	if (strcmp(comm, "containerd") == 0)
		return "containerd";
	return comm;
}

const char *sp_proc_role(const struct sp_proc *p)
{
	return p->role ? p->role : role_by_name(p);
}

const char *sp_proc_container_id(const struct sp_proc *p)
{
	const char *role = sp_proc_role(p);

	if (strncmp(role, "shim", 4) == 0) {
		for (int i = 1; i + 1 < p->argc; i++)
			if (strcmp(p->argv[i], "-id") == 0)
				return p->argv[i + 1];
		return NULL;
	}
	if (strncmp(role, "crun", 4) == 0 || strncmp(role, "runc", 4) == 0)
		return runtime_cid(p);
	if (strcmp(role, "conmon") == 0) {
		for (int i = 1; i + 1 < p->argc; i++)
			if (strcmp(p->argv[i], "-c") == 0 || strcmp(p->argv[i], "--cid") == 0)
				return p->argv[i + 1];
		return NULL;
	}
	if (strncmp(role, "cni:", 4) == 0) {
		const char *id = sp_proc_env(p, "CNI_CONTAINERID");

		return id && *id ? id : NULL;
	}
	return NULL;
}

/* ---- relations ---- */

const struct sp_proc *sp_proc_parent(const struct sp_proc *procs, size_t n,
				       const struct sp_proc *p)
{
	const struct sp_proc *best = NULL;

	for (size_t k = 0; k < n; k++) {
		const struct sp_proc *q = &procs[k];

		if (q == p)
			continue;
		if (p->parent_ring_id) {
			if (q->ring_id == p->parent_ring_id)
				return q;
		} else if (p->ppid && q->host_pid == p->ppid && q->t_load_ns <= p->t_load_ns &&
			   (!best || q->t_load_ns > best->t_load_ns)) {
			best = q;
		}
	}
	return best;
}

/* Did a forked child (no exec) of p pivot into the container's root?  That
 * is how crun sets a container up. */
static int child_pivots(const struct sp_proc *procs, size_t n, const struct sp_proc *p)
{
	for (size_t k = 0; k < n; k++) {
		const struct sp_proc *q = &procs[k];

		if (!q->forked || !q->parent_ring_id || q->parent_ring_id != p->ring_id)
			continue;
		for (size_t s = 0; s < q->nspans; s++)
			if (q->spans[s].call == SP_C_PIVOT_ROOT)
				return 1;
	}
	return 0;
}

enum family { F_NONE, F_RUNC, F_CRUN };

void sp_roles_assign(struct sp_proc *procs, size_t n)
{
	enum family *fam = calloc(n ? n : 1, sizeof(*fam));
	const struct sp_proc **parent = calloc(n ? n : 1, sizeof(*parent));

	if (!fam || !parent) {
		free(fam);
		free(parent);
		for (size_t i = 0; i < n; i++)
			procs[i].role = role_by_name(&procs[i]);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		procs[i].role = NULL;
		parent[i] = sp_proc_parent(procs, n, &procs[i]);
	}
	/* Shims by their protocol's arguments; runc init by being its
	 * runtime's re-exec of itself (a runtime's child or another init
	 * image, `<runtime> init` alone). */
	for (size_t i = 0; i < n; i++) {
		struct sp_proc *p = &procs[i];
		const char *sub = runtime_sub(p, NULL);

		if (cni_role(p))
			p->role = cni_role(p);
		else if (shim_args(p))
			p->role = shim_role(p);
		else if (sub && strcmp(sub, "init") == 0 && p->argc == 2 && parent[i] &&
			 (sub_names_container(runtime_sub(parent[i], NULL)) ||
			  (runtime_sub(parent[i], NULL) &&
			   strcmp(runtime_sub(parent[i], NULL), "init") == 0)))
			p->role = "runc:init";
	}
	/* The family of each create/run: runc if an init came from it; crun if
	 * a forked child of it pivoted; else its name. */
	for (size_t i = 0; i < n; i++) {
		const char *sub = runtime_sub(&procs[i], NULL), *comm = sp_proc_comm(&procs[i]);

		if (procs[i].role || !sub || (strcmp(sub, "create") != 0 && strcmp(sub, "run") != 0) ||
		    !runtime_cid(&procs[i]))
			continue;
		for (size_t k = 0; k < n && !fam[i]; k++)
			if (procs[k].role && strcmp(procs[k].role, "runc:init") == 0 &&
			    parent[k] == &procs[i])
				fam[i] = F_RUNC;
		if (!fam[i] && (child_pivots(procs, n, &procs[i]) || strncmp(comm, "crun", 4) == 0))
			fam[i] = F_CRUN;
		if (!fam[i] && strncmp(comm, "runc", 4) == 0)
			fam[i] = F_RUNC;
	}
	/* The other subcommands (start, delete, kill...) take the family of
	 * their container's create/run, else their name's. */
	for (size_t i = 0; i < n; i++) {
		const char *sub = runtime_sub(&procs[i], NULL), *cid = runtime_cid(&procs[i]);
		const char *comm = sp_proc_comm(&procs[i]);

		if (procs[i].role || !cid || fam[i])
			continue;
		for (size_t k = 0; k < n && !fam[i]; k++)
			if (fam[k] && strcmp(runtime_cid(&procs[k]), cid) == 0)
				fam[i] = fam[k];
		if (!fam[i])
			fam[i] = strncmp(comm, "runc", 4) == 0 ? F_RUNC
				 : strncmp(comm, "crun", 4) == 0 ? F_CRUN : F_NONE;
		(void)sub;
	}
	for (size_t i = 0; i < n; i++) {
		struct sp_proc *p = &procs[i];

		if (p->role)
			continue;
		if (fam[i] == F_RUNC)
			p->role = runc_role(runtime_sub(p, NULL));
		else if (fam[i] == F_CRUN)
			p->role = crun_role(runtime_sub(p, NULL));
	}
	/* A program a runtime's create/run started that is not its init: an
	 * OCI hook (docker's libnetwork-setkey, nvidia's...). */
	for (size_t i = 0; i < n; i++) {
		const char *pr = parent[i] ? parent[i]->role : NULL;

		if (!procs[i].role && !procs[i].forked && pr &&
		    (strcmp(pr, "runc:create") == 0 || strcmp(pr, "runc:run") == 0 ||
		     strcmp(pr, "crun:create") == 0 || strcmp(pr, "crun:run") == 0))
			procs[i].role = "hook";
	}
	/* containerd: what spawned a shim.  Everything else: by name. */
	for (size_t i = 0; i < n; i++)
		if (procs[i].role && strncmp(procs[i].role, "shim:", 5) == 0 && parent[i] &&
		    !parent[i]->role && !parent[i]->forked)
			((struct sp_proc *)parent[i])->role = "containerd";
	for (size_t i = 0; i < n; i++) {
		struct sp_proc *p = &procs[i];

		if (p->role)
			continue;
		p->role = role_by_name(p);
		/* A name that says runtime, but no runtime behaviour recorded:
		 * an unknown command line stays what its name says. */
	}
	free(fam);
	free(parent);
}
