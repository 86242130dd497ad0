/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core.c - the library's process life: configuration, the ring file, the
 * recording entry points used by every hook, fork children, the JSON file
 * written at exit and before exec, and the messages it prints.
 *
 * Failing open: when anything here goes wrong the library stops recording
 * (sp_s.on = 0) or skips that step, says why once, and every hook keeps
 * passing its call through unchanged.
 */
#include "internal.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "env.h"
#include "raw.h"

SP_HIDDEN __thread struct sp_thread sp_t __attribute__((tls_model("initial-exec")));
SP_HIDDEN struct sp_state sp_s;

static uint64_t said;          /* sp_say_once bits */
static int log_fd = -1;        /* STARTPATH_LOG file, else stderr */
/* Some programs' stderr is part of their answer to their caller: a
 * containerd shim's `start` output is parsed as its address, and go-runc
 * parses the combined output of `runc state` and `runc ps` as JSON.  A
 * message there fails the start or the query.  Their messages go to
 * STARTPATH_LOG only, and are dropped without it. */
static int stderr_is_reply;
static char log_path[512];
static int load_dfd = -1;      /* the directory checked by the constructor, while it runs */

/* ---- real functions ---- */

#define SP_HOOK(ret, name, params) SP_HIDDEN ret (*real_##name) params;
#include "hooks.def"
#undef SP_HOOK

void sp_resolve_all(void)
{
#define SP_HOOK(ret, name, params) \
	if (!real_##name) \
		real_##name = (ret (*) params)dlsym(RTLD_NEXT, #name);
#include "hooks.def"
#undef SP_HOOK
	sp_syscall_setup();
}

/* ---- messages ---- */

static void out_write(const char *buf, size_t n)
{
	int fd;

	if (log_fd < 0 && log_path[0]) {
		/* Opened at the first message: no file for a quiet process. */
		struct stat st;

		/* Never through a link, never a FIFO, never a file that is not
		 * ours: the messages hold paths, and root writes them. */
		log_fd = (int)sp_raw_syscall6(SYS_openat, AT_FDCWD, (long)log_path,
					      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
						      O_NOFOLLOW | O_NONBLOCK,
					      0600, 0, 0);
		if (log_fd >= 0 && (sp_raw_syscall6(SYS_fstat, log_fd, (long)&st, 0, 0, 0, 0) < 0 ||
				    !S_ISREG(st.st_mode) ||
				    st.st_uid != (uid_t)sp_raw_syscall6(SYS_geteuid, 0, 0, 0, 0, 0, 0))) {
			sp_raw_syscall6(SYS_close, log_fd, 0, 0, 0, 0, 0);
			log_fd = -1;
		}
		if (log_fd >= 0 && log_fd < 3) {
			/* Never hold a standard descriptor the program may reuse. */
			int hi = fcntl(log_fd, F_DUPFD_CLOEXEC, 10);

			close(log_fd);
			log_fd = hi;
		}
		if (log_fd < 0)
			log_path[0] = '\0'; /* stderr from now on */
	}
	fd = log_fd >= 0 ? log_fd : stderr_is_reply ? -1 : 2;
	if (fd < 0)
		return;

	while (n) {
		long w = sp_raw_syscall6(SYS_write, fd, (long)buf, (long)n, 0, 0, 0);

		if (w == -EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

static void vsay(const char *fmt, va_list ap)
{
	char buf[768];
	int n = snprintf(buf, sizeof(buf), "startpath: [%d] ", sp_s.pid);

	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	out_write(buf, (size_t)n);
}

void sp_say_once(unsigned id, const char *fmt, ...)
{
	va_list ap;
	uint64_t bit = 1ULL << (id & 63);

	if (__atomic_fetch_or(&said, bit, __ATOMIC_RELAXED) & bit)
		return;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

void sp_debug(int level, const char *fmt, ...)
{
	va_list ap;

	if (sp_s.debug < level)
		return;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

/* ---- time and identity ---- */

static inline uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline int cur_tid(void)
{
	if (sp_unlikely(sp_t.shared))
		return (int)sp_raw_syscall6(SYS_gettid, 0, 0, 0, 0, 0, 0);
	if (sp_unlikely(!sp_t.tid))
		sp_t.tid = (int)sp_raw_syscall6(SYS_gettid, 0, 0, 0, 0, 0, 0);
	return sp_t.tid;
}

static inline int cur_pid(void)
{
	if (sp_unlikely(sp_t.shared))
		return (int)sp_raw_syscall6(SYS_getpid, 0, 0, 0, 0, 0, 0);
	return sp_s.pid;
}

static uint64_t new_ring_id(void)
{
	uint64_t id = 0;
	unsigned lo, hi;

	if (sp_raw_syscall6(SYS_getrandom, (long)&id, sizeof(id), 1 /* GRND_NONBLOCK */,
			    0, 0, 0) != sizeof(id) || !id) {
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		id = ((uint64_t)hi << 32 | lo) ^ ((uint64_t)sp_s.pid << 40) ^
		     now_ns(CLOCK_REALTIME);
	}
	return id ? id : 1;
}

/* The pid the host sees: /proc is still the host's until a container
 * mounts its own, which is when we no longer create rings. */
static int host_pid(void)
{
	char buf[32];
	long n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return sp_s.pid;
	buf[n] = '\0';
	return atoi(buf) > 0 ? atoi(buf) : sp_s.pid;
}

/* /proc/self/exe of this image, read once (ring_create runs again in a
 * forked child, whose image is the same). */
const char *sp_exe(void)
{
	if (!sp_s.exe[0]) {
		long n = readlink("/proc/self/exe", sp_s.exe, sizeof(sp_s.exe) - 1);

		sp_s.exe[n > 0 ? n : 0] = '\0';
		if (n <= 0)
			sp_s.exe[0] = '?';
	}
	return sp_s.exe;
}

/* ---- the timing build ---- */

#ifdef SP_SELFTIME
static void cost_add(unsigned depth, uint64_t now)
{
	if (depth < sizeof(sp_t.cost_where))
		__atomic_fetch_add(&sp_s.cost[sp_t.cost_where[depth]], now - sp_t.cost_t0,
				   __ATOMIC_RELAXED);
}

void sp_cost_in(unsigned where)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC);

	if (sp_t.cost_depth)
		cost_add(sp_t.cost_depth - 1, now);
	if (sp_t.cost_depth < sizeof(sp_t.cost_where))
		sp_t.cost_where[sp_t.cost_depth] = (uint8_t)where;
	sp_t.cost_depth++;
	sp_t.cost_t0 = now;
}

void sp_cost_out(void)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC);

	if (!sp_t.cost_depth)
		return;
	cost_add(--sp_t.cost_depth, now);
	sp_t.cost_t0 = now;
	if (__atomic_load_n(&sp_s.on, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&sp_s.ring_state, __ATOMIC_ACQUIRE) == SP_RING_READY)
		for (int i = 0; i < SP_COST_N; i++)
			__atomic_store_n(&sp_s.ring.hdr->cost_ns[i],
					 __atomic_load_n(&sp_s.cost[i], __ATOMIC_RELAXED),
					 __ATOMIC_RELAXED);
}

void sp_cost_reset(void)
{
	for (int i = 0; i < SP_COST_N; i++)
		__atomic_store_n(&sp_s.cost[i], 0, __ATOMIC_RELAXED);
}
#endif

/* ---- the ring file ---- */

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* The inode of the pid namespace in which hp (our pid as /proc shows it)
 * names us: retention elsewhere asks kill(hp, 0) only from that
 * namespace.  Ours if /proc agrees with getpid (read once per image; a
 * fork child is in its parent's namespace unless made in a new one, when
 * its pid differs from /proc's).  Else /proc is another namespace's, the
 * one of /proc's pid 1 (a runtime's child in the container's new pid
 * namespace, before it mounts its own /proc).  0 if unknown. */
static uint64_t pid_ns(int hp)
{
	const char *link = "/proc/self/ns/pid";
	char buf[48];
	long n;
	uint64_t v = 0;

	if (hp != (int)sp_raw_syscall6(SYS_getpid, 0, 0, 0, 0, 0, 0)) {
		/* A fork child in a new pid namespace: /proc's is its parent's
		 * (/proc/1/ns/pid is out of its reach). */
		if (sp_s.proc_ns)
			return sp_s.proc_ns;
		link = "/proc/1/ns/pid";
	} else if (sp_s.pidns) {
		return sp_s.pidns;
	}
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 5 || strncmp(buf, "pid:[", 5) != 0)
		return 0;
	for (long i = 5; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(buf[i] - '0');
	return v;
}

/* Create and map this process's ring in the checked directory dfd; fill
 * its identity from what was kept at load (or at the fork).  0 or -1. */
static int ring_create(int dfd)
{
	uint32_t cap = SP_RING_DEFAULT_RECORDS;
	const char *self = sp_exe(), *base = strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
	struct sp_ring_hdr *h;
	uint64_t t_load = sp_s.t_start;
	char name[80];
	size_t size;
	void *mem;
	uint32_t first, ready = 0;
	/* Asking /proc (two lookups, the namespace's the dearer) only when
	 * the exec or fork that made this process did not say. */
	int fd, hp = sp_s.hp ? sp_s.hp : host_pid();

	/* containerd and dockerd live for weeks and serve every start: a
	 * longer history. */
	if (strcmp(base, "containerd") == 0 ||
	    (strcmp(base, "dockerd") == 0 && sp_s.argc > 0 &&
	     strcmp(strrchr(sp_s.args, '/') ? strrchr(sp_s.args, '/') + 1 : sp_s.args, "dockerd") == 0))
		cap = SP_RING_DAEMON_RECORDS;
	if (sp_s.ring_cap)
		cap = sp_s.ring_cap;
	snprintf(sp_s.base, sizeof(sp_s.base), "%d-%llu", hp, (unsigned long long)t_load);
	snprintf(name, sizeof(name), "%s.ring", sp_s.base);
	size = sp_ring_bytes(cap);
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		sp_say_once(SP_MSG_RING, "cannot create %s/%s: %s; not recording", sp_s.dir, name,
			    strerror(errno));
		return -1;
	}
	/* A store into a page of a shared mapping that the filesystem cannot
	 * back raises SIGBUS in the program.  So every page is reserved before
	 * a record goes to it: the header and the first records now, the rest
	 * as the ring fills (sp_ring_grow; a short-lived process uses a few
	 * pages of the 516 KiB).  Kernels before 5.14 lack MADV_POPULATE_WRITE:
	 * there the whole file is reserved now. */
	if (ftruncate(fd, (off_t)size) < 0) {
		sp_say_once(SP_MSG_RING, "cannot size %s/%s: %s; not recording", sp_s.dir, name,
			    strerror(errno));
		goto fail_fd;
	}
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		sp_say_once(SP_MSG_RING, "cannot map %s/%s: %s; not recording", sp_s.dir, name,
			    strerror(errno));
		goto fail_fd;
	}
	/* The file is sparse and touched a page at a time: without this, a
	 * fault on a disk filesystem reads ahead (zero-fills) megabytes of
	 * holes, in every process, at every exec. */
	madvise(mem, size, MADV_RANDOM);
	first = cap < SP_RING_FIRST_RECORDS ? cap : SP_RING_FIRST_RECORDS;
	if (madvise(mem, sp_ring_bytes(first), MADV_POPULATE_WRITE) == 0) {
		ready = first;
	} else if (errno == EINVAL) {
		if ((errno = posix_fallocate(fd, 0, (off_t)size)) == 0)
			ready = cap;
	}
	if (!ready) {
		sp_say_once(SP_MSG_RING, "cannot reserve the first %zu bytes of %s/%s: %s; not recording",
			    sp_ring_bytes(first), sp_s.dir, name, strerror(errno == EFAULT ? ENOSPC : errno));
		munmap(mem, size);
		goto fail_fd;
	}
	close(fd);
	/* A fork child still has its parent's ring mapped: let it go. */
	if (sp_s.ring.hdr)
		munmap(sp_s.ring.hdr, sp_s.ring.map_size);
	sp_ring_init(&sp_s.ring, mem, cap);
	sp_s.ring.hdr->reserved = ready < cap ? ready : 0;
	h = sp_s.ring.hdr;
	h->ring_id = new_ring_id();
	h->parent_ring_id = sp_s.parent_ring_id;
	h->pid = sp_s.pid;
	h->host_pid = hp;
	/* The header says where hp is valid; sp_s.pidns is ours, for the
	 * kill() of retention, only where hp is our own pid. */
	h->pidns = sp_s.hp ? sp_s.pidns : pid_ns(hp);
	sp_s.pidns = hp == (int)sp_raw_syscall6(SYS_getpid, 0, 0, 0, 0, 0, 0) ? h->pidns : 0;
	sp_s.hp = hp;
	h->ppid = getppid();
	h->t_load_ns = t_load;
	h->t_load_real_ns = sp_s.t_start_real;
	memcpy(h->exe, self, sizeof(h->exe));
	if (sp_s.argc) {
		memcpy(h->args, sp_s.args, sizeof(h->args));
		h->argc = sp_s.argc;
	} else {
		/* Before our constructor (a hook from another constructor). */
		int cfd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
		long n = cfd >= 0 ? read(cfd, h->args, sizeof(h->args) - 1) : -1;

		if (cfd >= 0)
			close(cfd);
		for (long i = 0; i < n; i++)
			if (!h->args[i])
				h->argc++;
	}
	return 0;
fail_fd:
	close(fd);
	unlinkat(dfd, name, 0);
	return -1;
}

/* argv as the ring's header keeps it, copied at load (the program may
 * rewrite its argv later). */
static void keep_args(int argc, char **argv)
{
	size_t used = 0;

	if (!argv)
		return;
	for (int i = 0; i < argc && argv[i]; i++) {
		size_t l = strlen(argv[i]);

		if (used + l + 1 > sizeof(sp_s.args)) {
			l = sizeof(sp_s.args) - used - 1;
			if ((ssize_t)l <= 0)
				break;
		}
		memcpy(sp_s.args + used, argv[i], l);
		sp_s.args[used + l] = '\0';
		used += l + 1;
		sp_s.argc++;
	}
}

/* ---- configuration ---- */

static int setup_dir(void)
{
	const char *d = getenv(SP_ENV_DIR);
	char tmp[512];

	if (d && *d) {
		if (d[0] != '/') {
			if (!getcwd(tmp, sizeof(tmp)) ||
			    snprintf(sp_s.dir, sizeof(sp_s.dir), "%s/%s", tmp, d) >= (int)sizeof(sp_s.dir)) {
				sp_say_once(SP_MSG_DIR, "%s=%s: cannot make it absolute; not recording",
					    SP_ENV_DIR, d);
				return -1;
			}
		} else if (snprintf(sp_s.dir, sizeof(sp_s.dir), "%s", d) >= (int)sizeof(sp_s.dir)) {
			sp_say_once(SP_MSG_DIR, "%s is too long; not recording", SP_ENV_DIR);
			return -1;
		}
	} else if (geteuid() == 0) {
		snprintf(sp_s.dir, sizeof(sp_s.dir), "%s", SP_DEFAULT_DIR_ROOT);
	} else {
		const char *x = getenv("XDG_RUNTIME_DIR");

		if (x && x[0] == '/')
			snprintf(sp_s.dir, sizeof(sp_s.dir), "%s/startpath", x);
		else
			snprintf(sp_s.dir, sizeof(sp_s.dir), "/tmp/startpath-%u", (unsigned)geteuid());
	}
	return 0;
}

/* Open (at load: make) the output directory if it can be trusted: ours,
 * writable by nobody else, the one checked at load.  Says once why not. */
static int open_dir(int create)
{
	long fd = sp_trust_dir(AT_FDCWD, sp_s.dir, create, &sp_s.dirid);
	const char *what = sp_trust_what(fd);

	if (fd >= 0)
		return (int)fd;
	if (fd == -SP_TRUST_ETYPE)
		sp_say_once(SP_MSG_DIR, "output directory %s %s; not recording: name the directory "
			    "itself in STARTPATH_DIR", sp_s.dir, what);
	else if (what)
		sp_say_once(SP_MSG_DIR, "output directory %s %s (owner uid %u, mode %04o); not "
			    "recording: give it to uid %u with mode 0700 or 0755, or choose another "
			    "with STARTPATH_DIR", sp_s.dir, what, sp_s.dirid.uid,
			    sp_s.dirid.mode & 07777, (unsigned)geteuid());
	else
		sp_say_once(SP_MSG_DIR, "cannot %s output directory %s: %s; not recording",
			    create ? "create" : "use", sp_s.dir, strerror((int)-fd));
	return -1;
}

int sp_open_dir(void)
{
	return open_dir(0);
}

/* What children carry: LD_PRELOAD, STARTPATH_DIR made absolute, and every
 * other STARTPATH_* variable, as they are now, at load. */
static void setup_carry(void)
{
	extern char **environ;
	size_t used = 0, k = 0, max = sizeof(sp_s.carry) / sizeof(sp_s.carry[0]) - 1;
	Dl_info info;
	int n;

	if (dladdr((void *)sp_resolve_all, &info) && info.dli_fname && info.dli_fname[0] == '/')
		snprintf(sp_s.libpath, sizeof(sp_s.libpath), "%s", info.dli_fname);
	if (sp_s.libpath[0]) {
		n = snprintf(sp_s.carrybuf + used, sizeof(sp_s.carrybuf) - used, "LD_PRELOAD=%s",
			     sp_s.libpath);
		if (n > 0 && (size_t)n < sizeof(sp_s.carrybuf) - used) {
			sp_s.carry[k++] = sp_s.carrybuf + used;
			used += (size_t)n + 1;
		}
	}
	n = snprintf(sp_s.carrybuf + used, sizeof(sp_s.carrybuf) - used, "%s=%s", SP_ENV_DIR,
		     sp_s.dir);
	if (n > 0 && (size_t)n < sizeof(sp_s.carrybuf) - used) {
		sp_s.carry[k++] = sp_s.carrybuf + used;
		used += (size_t)n + 1;
	}
	for (char **e = environ; e && *e; e++) {
		size_t l = strlen(*e);

		if (strncmp(*e, "STARTPATH_", 10) != 0 || strncmp(*e, SP_ENV_DIR "=", 14) == 0 ||
		    strncmp(*e, SP_ENV_PROC "=", sizeof(SP_ENV_PROC)) == 0)
			continue;
		if (k == max || l + 1 > sizeof(sp_s.carrybuf) - used) {
			sp_say_once(SP_MSG_ENV, "settings too long to carry into children");
			break;
		}
		memcpy(sp_s.carrybuf + used, *e, l + 1);
		sp_s.carry[k++] = sp_s.carrybuf + used;
		used += l + 1;
	}
	sp_s.carry[k] = NULL;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long x;

	if (!v || !*v)
		return dflt;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (*end || errno || v[0] == '-') {
		sp_say_once(SP_MSG_CONFIG, "%s=%s is not a number; using %llu", name, v,
			    (unsigned long long)dflt);
		return dflt;
	}
	return x;
}

/* A top-level `key = "value"` (or 'value') of a TOML file: before its
 * first table.  1 and out filled, or 0. */
static int toml_top(const char *text, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *p = l, *e;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[')
			return 0;
		if (strncmp(p, key, kl) != 0)
			continue;
		p += kl;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p++ != '=')
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '"' && *p != '\'')
			continue;
		e = strchr(p + 1, *p);
		if (!e || memchr(p, '\n', (size_t)(e - p)) || (size_t)(e - p - 1) >= len)
			continue;
		memcpy(out, p + 1, (size_t)(e - p - 1));
		out[e - p - 1] = '\0';
		return out[0] == '/';
	}
	return 0;
}

/* containerd records mkdir/rename under the root and state it really uses
 * (k3s, rke2, microk8s and every private instance have their own), found
 * as containerd finds them: --root/--state, else the top-level root/state
 * of its config (--config/-c, default /etc/containerd/config.toml), else
 * the defaults.  Only in containerd itself; STARTPATH_PREFIXES overrides. */
static void learn_containerd_paths(int argc, char **argv)
{
	const char *exe = sp_exe(), *b = strrchr(exe, '/');
	const char *conf = "/etc/containerd/config.toml";
	char root[256] = "/var/lib/containerd", state[256] = "/run/containerd";
	int have_root = 0, have_state = 0;

	if (strcmp(b ? b + 1 : exe, "containerd") != 0 || !argv)
		return;
	for (int i = 1; i < argc && argv[i]; i++) {
		const char *a = argv[i], *v = NULL;
		int k = 0;

		if (strncmp(a, "--", 2) == 0)
			a++;
		if (strncmp(a, "-root", 5) == 0)
			k = 1, a += 5;
		else if (strncmp(a, "-state", 6) == 0)
			k = 2, a += 6;
		else if (strncmp(a, "-config", 7) == 0)
			k = 3, a += 7;
		else if (strcmp(a, "-c") == 0)
			k = 3, a += 2;
		if (!k || (*a && *a != '='))
			continue;
		v = *a == '=' ? a + 1 : i + 1 < argc ? argv[++i] : NULL;
		if (!v || !*v)
			continue;
		if (k == 1 && v[0] == '/' && snprintf(root, sizeof(root), "%s", v) < (int)sizeof(root))
			have_root = 1;
		else if (k == 2 && v[0] == '/' &&
			 snprintf(state, sizeof(state), "%s", v) < (int)sizeof(state))
			have_state = 1;
		else if (k == 3)
			conf = v;
	}
	if (!have_root || !have_state) {
		static char text[65536]; /* once, in containerd's constructor */
		char tmp[256];
		int fd = open(conf, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		struct stat st;
		ssize_t n = -1;

		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			n = read(fd, text, sizeof(text) - 1);
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			text[n] = '\0';
			if (!have_root && toml_top(text, "root", tmp, sizeof(tmp)))
				snprintf(root, sizeof(root), "%s", tmp);
			if (!have_state && toml_top(text, "state", tmp, sizeof(tmp)))
				snprintf(state, sizeof(state), "%s", tmp);
		}
	}
	snprintf(sp_s.prefixes, sizeof(sp_s.prefixes), "%s:%s", root, state);
	sp_s.content = 1;
	sp_debug(1, "containerd's root %s and state %s: mkdir/rename recorded under them", root, state);
}

/* A top-level "key": "value" of a JSON object (daemon.json): the first
 * occurrence of the key.  1 and out filled, or 0. */
static int json_top(const char *text, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	if (!(p = strstr(text, pat)))
		return 0;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p++ != ':')
		return 0;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p != '"' || !(e = strchr(p + 1, '"')) || (size_t)(e - p - 1) >= len)
		return 0;
	memcpy(out, p + 1, (size_t)(e - p - 1));
	out[e - p - 1] = '\0';
	return out[0] == '/';
}

/* dockerd makes a container's layers and record under its data root and
 * its runtime files under its exec root: --data-root/--exec-root, else
 * daemon.json's (--config-file, default /etc/docker/daemon.json), else the
 * defaults.  Only in dockerd itself; STARTPATH_PREFIXES overrides. */
static void learn_dockerd_paths(int argc, char **argv)
{
	const char *exe = sp_exe(), *b = strrchr(exe, '/');
	const char *conf = "/etc/docker/daemon.json";
	char data[256] = "/var/lib/docker", run[256] = "/var/run/docker";
	int have_data = 0, have_run = 0;

	if (strcmp(b ? b + 1 : exe, "dockerd") != 0 || !argv || argc < 1 ||
	    strcmp(strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0], "dockerd") != 0)
		return;
	for (int i = 1; i < argc && argv[i]; i++) {
		const char *a = argv[i], *v;
		int k = 0;

		if (strncmp(a, "--data-root", 11) == 0)
			k = 1, a += 11;
		else if (strncmp(a, "--exec-root", 11) == 0)
			k = 2, a += 11;
		else if (strncmp(a, "--config-file", 13) == 0)
			k = 3, a += 13;
		if (!k || (*a && *a != '='))
			continue;
		v = *a == '=' ? a + 1 : i + 1 < argc ? argv[++i] : NULL;
		if (!v || !*v)
			continue;
		if (k == 1 && v[0] == '/' && snprintf(data, sizeof(data), "%s", v) < (int)sizeof(data))
			have_data = 1;
		else if (k == 2 && v[0] == '/' && snprintf(run, sizeof(run), "%s", v) < (int)sizeof(run))
			have_run = 1;
		else if (k == 3)
			conf = v;
	}
	if (!have_data || !have_run) {
		static char text[65536]; /* once, in dockerd's constructor */
		char tmp[256];
		int fd = open(conf, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		struct stat st;
		ssize_t n = -1;

		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			n = read(fd, text, sizeof(text) - 1);
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			text[n] = '\0';
			if (!have_data && json_top(text, "data-root", tmp, sizeof(tmp)))
				snprintf(data, sizeof(data), "%s", tmp);
			if (!have_run && json_top(text, "exec-root", tmp, sizeof(tmp)))
				snprintf(run, sizeof(run), "%s", tmp);
		}
	}
	snprintf(sp_s.prefixes, sizeof(sp_s.prefixes), "%s:%s", data, run);
	sp_debug(1, "dockerd's data root %s and exec root %s: mkdir/rename recorded under them", data,
		 run);
}

/* podman makes a container's layer under its storage root and its runtime
 * files under its run root: --root/--runroot, else the defaults.  Only in
 * podman itself; STARTPATH_PREFIXES overrides. */
static void learn_podman_paths(int argc, char **argv)
{
	const char *exe = sp_exe(), *b = strrchr(exe, '/');
	char root[256] = "/var/lib/containers/storage", run[256] = "/run/containers/storage";

	if (strcmp(b ? b + 1 : exe, "podman") != 0 || !argv)
		return;
	for (int i = 1; i < argc && argv[i]; i++) {
		const char *a = argv[i], *v;
		int k = 0;

		if (strncmp(a, "--root", 6) == 0)
			k = 1, a += 6;
		else if (strncmp(a, "--runroot", 9) == 0)
			k = 2, a += 9;
		if (!k || (*a && *a != '='))
			continue;
		v = *a == '=' ? a + 1 : i + 1 < argc ? argv[++i] : NULL;
		if (v && v[0] == '/')
			snprintf(k == 1 ? root : run, sizeof(root), "%s", v);
	}
	snprintf(sp_s.prefixes, sizeof(sp_s.prefixes), "%s:%s", root, run);
	sp_debug(1, "podman's root %s and run root %s: mkdir/rename recorded under them", root, run);
}

/* Every remaining setting, now: nothing reads the environment later. */
static void read_config(int argc, char **argv)
{
	const char *p = getenv(SP_ENV_PREFIXES), *v;

	snprintf(sp_s.prefixes, sizeof(sp_s.prefixes), "%s", p ? p : SP_DEFAULT_PREFIXES);
	if (!p)
		learn_containerd_paths(argc, argv), learn_dockerd_paths(argc, argv),
			learn_podman_paths(argc, argv);
	v = getenv("STARTPATH_RAW");
	sp_s.raw_off = v && strcmp(v, "0") == 0;
	sp_s.no_redirect = getenv("STARTPATH_NO_EXEC_REDIRECT") != NULL;
	v = getenv("STARTPATH_EXEC");
	if (v && v[0] == '/')
		snprintf(sp_s.launcher, sizeof(sp_s.launcher), "%s", v);
	v = getenv("STARTPATH_CACHE");
	if (v && *v)
		snprintf(sp_s.cache, sizeof(sp_s.cache), "%s", v);
	v = getenv(SP_ENV_RING);
	if (v && *v) {
		char *end;
		unsigned long r = strtoul(v, &end, 10);

		if (*end || r < SP_RING_MIN_RECORDS || r > SP_RING_MAX_RECORDS)
			sp_say_once(SP_MSG_CONFIG, "%s=%s is not a record count between %u and %u; "
				    "using the default", SP_ENV_RING, v, SP_RING_MIN_RECORDS,
				    SP_RING_MAX_RECORDS);
		else
			sp_s.ring_cap = sp_ring_capacity(r);
	}
	sp_s.keep_age_s = env_u64("STARTPATH_KEEP_AGE", 86400);
	sp_s.keep_mb = env_u64("STARTPATH_KEEP_MB", 512);
	sp_s.keep_procs = env_u64("STARTPATH_KEEP_PROCS", 1000);
}

static void setup_log(void)
{
	const char *l = getenv(SP_ENV_LOG), *d = getenv(SP_ENV_DEBUG);

	if (d && *d) {
		sp_s.debug = atoi(d);
		if (sp_s.debug < 0 || sp_s.debug > 3 || (d[0] < '0' || d[0] > '9')) {
			sp_s.debug = 0;
			sp_say_once(SP_MSG_CONFIG, "%s=%s is not 0..3; debug output off", SP_ENV_DEBUG, d);
		}
	}
	if (l && *l)
		snprintf(log_path, sizeof(log_path), "%s.%d", l, sp_s.pid);
}

uint64_t sp_blob_size(int dfd, const char *to)
{
	struct stat st;
	int saved = errno;
	uint64_t n = 0;

	if (to && strstr(to, "/blobs/sha256/") && fstatat(dfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode))
		n = (uint64_t)st.st_size;
	errno = saved;
	return n;
}

int sp_prefix_match(const char *path)
{
	const char *p = sp_s.prefixes;

	if (!path || path[0] != '/' || !*p)
		return 0;
	while (*p) {
		size_t l = strcspn(p, ":");

		if (l && strncmp(path, p, l) == 0 && (path[l] == '/' || path[l] == '\0'))
			return 1;
		p += l;
		if (*p == ':')
			p++;
	}
	return 0;
}

static int is_shim(const char *name)
{
	return name && (strncmp(name, "containerd-shim", 15) == 0 || strcmp(name, "runc") == 0 ||
			strcmp(name, "crun") == 0);
}

/* STARTPATH_PROC=<pid>:<host pid>:<pid ns inode>, set by the library in
 * the process that exec'd this image: if it was this very process (the
 * same pid), its host pid and pid namespace are ours. */
static void learn_proc(void)
{
	const char *v = getenv(SP_ENV_PROC);
	unsigned long long f[3] = { 0, 0, 0 };
	int k = 0;

	if (!v || !*v)
		return;
	snprintf(sp_s.procvar, sizeof(sp_s.procvar), "%s=%s", SP_ENV_PROC, v);
	for (const char *p = v; k < 3; p++) {
		if (*p >= '0' && *p <= '9' && f[k] < (1ULL << 60)) {
			f[k] = f[k] * 10 + (unsigned)(*p - '0');
		} else if ((*p == ':' && k < 2) || (*p == '\0' && k == 2)) {
			k++;
			if (!*p)
				break;
		} else {
			return;
		}
	}
	if (k == 3 && f[0] == (unsigned long long)sp_s.pid && f[1] > 0 && f[1] < (1ULL << 31)) {
		sp_s.hp = (int)f[1];
		sp_s.pidns = f[2];
	}
}

static void atfork_child(void)
{
	sp_child_init();
}

/* A CNI plugin is told its pod only in its environment (its command line
 * is its path): what a map needs to place it, as marks "env:NAME=value",
 * read here at load like every other setting. */
static void record_cni_env(void)
{
	static const char *const keys[] = { "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS",
					    "CNI_IFNAME", "CNI_ARGS", NULL };
	char mark[SP_REC_DATA - 8];

	if (!getenv("CNI_COMMAND"))
		return;
	for (int i = 0; keys[i]; i++) {
		const char *v = getenv(keys[i]);

		if (v && snprintf(mark, sizeof(mark), "env:%s=%s", keys[i], v) < (int)sizeof(mark))
			sp_event(SP_K_MARK, 0, mark);
	}
}

static void sp_init(int argc, char **argv)
{
	int expect = 0, dfd;
	const char *dis;

	if (!__atomic_compare_exchange_n(&sp_s.init, &expect, 1, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	SP_COST_IN(SP_COST_LOAD);
	sp_t.in_init = 1;
	sp_s.t_start = now_ns(CLOCK_MONOTONIC);
	sp_s.t_start_real = now_ns(CLOCK_REALTIME);
	sp_t.busy++;
	sp_resolve_all();
	sp_s.pid = getpid();
	learn_proc();
	stderr_is_reply = is_shim(program_invocation_short_name);
	setup_log();
	dis = getenv(SP_ENV_DISABLE);
	if (dis && strcmp(dis, "1") == 0)
		goto done;
	{
		/* startpath-exec records for the static program it loads. */
		const char *self = sp_exe(), *base = strrchr(self, '/');

		if (strcmp(base ? base + 1 : self, "startpath-exec") == 0)
			goto done;
		stderr_is_reply |= is_shim(base ? base + 1 : self);
	}
	sp_s.runtime = stderr_is_reply;
	if (!real_syscall || !real_execve || !real_mount) {
		sp_say_once(SP_MSG_RESOLVE, "cannot find libc's functions; not recording");
		goto done;
	}
	read_config(argc, argv);
	if (setup_dir() < 0)
		goto done;
	/* The directory is checked (and made) now only if the program has
	 * syscall sites whose cached plan is in it; else with the first record
	 * (a process that records nothing never touches it). */
	dfd = sp_raw_wanted() ? open_dir(1) : -2;
	if (dfd == -1)
		goto done;
	keep_args(argc, argv);
	setup_carry();
	pthread_atfork(NULL, NULL, atfork_child);
	/* Recording from now on; the ring file comes with the first record. */
	__atomic_store_n(&sp_s.on, 1, __ATOMIC_RELEASE);
	load_dfd = dfd;
	record_cni_env();
	if (dfd >= 0) {
		SP_COST_IN(SP_COST_PLAN);
		sp_raw_setup(dfd);
		SP_COST_OUT();
		close(dfd);
	}
	load_dfd = -1;
done:
	sp_t.busy--;
	sp_t.in_init = 0;
	__atomic_store_n(&sp_s.init, 2, __ATOMIC_RELEASE);
	SP_COST_OUT();
}

__attribute__((constructor)) static void sp_ctor(int argc, char **argv, char **envp)
{
	(void)envp;
	sp_init(argc, argv);
}

int sp_ready(void)
{
	int st = __atomic_load_n(&sp_s.init, __ATOMIC_ACQUIRE);

	if (sp_unlikely(st == 0)) {
		int saved = errno;

		sp_init(0, NULL);
		errno = saved;
	}
	return __atomic_load_n(&sp_s.on, __ATOMIC_ACQUIRE);
}

/* ---- recording ---- */

static inline struct sp_record *rec_begin(uint64_t *ticket, unsigned kind, unsigned call,
					  unsigned src);

/* Make the ring file (the first record of this process is coming): in the
 * directory checked at load, checked again; its first record says when the
 * process started (LOAD) or was forked (FORK).  Then, at most every 10 s
 * across processes, retention.  0: recording stops. */
static int ring_make(void)
{
	struct sp_record *r;
	uint64_t ticket;
	/* In the constructor (a note, a CNI plugin's marks): the directory it
	 * has just checked. */
	int dfd = sp_t.in_init && load_dfd >= 0 ? load_dfd : open_dir(1), made;

	if (dfd < 0)
		return -1;
	SP_COST_IN(SP_COST_RING);
	made = ring_create(dfd);
	SP_COST_OUT();
	if (made < 0) {
		if (dfd != load_dfd)
			close(dfd);
		return -1;
	}
	r = rec_begin(&ticket, sp_s.is_child ? SP_K_FORK : SP_K_LOAD, SP_C_NONE, SP_SRC_LIBC);
	r->t_ns = sp_s.t_start;
	r->callid = 0;
	r->arg[0] = r->arg[1] = r->arg[2] = 0;
	sp_ring_commit(r, ticket);
	sp_retention(dfd);
	if (dfd != load_dfd)
		close(dfd);
	sp_debug(1, "recording %s into %s/%s.ring", sp_s.ring.hdr->exe, sp_s.dir, sp_s.base);
	return 0;
}

/* 1 if the ring is there to write to, made now if need be; 0 if not (and
 * never made from a vfork child, which shares the parent's memory, nor
 * from a signal handler that interrupted the making). */
static int ring_ensure(void)
{
	int st = __atomic_load_n(&sp_s.ring_state, __ATOMIC_ACQUIRE), expect = SP_RING_NONE;
	int saved;

	if (sp_likely(st == SP_RING_READY))
		return 1;
	if (sp_t.shared || sp_t.making)
		return 0;
	if (!__atomic_compare_exchange_n(&sp_s.ring_state, &expect, SP_RING_MAKING, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		while ((st = __atomic_load_n(&sp_s.ring_state, __ATOMIC_ACQUIRE)) == SP_RING_MAKING)
			sp_raw_syscall6(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
		return st == SP_RING_READY;
	}
	saved = errno;
	sp_t.making = 1;
	sp_t.busy++;
	if (ring_make() == 0) {
		__atomic_store_n(&sp_s.ring_state, SP_RING_READY, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&sp_s.on, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&sp_s.ring_state, SP_RING_NONE, __ATOMIC_RELEASE);
	}
	sp_t.busy--;
	sp_t.making = 0;
	errno = saved;
	return __atomic_load_n(&sp_s.ring_state, __ATOMIC_ACQUIRE) == SP_RING_READY;
}

static inline int ring_ready(void)
{
	return __atomic_load_n(&sp_s.ring_state, __ATOMIC_ACQUIRE) == SP_RING_READY;
}

static inline struct sp_record *rec_begin(uint64_t *ticket, unsigned kind, unsigned call,
					  unsigned src)
{
	struct sp_record *r = sp_ring_reserve(&sp_s.ring, ticket);

	r->t_ns = now_ns(CLOCK_MONOTONIC);
	r->pid = cur_pid();
	r->tid = cur_tid();
	r->kind = (uint16_t)kind;
	r->call = (uint16_t)call;
	r->src = (uint8_t)src;
	r->flags = (uint8_t)((sp_s.contained ? SP_RF_CONTAINED : 0) |
			     (sp_t.shared ? SP_RF_VFORKED : 0));
	r->nstr = 0;
	r->result = 0;
	r->err = 0;
	return r;
}

int sp_enter(struct sp_frame *c, unsigned call, unsigned src, const char *const *strs,
	     unsigned nstr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct sp_record *r;
	uint64_t ticket;
	int saved;

	c->on = 0;
	if (call == SP_C_FORK || call == SP_C_VFORK || call == SP_C_CLONE || call == SP_C_CLONE3)
		sp_t.clone_flags = call == SP_C_CLONE || call == SP_C_CLONE3 ? a0 : 0;
	else if ((call == SP_C_UNSHARE && (a0 & CLONE_NEWPID)) || call == SP_C_SETNS)
		sp_s.newpid_kids = 1; /* whether or not it works: then we just ask /proc */
	if (sp_unlikely(!sp_ready()) || sp_unlikely(sp_t.busy))
		return 0;
	SP_COST_IN(SP_COST_CALLS);
	if (sp_unlikely(!ring_ensure())) {
		SP_COST_OUT();
		return 0;
	}
	saved = errno;
	c->on = 1;
	c->call = (uint16_t)call;
	c->src = (uint8_t)src;
	c->callid = ++sp_t.callid;
	r = rec_begin(&ticket, SP_K_ENTER, call, src);
	r->callid = c->callid;
	r->arg[0] = a0;
	r->arg[1] = a1;
	r->arg[2] = a2;
	if (nstr)
		sp_rec_put_strs(r, strs, nstr);
	sp_ring_commit(r, ticket);
	SP_COST_OUT();
	errno = saved;
	return 1;
}

void sp_exit(struct sp_frame *c, long result, int err, uint64_t a0)
{
	struct sp_record *r;
	uint64_t ticket;

	if (!c->on || !ring_ready())
		goto out;
	SP_COST_IN(SP_COST_CALLS);
	r = rec_begin(&ticket, SP_K_EXIT, c->call, c->src);
	r->callid = c->callid;
	r->result = result;
	r->err = result < 0 || (c->call == SP_C_POSIX_SPAWN && result) ? err : 0;
	r->arg[0] = a0;
	r->arg[1] = 0;
	r->arg[2] = 0;
	sp_ring_commit(r, ticket);
	SP_COST_OUT();
out:
	errno = err;
}

void sp_event(unsigned kind, long result, const char *text)
{
	struct sp_record *r;
	uint64_t ticket;
	int saved;

	if (!__atomic_load_n(&sp_s.on, __ATOMIC_ACQUIRE))
		return;
	/* A process that recorded nothing has no file to say it exited in. */
	if (kind == SP_K_PEXIT ? !ring_ready() : !ring_ensure())
		return;
	SP_COST_IN(SP_COST_CALLS);
	saved = errno;
	r = rec_begin(&ticket, kind, SP_C_NONE, SP_SRC_LIBC);
	r->callid = 0;
	r->result = result;
	r->arg[0] = r->arg[1] = r->arg[2] = 0;
	if (text)
		sp_rec_put_strs(r, &text, 1);
	sp_ring_commit(r, ticket);
	if (kind == SP_K_PEXIT && !sp_t.shared) {
		__atomic_store_n(&sp_s.ring.hdr->exit_status, result, __ATOMIC_RELAXED);
		__atomic_fetch_or(&sp_s.ring.hdr->flags, SP_HF_EXITED, __ATOMIC_RELEASE);
	}
	SP_COST_OUT();
	errno = saved;
}

/* ---- children, exec, containment ---- */

void sp_child_init(void)
{
	int saved = errno;

	SP_COST_IN(SP_COST_CHILD);
#ifdef SP_SELFTIME
	sp_cost_reset();
#endif
	{
		int ppid = sp_s.pid;

		sp_t.tid = 0;
		sp_t.shared = 0;
		sp_s.pid = (int)sp_raw_syscall6(SYS_getpid, 0, 0, 0, 0, 0, 0);
		/* Our host pid is our pid if the parent's was its own (it lives
		 * in /proc's namespace) and we are in the parent's namespace. */
		/* The namespace of /proc (where our host pid is valid) is the
		 * parent's if its pid was /proc's. */
		sp_s.proc_ns = sp_s.hp && sp_s.hp == ppid ? sp_s.pidns : 0;
		if (sp_s.hp && sp_s.hp == ppid && !sp_s.newpid_kids &&
		    !(sp_t.clone_flags & CLONE_NEWPID))
			sp_s.hp = sp_s.pid;
		else
			sp_s.hp = 0, sp_s.pidns = 0;
	}
	if (!__atomic_load_n(&sp_s.on, __ATOMIC_ACQUIRE) || sp_s.contained) {
		/* In a container's root our directory is not the host's: keep
		 * writing into the inherited shared ring. */
		SP_COST_OUT();
		errno = saved;
		return;
	}
	/* A ring of its own at its first record (the parent's stays mapped
	 * until then, and is never written to). */
	sp_s.parent_ring_id = ring_ready() ? sp_s.ring.hdr->ring_id : 0;
	sp_s.is_child = 1;
	sp_s.t_start = now_ns(CLOCK_MONOTONIC);
	sp_s.t_start_real = now_ns(CLOCK_REALTIME);
	__atomic_store_n(&sp_s.ring_state, SP_RING_NONE, __ATOMIC_RELEASE);
	SP_COST_OUT();
	errno = saved;
}

int sp_setns_enters(long fd, long nstype)
{
	long t;

	if (nstype & CLONE_NEWNS)
		return 1; /* a mount ns fd, or a pidfd with every namespace */
	if (nstype != 0)
		return 0;
	/* Whatever fd names: ask it (NS_GET_NSTYPE, Linux 4.11).  No answer
	 * (an older kernel): count it as a mount namespace. */
	t = sp_raw_syscall6(SYS_ioctl, fd, (long)(0xb7 << 8 | 0x3), 0, 0, 0, 0);
	return t < 0 || t == CLONE_NEWNS;
}

void sp_set_contained(void)
{
	if (sp_t.shared)
		return;
	sp_s.contained = 1;
	if (__atomic_load_n(&sp_s.on, __ATOMIC_ACQUIRE) && ring_ready())
		__atomic_fetch_or(&sp_s.ring.hdr->flags, SP_HF_CONTAINED, __ATOMIC_RELAXED);
}

char *const *sp_child_env(char *const envp[], char **out, size_t outcap, char *buf,
			  size_t buflen, int *added)
{
	const char *ours[sizeof(sp_s.carry) / sizeof(sp_s.carry[0]) + 1];
	char *proc = NULL;
	size_t k = 0;
	int n, noted = 0;

	*added = 0;
	if (!__atomic_load_n(&sp_s.on, __ATOMIC_ACQUIRE) || !sp_s.carry[0])
		return envp;
	SP_COST_IN(SP_COST_EXEC);
	for (; sp_s.carry[k]; k++)
		ours[k] = sp_s.carry[k];
	/* Into a container: nothing of ours goes along. */
	if (sp_s.contained) {
		if (sp_s.procvar[0])
			ours[k++] = sp_s.procvar;
		ours[k] = NULL;
		n = sp_env_strip(envp, ours, sp_s.libpath, out, outcap, buf, buflen);
	} else {
		/* Who we are, for the image this exec starts if it is still us
		 * (left out when not known: a stale one is never passed on).  A
		 * vfork child (our memory, its own pid) is in its parent's pid
		 * namespace unless the clone or an unshare said otherwise. */
		int pid = sp_s.pid, hp = sp_s.hp;

		if (sp_t.shared) {
			pid = (int)sp_raw_syscall6(SYS_getpid, 0, 0, 0, 0, 0, 0);
			hp = sp_s.hp && sp_s.hp == sp_s.pid && !sp_s.newpid_kids &&
					     !(sp_t.clone_flags & CLONE_NEWPID) ? pid : 0;
		}
		/* In the caller's buffer, which the exec reads: a string of this
		 * frame would be gone by then (and the child got whatever the
		 * stack held there instead). */
		if (hp && buflen > 80) {
			int l = snprintf(buf, 80, "%s=%d:%d:%llu", SP_ENV_PROC, pid, hp,
					 (unsigned long long)sp_s.pidns);

			if (l > 0 && l < 80) {
				proc = buf;
				ours[k++] = proc;
				buf += l + 1;
				buflen -= (size_t)l + 1;
			}
		}
		ours[k] = NULL;
		n = sp_env_merge(envp, ours, out, outcap, buf, buflen);
		/* What the exec record counts is the settings carried: not
		 * this note of ours. */
		if (n > 0 && proc) {
			int had = 0;

			for (char *const *e = envp; e && *e && !had; e++)
				had = strcmp(*e, proc) == 0;
			noted = !had;
		}
	}
	if (n < 0) {
		sp_say_once(SP_MSG_ENV, "environment too large to %s the startpath settings; "
			    "the child %s", sp_s.contained ? "take out" : "add",
			    sp_s.contained ? "gets it as it is" : "is not traced");
		SP_COST_OUT();
		return envp;
	}
	*added = sp_s.contained ? 0 : n - noted;
	SP_COST_OUT();
	return n ? out : envp;
}

/* ---- exec and exit ---- */

/* Everything recorded is in the ring file already (the CLI reads it): what
 * is left at exit or exec is to say once if records were lost. */
static void say_dropped(void)
{
	uint64_t dropped = __atomic_load_n(&sp_s.ring.hdr->dropped, __ATOMIC_RELAXED);

	if (dropped)
		sp_say_once(SP_MSG_RING, "%llu records had no room in %s/%s.ring (its filesystem "
			    "is full) and are counted as lost", (unsigned long long)dropped,
			    sp_s.dir, sp_s.base);
}

/* At most ~1 ms waiting for other threads' records before an exit or exec. */
#define QUIESCE_BUDGET 10u

void sp_before_exec(void)
{
	if (!__atomic_load_n(&sp_s.on, __ATOMIC_ACQUIRE) || sp_t.shared || !ring_ready())
		return;
	__atomic_fetch_or(&sp_s.ring.hdr->flags, SP_HF_EXECED, __ATOMIC_RELEASE);
	sp_ring_quiesce(&sp_s.ring, QUIESCE_BUDGET);
	say_dropped();
}

void sp_exec_failed(void)
{
	if (!__atomic_load_n(&sp_s.on, __ATOMIC_ACQUIRE) || sp_t.shared || !ring_ready())
		return;
	__atomic_fetch_and(&sp_s.ring.hdr->flags, ~(uint64_t)SP_HF_EXECED, __ATOMIC_RELEASE);
}

void sp_flush_exit(void)
{
	if (!__atomic_load_n(&sp_s.on, __ATOMIC_ACQUIRE) || sp_t.shared || !ring_ready())
		return;
	sp_ring_quiesce(&sp_s.ring, QUIESCE_BUDGET);
	say_dropped();
}

__attribute__((destructor)) static void sp_dtor(void)
{
	if (!__atomic_load_n(&sp_s.on, __ATOMIC_ACQUIRE) || sp_t.shared || !ring_ready())
		return;
	SP_COST_IN(SP_COST_EXIT);
	if (!(__atomic_load_n(&sp_s.ring.hdr->flags, __ATOMIC_ACQUIRE) & SP_HF_EXITED))
		sp_event(SP_K_PEXIT, -1, NULL); /* returned from main: status unknown here */
	say_dropped();
	SP_COST_OUT();
}
