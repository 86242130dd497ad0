/* SPDX-License-Identifier: Apache-2.0 */
/* check_phases.c - phase classification on a recorded crun run
 * (tests/data/crun-run: the files libstartpath.so wrote for
 * `crun run t1` of a busybox bundle), container ids, grouping. */
#include <stdlib.h>
#include <string.h>
#include "check_main.h"
#include "cli.h"
#include "phases.h"

static const char *datadir(void)
{
	const char *d = getenv("SP_TESTDATA");

	return d ? d : "tests/data";
}

static void load(struct sp_dataset *ds)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/crun-run", datadir());
	ck_assert_int_eq(sp_dataset_load(dir, ds), 0);
	ck_assert_uint_eq(ds->nprocs, 3);
}

static const struct sp_map_phase *phase(const struct sp_map *m, const char *name)
{
	for (size_t i = 0; i < m->nphases; i++)
		if (strcmp(m->phases[i].name, name) == 0)
			return &m->phases[i];
	return NULL;
}

START_TEST(test_crun_map)
{
	static const char *const order[] = { "runtime_create", "namespace_setup", "rootfs_setup",
					     "pivot_root", "task_start", "process_exec" };
	struct sp_dataset ds;
	struct sp_map *maps;
	const struct sp_map_phase *ph, *rf, *pv, *longest = NULL;
	int n;

	load(&ds);
	n = sp_maps_build(ds.procs, ds.nprocs, ds.run_t1, &maps);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(maps[0].container_id, "t1");
	ck_assert_str_eq(maps[0].profile, "crun");
	ck_assert_uint_eq(maps[0].nphases, 6);
	ck_assert_uint_eq(maps[0].nmissing, 0);
	for (size_t i = 0; i < 6; i++) {
		ck_assert_str_eq(maps[0].phases[i].name, order[i]);
		ck_assert_msg(maps[0].phases[i].seen, "%s not seen", order[i]);
	}
	/* Top-level phases tile the start without gaps or overlap. */
	{
		const struct sp_map_phase *prev = NULL;

		for (size_t i = 0; i < maps[0].nphases; i++) {
			ph = &maps[0].phases[i];
			if (ph->parent)
				continue;
			if (prev)
				ck_assert_uint_eq(prev->t1, ph->t0);
			ck_assert_uint_ge(ph->t1, ph->t0);
			if (!longest || ph->t1 - ph->t0 > longest->t1 - longest->t0)
				longest = ph;
			prev = ph;
		}
		ck_assert_uint_eq(maps[0].t0, maps[0].phases[0].t0);
		ck_assert_uint_eq(maps[0].t1, prev->t1);
	}
	ck_assert(longest->bottleneck);
	for (size_t i = 0; i < maps[0].nphases; i++)
		if (&maps[0].phases[i] != longest)
			ck_assert(!maps[0].phases[i].bottleneck);
	ph = phase(&maps[0], "namespace_setup");
	ck_assert_ptr_nonnull(ph->span);
	ck_assert_uint_eq(ph->span->call, SP_C_CLONE);
	ck_assert(ph->span->arg[0] & 0x00020000); /* CLONE_NEWNS */
	rf = phase(&maps[0], "rootfs_setup");
	pv = phase(&maps[0], "pivot_root");
	ck_assert_str_eq(pv->parent, "rootfs_setup");
	ck_assert_uint_ge(pv->t0, rf->t0);
	ck_assert_uint_le(pv->t1, rf->t1);
	ck_assert_uint_gt(pv->t1, pv->t0);
	ph = phase(&maps[0], "process_exec");
	ck_assert_uint_eq(ph->span->call, SP_C_EXECVE);
	ck_assert(ph->span->flags & SP_RF_CONTAINED);
	ck_assert_str_eq(ph->span->strs[0], "/bin/echo");
	ph = phase(&maps[0], "task_start");
	ck_assert_ptr_nonnull(ph->span);
	ck_assert(sp_call_info(ph->span->call)->cls & SP_CLS_MOUNT);
	sp_maps_free(maps, n);
	sp_dataset_free(&ds);
}
END_TEST

START_TEST(test_two_containers_apart)
{
	struct sp_dataset a, b;
	struct sp_proc all[6];
	struct sp_map *maps;
	int n;

	load(&a);
	load(&b);
	/* The second copy becomes container t2, 1 s later. */
	for (size_t i = 0; i < 3; i++) {
		struct sp_proc *p = &b.procs[i];

		free(p->argv[p->argc - 1]);
		p->argv[p->argc - 1] = strdup("t2");
		p->t_load_ns += 1000000000;
		p->t_exit_ns += 1000000000;
		for (size_t k = 0; k < p->nspans; k++) {
			p->spans[k].t0 += 1000000000;
			p->spans[k].t1 += 1000000000;
		}
	}
	memcpy(all, a.procs, 3 * sizeof(all[0]));
	memcpy(all + 3, b.procs, 3 * sizeof(all[0]));
	n = sp_maps_build(all, 6, 0, &maps);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(maps[0].container_id, "t1");
	ck_assert_str_eq(maps[1].container_id, "t2");
	ck_assert_uint_eq(maps[0].nprocs, 3);
	ck_assert_uint_eq(maps[1].nprocs, 3);
	ck_assert_uint_eq(maps[1].t0 - maps[0].t0, 1000000000);
	ck_assert_uint_eq(maps[1].t1 - maps[1].t0, maps[0].t1 - maps[0].t0);
	sp_maps_free(maps, n);
	sp_dataset_free(&a);
	sp_dataset_free(&b);
}
END_TEST

START_TEST(test_missing_phases)
{
	struct sp_dataset ds;
	const struct sp_proc *g[1];
	struct sp_map m;

	load(&ds);
	/* Only crun's first image: no clone, no mounts in a namespace. */
	g[0] = &ds.procs[0];
	ck_assert_int_eq(sp_map_build(g, 1, "crun", 0, &m), 0);
	ck_assert(phase(&m, "runtime_create")->seen);
	ck_assert(!phase(&m, "namespace_setup")->seen);
	ck_assert(!phase(&m, "process_exec")->seen);
	ck_assert(!phase(&m, "pivot_root")->seen);
	ck_assert_uint_ge(m.nmissing, 2);
	sp_map_release(&m);
	sp_dataset_free(&ds);
}
END_TEST

START_TEST(test_container_id)
{
	struct sp_proc p;
	char *a1[] = { "crun", "--cgroup-manager=disabled", "run", "web", NULL };
	char *a2[] = { "runc", "--root", "/run/x", "--log", "/l.json", "create", "--bundle", "/b",
		       "--pid-file", "/p", "ref1", NULL };
	char *a3[] = { "runc", "init", NULL };
	char *a4[] = { "mount", "-t", "tmpfs", "run", NULL };

	memset(&p, 0, sizeof(p));
	p.exe = "/usr/bin/crun";
	p.argv = a1;
	p.argc = 4;
	ck_assert_str_eq(sp_proc_container_id(&p), "web");
	p.exe = "/usr/sbin/runc";
	p.argv = a2;
	p.argc = 11;
	ck_assert_str_eq(sp_proc_container_id(&p), "ref1");
	p.argv = a3;
	p.argc = 2;
	ck_assert_ptr_null(sp_proc_container_id(&p));
	p.exe = "/usr/bin/mount";
	p.argv = a4;
	p.argc = 4;
	ck_assert_ptr_null(sp_proc_container_id(&p));
}
END_TEST

START_TEST(test_containerd_map)
{
	static const char *const order[] = { "snapshot_prepare", "task_create", "shim_start",
		"snapshot_mount", "runtime_create", "runtime_init", "namespace_setup", "rootfs_setup",
		"pivot_root", "task_start", "process_exec", "runtime_delete", "snapshot_unmount" };
	struct sp_dataset ds;
	struct sp_map *maps;
	const struct sp_map_phase *ph;
	char dir[512];
	int n;

	snprintf(dir, sizeof(dir), "%s/containerd-run", datadir());
	ck_assert_int_eq(sp_dataset_load(dir, &ds), 0);
	n = sp_maps_build(ds.procs, ds.nprocs, 0, &maps);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(maps[0].profile, "containerd");
	ck_assert_str_eq(maps[0].container_id, "demo-24773");
	ck_assert_uint_eq(maps[0].nphases, 13);
	ck_assert_uint_eq(maps[0].nmissing, 0);
	for (size_t i = 0; i < 13; i++) {
		ck_assert_str_eq(maps[0].phases[i].name, order[i]);
		ck_assert_msg(maps[0].phases[i].seen, "%s not seen", order[i]);
		ck_assert_uint_ge(maps[0].phases[i].t1, maps[0].phases[i].t0);
	}
	/* Start phases in time order; teardown after the start. */
	for (size_t i = 1; i < 11; i++)
		if (!maps[0].phases[i].parent)
			ck_assert_uint_ge(maps[0].phases[i].t0, maps[0].phases[i - 1].t0);
	ck_assert_str_eq(phase(&maps[0], "runtime_delete")->section, "teardown");
	ck_assert_uint_ge(phase(&maps[0], "runtime_delete")->t0, maps[0].t1);
	ph = phase(&maps[0], "snapshot_mount");
	ck_assert_uint_eq(ph->span->call, SP_C_MOUNT);
	ck_assert_str_eq(ph->span->strs[2], "overlay");
	ck_assert_ptr_nonnull(strstr(ph->span->strs[1], "/demo-24773/rootfs"));
	ck_assert_uint_eq(ph->t1 - ph->t0, sp_span_dur(ph->span)); /* the mount, exactly */
	ck_assert_str_eq(sp_proc_role(ph->proc), "shim");
	ph = phase(&maps[0], "snapshot_prepare");
	ck_assert_uint_eq(ph->span->call, SP_C_MKDIRAT);
	ck_assert_ptr_nonnull(strstr(ph->span->strs[0], "/snapshots/new-"));
	ck_assert_str_eq(sp_proc_role(phase(&maps[0], "runtime_init")->proc), "runc:create");
	ck_assert_str_eq(sp_proc_role(phase(&maps[0], "namespace_setup")->proc), "runc:init");
	ph = phase(&maps[0], "process_exec");
	ck_assert(ph->span->flags & SP_RF_CONTAINED);
	ck_assert_str_eq(ph->span->strs[0], "/bin/echo");
	/* containerd's calls in this map are all about this container */
	for (size_t i = 0; i < maps[0].ncalls; i++) {
		const struct sp_map_call *c = &maps[0].calls[i];

		if (strcmp(sp_proc_role(c->proc), "containerd") != 0)
			continue;
		ck_assert_ptr_nonnull(sp_containerd_call_cid(c->span, ds.procs, ds.nprocs));
		ck_assert_str_eq(sp_containerd_call_cid(c->span, ds.procs, ds.nprocs), "demo-24773");
	}
	sp_maps_free(maps, n);
	sp_dataset_free(&ds);
}
END_TEST

/* Pids are reused: an output directory that keeps many starts holds older
 * processes with the same pids (1000 starts take ~70000 pids, pid_max is
 * 32768).  Each process of the recorded start gets a decoy loaded an hour
 * earlier, with the same pids and its container id renamed, placed first;
 * the map and the attribution of containerd's calls must not change. */
START_TEST(test_pid_reuse)
{
	struct sp_dataset ds;
	struct sp_proc *all;
	struct sp_map *maps;
	char dir[512];
	size_t n;
	int nm;

	snprintf(dir, sizeof(dir), "%s/containerd-run", datadir());
	ck_assert_int_eq(sp_dataset_load(dir, &ds), 0);
	n = ds.nprocs;
	all = calloc(2 * n, sizeof(*all));
	ck_assert_ptr_nonnull(all);
	for (size_t i = 0; i < n; i++) {
		struct sp_proc *d = &all[i];

		*d = ds.procs[i];
		d->t_load_ns -= 3600000000000ULL;
		d->t_exit_ns = d->t_exit_ns ? d->t_exit_ns - 3600000000000ULL : 0;
		d->ring_id ^= 0x5a5a;
		d->parent_ring_id = d->parent_ring_id ? d->parent_ring_id ^ 0x5a5a : 0;
		d->nspans = 0;
		d->nmarks = 0;
		d->argv = calloc((size_t)d->argc + 1, sizeof(char *));
		for (int a = 0; a < d->argc; a++) {
			const char *s = ds.procs[i].argv[a], *at = strstr(s, "demo-24773");
			char *c = malloc(strlen(s) + 1);

			strcpy(c, s);
			if (at)
				memcpy(c + (at - s), "old-00001", 9), memmove(c + (at - s) + 9, c + (at - s) + 10,
									strlen(c + (at - s) + 10) + 1);
			d->argv[a] = c;
		}
		all[n + i] = ds.procs[i];
	}
	nm = sp_maps_build(all, 2 * n, 0, &maps);
	ck_assert_int_ge(nm, 1);
	for (int k = 0; k < nm; k++) {
		if (strcmp(maps[k].container_id, "demo-24773") != 0)
			continue;
		ck_assert_uint_eq(maps[k].nmissing, 0);
		for (size_t i = 0; i < maps[k].ncalls; i++) {
			const struct sp_map_call *c = &maps[k].calls[i];

			if (strcmp(sp_proc_role(c->proc), "containerd") == 0)
				ck_assert_str_eq(sp_containerd_call_cid(c->span, all, 2 * n), "demo-24773");
			ck_assert(c->proc >= all + n); /* never a decoy */
		}
		nm = -nm; /* found */
		break;
	}
	ck_assert_int_lt(nm, 0);
	sp_maps_free(maps, -nm);
	for (size_t i = 0; i < n; i++) {
		for (int a = 0; a < all[i].argc; a++)
			free(all[i].argv[a]);
		free(all[i].argv);
	}
	free(all);
	sp_dataset_free(&ds);
}
END_TEST

/* A start whose runc init was not recorded, and one whose containerd
 * recorded no snapshot directory: each unseen phase says what it expected
 * and what was (not) recorded. */
START_TEST(test_why_not_seen)
{
	struct sp_dataset ds;
	struct sp_map *maps;
	const struct sp_map_phase *ph;
	char dir[512];
	size_t kept = 0;
	int n;

	snprintf(dir, sizeof(dir), "%s/containerd-run", datadir());
	ck_assert_int_eq(sp_dataset_load(dir, &ds), 0);
	for (size_t i = 0; i < ds.nprocs; i++) {
		if (ds.procs[i].argc == 2 && strcmp(ds.procs[i].argv[1], "init") == 0) {
			sp_proc_free(&ds.procs[i]);
			continue;
		}
		ds.procs[kept++] = ds.procs[i];
	}
	ds.nprocs = kept;
	n = sp_maps_build(ds.procs, ds.nprocs, 0, &maps);
	ck_assert_int_eq(n, 1);
	ph = phase(&maps[0], "namespace_setup");
	ck_assert(!ph->seen);
	ck_assert_msg(strstr(ph->why, "runc:init's first clone/unshare/setns call") &&
		      strstr(ph->why, "no runc:init process was recorded"), "why: %s", ph->why);
	ck_assert_ptr_nonnull(strstr(phase(&maps[0], "pivot_root")->why, "rootfs_setup was not seen"));
	ck_assert(phase(&maps[0], "snapshot_mount")->seen);
	ck_assert_str_eq(phase(&maps[0], "snapshot_mount")->why, "");
	sp_maps_free(maps, n);
	/* containerd's mkdirat/renameat gone (not under its prefixes) */
	for (size_t i = 0; i < ds.nprocs; i++) {
		struct sp_proc *p = &ds.procs[i];
		size_t k = 0;

		if (strcmp(sp_proc_comm(p), "containerd") != 0)
			continue;
		for (size_t s = 0; s < p->nspans; s++) {
			if (p->spans[s].call != SP_C_MKDIRAT && p->spans[s].call != SP_C_RENAMEAT) {
				p->spans[k++] = p->spans[s];
				continue;
			}
			for (unsigned j = 0; j < p->spans[s].nstr && j < SP_MAX_STRS; j++)
				free(p->spans[s].strs[j]);
		}
		p->nspans = k;
	}
	n = sp_maps_build(ds.procs, ds.nprocs, 0, &maps);
	ck_assert_int_eq(n, 1);
	ph = phase(&maps[0], "snapshot_prepare");
	ck_assert(!ph->seen);
	ck_assert_msg(strstr(ph->why, "recorded no mkdirat call") &&
		      strstr(ph->why, "STARTPATH_PREFIXES"), "why: %s", ph->why);
	sp_maps_free(maps, n);
	sp_dataset_free(&ds);
}
END_TEST

START_TEST(test_roles)
{
	struct sp_proc p;
	char *a1[] = { "runc", "--root", "/run/x", "--log", "/l", "--log-format", "json", "create",
		       "--bundle", "/b", "c1", NULL };
	char *a2[] = { "runc", "init", NULL };
	char *a3[] = { "/usr/bin/containerd-shim-runc-v2", "-namespace", "default", "-id", "c1",
		       "start", NULL };
	char *a4[] = { "/usr/bin/containerd-shim-runc-v2", "-namespace", "default", "-id", "c1",
		       "-address", "/s", NULL };

	memset(&p, 0, sizeof(p));
	p.exe = "/usr/sbin/runc";
	p.argv = a1;
	p.argc = 11;
	ck_assert_str_eq(sp_proc_role(&p), "runc:create");
	ck_assert_str_eq(sp_proc_container_id(&p), "c1");
	p.argv = a2;
	p.argc = 2;
	ck_assert_str_eq(sp_proc_role(&p), "runc:init");
	p.exe = "/usr/bin/containerd-shim-runc-v2";
	p.argv = a3;
	p.argc = 6;
	ck_assert_str_eq(sp_proc_role(&p), "shim:start");
	ck_assert_str_eq(sp_proc_container_id(&p), "c1");
	p.argv = a4;
	p.argc = 7;
	ck_assert_str_eq(sp_proc_role(&p), "shim");
	ck_assert_str_eq(sp_proc_container_id(&p), "c1");
}
END_TEST

/* Roles of the engines' processes: a CNI plugin by its environment (the
 * marks the library writes at load), conmon by its arguments, dockerd's
 * re-executions by argv[0], and a hook as a runtime create's other child. */
START_TEST(test_engine_roles)
{
	struct sp_proc p[3];
	struct sp_mark marks[2] = { { 1, 1, 1, "env:CNI_COMMAND=ADD" },
				    { 1, 1, 1, "env:CNI_CONTAINERID=sb1" } };
	char *cni[] = { "/usr/lib/cni/bridge", NULL };
	char *conmon[] = { "/usr/bin/conmon", "--api-version", "1", "-c", "c9", "-u", "c9", "-r",
			   "/usr/bin/runc", NULL };
	char *setkey[] = { "libnetwork-setkey", "-exec-root=/run/docker", "c9", "abc", NULL };
	char *dockerd[] = { "/usr/sbin/dockerd", "-H", "unix:///s", NULL };
	char *create[] = { "runc", "create", "--bundle", "/b", "c9", NULL };
	char *init[] = { "runc", "init", NULL };

	memset(p, 0, sizeof(p));
	p[0].exe = "/usr/lib/cni/bridge";
	p[0].argv = cni;
	p[0].argc = 1;
	p[0].marks = marks;
	p[0].nmarks = 2;
	ck_assert_str_eq(sp_proc_role(&p[0]), "cni:add");
	ck_assert_str_eq(sp_proc_container_id(&p[0]), "sb1");
	ck_assert_str_eq(sp_proc_env(&p[0], "CNI_CONTAINERID"), "sb1");
	ck_assert_ptr_null(sp_proc_env(&p[0], "CNI_CONTAINER"));
	p[0].nmarks = 0;
	ck_assert_str_eq(sp_proc_role(&p[0]), "bridge");

	p[0].exe = "/usr/bin/conmon";
	p[0].argv = conmon;
	p[0].argc = 9;
	ck_assert_str_eq(sp_proc_role(&p[0]), "conmon");
	ck_assert_str_eq(sp_proc_container_id(&p[0]), "c9");

	p[0].exe = "/usr/sbin/dockerd";
	p[0].argv = dockerd;
	p[0].argc = 3;
	ck_assert_str_eq(sp_proc_role(&p[0]), "dockerd");
	p[0].argv = setkey;
	p[0].argc = 4;
	ck_assert_str_eq(sp_proc_role(&p[0]), "libnetwork-setkey");

	/* runc create (pid 10), its runc init (11), and the hook it ran (12). */
	memset(p, 0, sizeof(p));
	p[0].exe = "/usr/sbin/runc";
	p[0].argv = create;
	p[0].argc = 5;
	p[0].host_pid = 10;
	p[0].t_load_ns = 100;
	p[1].exe = "/usr/sbin/runc";
	p[1].argv = init;
	p[1].argc = 2;
	p[1].host_pid = 11;
	p[1].ppid = 10;
	p[1].t_load_ns = 200;
	p[2].exe = "/usr/sbin/dockerd";
	p[2].argv = setkey;
	p[2].argc = 4;
	p[2].host_pid = 12;
	p[2].ppid = 10;
	p[2].t_load_ns = 300;
	sp_roles_assign(p, 3);
	ck_assert_str_eq(sp_proc_role(&p[0]), "runc:create");
	ck_assert_str_eq(sp_proc_role(&p[1]), "runc:init");
	ck_assert_str_eq(sp_proc_role(&p[2]), "hook");
}
END_TEST

START_TEST(test_rule_table_well_formed)
{
	for (size_t p = 0; p < sp_nprofiles; p++) {
		const struct sp_profile *prof = sp_profiles[p];

		ck_assert_ptr_nonnull(prof->name);
		ck_assert_ptr_eq(sp_profile_by_name(prof->name), prof);
		ck_assert_uint_gt(prof->nrules, 0);
		for (size_t i = 0; i < prof->nrules; i++) {
			const struct sp_phase_rule *r = &prof->rules[i];

			ck_assert_ptr_nonnull(r->phase);
			ck_assert_ptr_nonnull(r->doc);
			ck_assert_int_ne(r->start.kind, SP_AK_NONE);
			if (r->parent) {
				int found = 0;

				ck_assert_int_ne(r->end.kind, SP_AK_NONE);
				for (size_t k = 0; k < i; k++)
					if (!prof->rules[k].parent &&
					    strcmp(prof->rules[k].phase, r->parent) == 0)
						found = 1;
				ck_assert_msg(found, "%s/%s: parent %s not before it in the profile",
					      prof->name, r->phase, r->parent);
			}
		}
	}
	ck_assert_ptr_null(sp_profile_by_name("no-such-profile"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("phases");
	TCase *tc = tcase_create("phases");

	tcase_add_test(tc, test_crun_map);
	tcase_add_test(tc, test_two_containers_apart);
	tcase_add_test(tc, test_missing_phases);
	tcase_add_test(tc, test_container_id);
	tcase_add_test(tc, test_rule_table_well_formed);
	tcase_add_test(tc, test_engine_roles);
	tcase_add_test(tc, test_containerd_map);
	tcase_add_test(tc, test_roles);
	tcase_add_test(tc, test_why_not_seen);
	tcase_add_test(tc, test_pid_reuse);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)
