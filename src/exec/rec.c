/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec.c - the recorder inside a static process started by startpath-exec.
 * Freestanding: no libc, no %fs, no global constructor; raw syscalls only.
 * The launcher fills spx_conf, maps the areas and rewrites the program's
 * syscall sites so that the interesting ones enter spx_pre/spx_post through
 * rec_entry.S.  Records go into the same ring format as libstartpath.so's,
 * src = SP_SRC_RAW, and the CLI reads them the same way.
 *
 * Processes: a clone without CLONE_VM makes a process of its own, which gets
 * its own ring (as a fork does under the library).  Threads and vfork
 * children get an area of their own in spx_child (rec_entry.S chose it).
 * An exec of another static binary goes back through the launcher, unless
 * the process has pivoted, chrooted or joined a mount namespace (the
 * launcher's path means nothing there, and no host fd may leak in).
 */
#include "rec.h"
#include "env.h"
#include "record.h"
#include "rewrite.h"
#include "ring.h"
#include "sys.h"
#include "trust.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#define H __attribute__((visibility("hidden")))

H struct spx_conf spx_conf;

_Static_assert(offsetof(struct spx_area, self) == SPX_A_SELF, "self");
_Static_assert(offsetof(struct spx_area, busy) == SPX_A_BUSY, "busy");
_Static_assert(offsetof(struct spx_area, rsp) == SPX_A_RSP, "rsp");
_Static_assert(offsetof(struct spx_area, ret) == SPX_A_RET, "ret");
_Static_assert(offsetof(struct spx_area, save) == SPX_A_SAVE, "save");
_Static_assert(offsetof(struct spx_area, parent) == SPX_A_PARENT, "parent");
_Static_assert(offsetof(struct spx_area, index) == SPX_A_INDEX, "index");
_Static_assert(offsetof(struct spx_conf, areas) == SPX_C_AREAS, "areas");
_Static_assert(offsetof(struct spx_conf, used) == SPX_C_USED, "used");
_Static_assert(offsetof(struct spx_conf, fsgsbase) == SPX_C_FSGSBASE, "fsgsbase");

/* The registers rec_entry.S saved, lowest address first. */
struct regs {
	uint8_t xmm[16][16];
	uint64_t pad;
	uint64_t r9, r8, r10, rdx, rsi, rdi, rax;
};

/* ---- what a freestanding image needs ---- */

#define sys6 sp_sys6
#define sys0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static char *cat(char *p, const char *end, const char *s)
{
	while (*s && p < end - 1)
		*p++ = *s++;
	*p = '\0';
	return p;
}

static char *utoa(char *p, const char *end, unsigned long long v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n && p < end - 1)
		*p++ = tmp[--n];
	*p = '\0';
	return p;
}

static void say(const char *msg)
{
	char buf[300], path[560], *p = cat(buf, buf + sizeof(buf) - 1, "startpath: ");
	long fd = 2;

	p = cat(p, buf + sizeof(buf) - 1, msg);
	*p++ = '\n';
	if (!spx_conf.log[0] && spx_stderr_is_reply(spx_conf.target))
		return; /* a containerd shim's stderr is its answer to containerd */
	if (spx_conf.log[0]) { /* STARTPATH_LOG.<pid> */
		char *q = cat(path, path + sizeof(path), spx_conf.log);

		q = cat(q, path + sizeof(path), ".");
		utoa(q, path + sizeof(path), (unsigned long long)sys0(SYS_getpid));
		fd = sys4(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0)
			fd = 2;
	}
	sys3(SYS_write, fd, buf, p - buf);
	if (fd != 2)
		sys1(SYS_close, fd);
}

static struct spx_area *area(void)
{
	struct spx_area *a;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(a));
	return a;
}

static uint64_t now(int clk)
{
	struct timespec ts;

	sys2(SYS_clock_gettime, clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- what sysdecode.c and record.c expect from the library ---- */

H int sp_prefix_match(const char *path)
{
	const char *p = spx_conf.prefixes;

	if (!path || path[0] != '/' || !*p)
		return 0;
	while (*p) {
		size_t l = 0;

		while (p[l] && p[l] != ':')
			l++;
		if (l && strncmp(path, p, l) == 0 && (path[l] == '/' || path[l] == '\0'))
			return 1;
		p += l;
		if (*p == ':')
			p++;
	}
	return 0;
}

H unsigned sp_mount_strs(const char *source, const char *target, const char *fstype,
			 unsigned long flags, const void *data, const char *strs[6], char *up,
			 size_t uplen, uint64_t *lowerdirs)
{
	const char *opts = data;

	if ((flags & (MS_BIND | MS_MOVE | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) &&
	    !(flags & MS_REMOUNT))
		opts = NULL;
	strs[0] = source;
	strs[1] = target;
	strs[2] = fstype;
	strs[3] = opts;
	strs[4] = NULL;
	*lowerdirs = 0;
	if (fstype && strcmp(fstype, "overlay") == 0 && opts) {
		*lowerdirs = sp_overlay_lowerdirs(opts);
		sp_overlay_option(opts, "upperdir", up, uplen);
		strs[4] = up;
		return 5;
	}
	return 4;
}

/* ---- recording ---- */

static int cur_tid(struct spx_area *a)
{
	if (!a->tid)
		a->tid = (int32_t)sys0(SYS_gettid);
	return a->tid;
}

/* Pages of the ring are reserved as it fills (the library's scheme, see
 * sp_ring_grow): 1 if slot's page is reserved or could be now. */
static struct sp_record scratch;

static int reserved(struct sp_ring_hdr *h, uint32_t slot)
{
	uint32_t have = __atomic_load_n(&h->reserved, __ATOMIC_ACQUIRE);

	while (have && have <= slot) {
		uint32_t step = have < SP_RING_GROW_MAX ? have : SP_RING_GROW_MAX;
		uint32_t to = slot + 1 > have + step ? slot + 1 : have + step;

		to = (to + 7) & ~7u; /* whole pages: 8 records each */
		if (to > h->capacity)
			to = h->capacity;
		if (sys3(SYS_madvise, (char *)h + SP_HDR_SIZE + (size_t)have * SP_REC_SIZE,
			 (long)(to - have) * SP_REC_SIZE, 23 /* MADV_POPULATE_WRITE */) < 0)
			return 0;
		while (have < to && !__atomic_compare_exchange_n(&h->reserved, &have, to, 0,
								 __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
			;
	}
	return 1;
}

static struct sp_record *rec_begin(uint64_t *ticket, unsigned kind, unsigned call)
{
	struct sp_ring_hdr *h = (struct sp_ring_hdr *)spx_conf.ring;
	struct spx_area *a = area();
	struct sp_record *r;
	uint64_t t;

	if (!h)
		return NULL;
	t = __atomic_fetch_add(&h->head, 1, __ATOMIC_RELAXED);
	r = (struct sp_record *)((char *)h + SP_HDR_SIZE) + (t & (h->capacity - 1));
	if (__builtin_expect(!reserved(h, (uint32_t)(t & (h->capacity - 1))), 0)) {
		/* No room for the record's page (the filesystem is full):
		 * counted, written where nobody reads, never published. */
		__atomic_fetch_add(&h->dropped, 1, __ATOMIC_RELAXED);
		r = &scratch;
	}
	__atomic_store_n(&r->seq, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*ticket = t;
	r->t_ns = now(CLOCK_MONOTONIC);
	r->pid = a->pid ? a->pid : spx_conf.pid;
	r->tid = cur_tid(a);
	r->kind = (uint16_t)kind;
	r->call = (uint16_t)call;
	r->src = SP_SRC_RAW;
	r->flags = (uint8_t)((spx_conf.contained ? SP_RF_CONTAINED : 0) |
			     (a->pid ? SP_RF_VFORKED : 0));
	r->nstr = 0;
	r->result = 0;
	r->err = 0;
	r->callid = 0;
	r->arg[0] = r->arg[1] = r->arg[2] = 0;
	return r;
}

static void rec_commit(struct sp_record *r, uint64_t t)
{
	__atomic_store_n(&r->seq, t + 1, __ATOMIC_RELEASE);
}

static void enter(struct spx_inflight *in, unsigned call, const char *const *strs, unsigned n,
		  uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct spx_area *a = area();
	uint64_t t;
	struct sp_record *r = rec_begin(&t, SP_K_ENTER, call);

	in->on = 0;
	if (!r)
		return;
	in->on = 1;
	in->call = call;
	in->callid = ++a->callid;
	r->callid = in->callid;
	r->arg[0] = a0;
	r->arg[1] = a1;
	r->arg[2] = a2;
	if (n)
		sp_rec_put_strs(r, strs, n);
	rec_commit(r, t);
}

static void leave(struct spx_inflight *in, long res, uint64_t a0)
{
	uint64_t t;
	struct sp_record *r;

	if (!in->on)
		return;
	in->on = 0;
	r = rec_begin(&t, SP_K_EXIT, in->call);
	if (!r)
		return;
	r->callid = in->callid;
	r->result = res < 0 && res > -4096 ? -1 : res;
	r->err = res < 0 && res > -4096 ? (int32_t)-res : 0;
	r->arg[0] = a0;
	rec_commit(r, t);
}

static void event(unsigned kind, long result)
{
	uint64_t t;
	struct sp_record *r = rec_begin(&t, kind, SP_C_NONE);

	if (!r)
		return;
	r->result = result;
	rec_commit(r, t);
}

static void hdr_flags(uint64_t set, uint64_t clear)
{
	struct sp_ring_hdr *h = (struct sp_ring_hdr *)spx_conf.ring;

	if (!h)
		return;
	if (set)
		__atomic_fetch_or(&h->flags, set, __ATOMIC_RELEASE);
	if (clear)
		__atomic_fetch_and(&h->flags, ~clear, __ATOMIC_RELEASE);
}

/* A process of its own (a clone without CLONE_VM): its own ring, as
 * libstartpath.so's fork child gets.  Fails open: no ring, no records. */
static void new_process(void)
{
	struct sp_ring_hdr *old = (struct sp_ring_hdr *)spx_conf.ring, *h;
	char path[80], *p, *end = path + sizeof(path), self[32];
	uint64_t t_load = now(CLOCK_MONOTONIC), rid = 0;
	struct sp_trust_id id;
	uint32_t first;
	long hp, fd, n, dfd;
	void *mem;

	spx_conf.pid = (int32_t)sys0(SYS_getpid);
	if (!old || spx_conf.contained) {
		event(SP_K_FORK, 0); /* in the parent's ring, as the library does */
		return;
	}
	n = sys4(SYS_readlinkat, AT_FDCWD, "/proc/self", self, sizeof(self) - 1);
	hp = spx_conf.pid;
	if (n > 0) {
		hp = 0;
		for (long i = 0; i < n && self[i] >= '0' && self[i] <= '9'; i++)
			hp = hp * 10 + (self[i] - '0');
	}
	p = utoa(path, end, (unsigned long long)hp);
	p = cat(p, end, "-");
	p = utoa(p, end, t_load);
	cat(p, end, ".ring");
	spx_conf.ring = 0;
	/* The directory the launcher checked, checked again. */
	id.dev = spx_conf.dir_dev;
	id.ino = spx_conf.dir_ino;
	dfd = sp_trust_dir(AT_FDCWD, spx_conf.dir, 0, &id);
	if (dfd < 0)
		return;
	fd = sys4(SYS_openat, dfd, path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		sys1(SYS_close, dfd);
		return;
	}
	/* Sparse; the header and the first records reserved now, the rest
	 * as the ring fills (see reserved()); before Linux 5.14, all now. */
	mem = (void *)sys2(SYS_ftruncate, fd, spx_conf.ring_size);
	if (!mem)
		mem = (void *)sys6(SYS_mmap, 0, (long)spx_conf.ring_size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0);
	if ((unsigned long)mem > -4096UL) {
		sys1(SYS_close, fd);
		sys3(SYS_unlinkat, dfd, path, 0);
		sys1(SYS_close, dfd);
		return;
	}
	first = old->capacity < SP_RING_FIRST_RECORDS ? old->capacity : SP_RING_FIRST_RECORDS;
	n = sys3(SYS_madvise, mem, (long)(SP_HDR_SIZE + first * SP_REC_SIZE), 23);
	if (n == -EINVAL) {
		first = 0; /* all of it */
		n = sys4(SYS_fallocate, fd, 0, 0, spx_conf.ring_size);
	}
	sys1(SYS_close, fd);
	if (n < 0) {
		sys3(SYS_munmap, mem, spx_conf.ring_size, 0);
		sys3(SYS_unlinkat, dfd, path, 0);
		sys1(SYS_close, dfd);
		return;
	}
	sys1(SYS_close, dfd);
	h = mem;
	memcpy(h, old, offsetof(struct sp_ring_hdr, head));
	h->reserved = first;
	sys3(SYS_getrandom, &rid, sizeof(rid), 1);
	h->ring_id = rid ? rid : t_load;
	h->parent_ring_id = old->ring_id;
	h->pid = spx_conf.pid;
	h->host_pid = (int32_t)hp;
	h->ppid = (int32_t)sys0(SYS_getppid);
	h->t_load_ns = t_load;
	h->t_load_real_ns = now(CLOCK_REALTIME);
	h->head = 0;
	h->flags = 0;
	sys3(SYS_munmap, old, spx_conf.ring_size, 0);
	spx_conf.ring = (uint64_t)mem;
	event(SP_K_FORK, 0);
}

/* ---- exec ---- */

/* Open what an exec would run; if it is a static x86-64 ELF, return the fd
 * (not close-on-exec: the launcher takes it over), else -1. */
static long static_target(struct spx_area *a, long dirfd, const char *path, int at_flags)
{
	char *buf = (char *)(a + 1);
	char fdpath[40];
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)buf;
	long fd, n;

	if (!spx_conf.exe_set && path && strcmp(path, "/proc/self/exe") == 0)
		path = spx_conf.target; /* the launcher's, to the kernel */
	if ((at_flags & AT_EMPTY_PATH) && path && !*path) {
		char *p = cat(fdpath, fdpath + sizeof(fdpath), "/proc/self/fd/");

		utoa(p, fdpath + sizeof(fdpath), (unsigned long long)dirfd);
		path = fdpath;
		dirfd = AT_FDCWD;
	}
	if (!path)
		return -1;
	fd = sys4(SYS_openat, dirfd, path, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	n = sys4(SYS_pread64, fd, buf, 4096, 0);
	if (n < (long)sizeof(*e) || memcmp(e->e_ident, ELFMAG, SELFMAG) != 0 ||
	    e->e_ident[EI_CLASS] != ELFCLASS64 || e->e_machine != EM_X86_64 ||
	    (e->e_type != ET_EXEC && e->e_type != ET_DYN) || e->e_phentsize != sizeof(Elf64_Phdr) ||
	    e->e_phoff + (uint64_t)e->e_phnum * sizeof(Elf64_Phdr) > (uint64_t)n)
		goto no;
	for (int i = 0; i < e->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(buf + e->e_phoff) + i;

		if (ph->p_type == PT_INTERP)
			goto no;
	}
	/* setuid, setgid or file capabilities: the kernel's exec gives them,
	 * the launcher would not.  Under a debugger (TracerPid), its inferior
	 * must be the program itself.  Such a program runs untraced. */
	{
		struct stat st;
		long sfd, n = 0;
		const char *t;

		if (sys2(SYS_fstat, fd, &st) < 0 || (st.st_mode & (S_ISUID | S_ISGID)) ||
		    sys4(SYS_fgetxattr, fd, "security.capability", 0, 0) > 0)
			goto no;
		sfd = sys4(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
		if (sfd >= 0) {
			n = sys3(SYS_read, sfd, buf, 1023);
			sys1(SYS_close, sfd);
		}
		if (n > 0) {
			buf[n] = '\0';
			for (t = buf; *t; t++)
				if (strncmp(t, "TracerPid:", 10) == 0) {
					for (t += 10; *t == ' ' || *t == '\t'; t++)
						;
					if (*t >= '1' && *t <= '9')
						goto no;
					break;
				}
		}
	}
	return fd;
no:
	sys1(SYS_close, fd);
	return -1;
}

static int do_exec(struct regs *r, struct spx_area *a)
{
	struct spx_inflight *in = &a->cur;
	int at = r->rax == SYS_execveat;
	const char *path = (const char *)(at ? r->rsi : r->rdi);
	char *const *argv = (char *const *)(at ? r->rdx : r->rsi);
	char *const *envp = (char *const *)(at ? r->r10 : r->rdx);
	char **out = (char **)((char *)(a + 1) + 4096);
	char *fdstr = (char *)(out + SPX_EXEC_PTRS);
	size_t n = 0, argc = 0;
	const char *strs[6];
	long fd = -1;
	int added = 0;

	strs[0] = path;
	for (int i = 1; i < 6; i++)
		strs[i] = "";
	while (argv && argv[argc] && argc < 100000)
		argc++;
	for (unsigned i = 0; i < 4 && i < argc; i++)
		strs[1 + i] = argv[i];
	if (argc > 4)
		strs[5] = argv[argc - 1];
	in->exec_fd = -1;
	if (!spx_conf.contained && spx_conf.launcher[0] && argc + 8 < SPX_EXEC_PTRS / 2)
		fd = static_target(a, at ? (long)r->rdi : AT_FDCWD, path, at ? (int)r->r8 : 0);
	/* The environment: a child of a traced process carries the settings
	 * the launcher started with (and no others); a container's process
	 * gets none of them. */
	{
		char **env = out + (fd >= 0 ? argc + 8 : 0);
		size_t room = SPX_EXEC_PTRS - (size_t)(env - out);
		const char *ours[SPX_CARRY_MAX + 1];
		int k = 0, changed;

		for (; k < spx_conf.ncarry && k < SPX_CARRY_MAX; k++)
			ours[k] = spx_conf.carry[k];
		ours[k] = NULL;
		/* (a + 1)'s first page held static_target's header: free now. */
		changed = spx_conf.contained
				  ? sp_env_strip(envp, ours, NULL, env, room, (char *)(a + 1), 4096)
				  : sp_env_merge(envp, ours, env, room, (char *)(a + 1), 4096);
		if (changed > 0) {
			added = spx_conf.contained ? 0 : changed;
			if (at)
				r->r10 = (uint64_t)env;
			else
				r->rdx = (uint64_t)env;
		}
	}
	if (fd >= 0) {
		/* startpath-exec --fd N --argv0 ARGV0 -- TARGET ARGS... */
		utoa(fdstr, fdstr + 24, (unsigned long long)fd);
		out[n++] = spx_conf.launcher;
		out[n++] = "--fd";
		out[n++] = fdstr;
		out[n++] = "--argv0";
		out[n++] = argc ? argv[0] : (char *)"";
		out[n++] = "--";
		out[n++] = (char *)(path && *path && strcmp(path, "/proc/self/exe") != 0 ? path
										 : spx_conf.target);
		for (size_t i = 1; i < argc; i++)
			out[n++] = argv[i];
		out[n] = NULL;
		in->exec_fd = (int)fd;
		r->rdx = at ? r->r10 : r->rdx;
		r->rax = SYS_execve;
		r->rdi = (uint64_t)spx_conf.launcher;
		r->rsi = (uint64_t)out;
	}
	enter(in, at ? SP_C_EXECVEAT : SP_C_EXECVE, strs, 6, argc, (uint64_t)added,
	      at ? r->rdi : 0);
	hdr_flags(SP_HF_EXECED, 0);
	return SPX_ACT_NORMAL;
}

/* ---- the hooks ---- */

static int is_clone(unsigned call)
{
	return call == SP_C_CLONE || call == SP_C_CLONE3 || call == SP_C_FORK ||
	       call == SP_C_VFORK;
}

H int spx_pre(struct regs *r)
{
	const uint64_t a6[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	struct spx_area *a = area();
	struct spx_inflight *in = &a->cur;
	struct sp_sysrec d;
	long nr = (long)r->rax;
	int act = SPX_ACT_NORMAL;

	in->on = 0;
	in->nr = nr;
	if (spx_conf.debug && a->tid && sys0(SYS_gettid) != a->tid && !spx_conf.said) {
		spx_conf.said = 1;
		say("two threads share one recorder area (a clone was missed)");
	}
	if (nr == SYS_exit) /* a thread ends: its area goes back */
		return a->index ? SPX_ACT_PASS | 4 : SPX_ACT_PASS;
	if (nr == SYS_execve || nr == SYS_execveat)
		return do_exec(r, a);
	if (nr == SYS_exit_group) {
		struct sp_ring_hdr *h = (struct sp_ring_hdr *)spx_conf.ring;

		event(SP_K_PEXIT, (long)(int)r->rdi);
		if (h) {
			h->exit_status = (int64_t)(int)r->rdi;
			hdr_flags(SP_HF_EXITED, 0);
		}
		return SPX_ACT_PASS;
	}
	if (sp_sys_decode(nr, a6, &d) < 0)
		return SPX_ACT_PASS;
	if (is_clone(d.call) && ((d.x[0] & CLONE_VM) || d.x[1])) {
		/* The child leaves through spx_child_entry; this thread's post
		 * finds its call in a->vfork. */
		in = &a->vfork;
		in->nr = nr;
		act = SPX_ACT_CLONEVM;
	}
	in->flags = d.x[0];
	enter(in, d.call, d.strs, d.nstr, d.x[0], d.x[1], d.x[2]);
	if (!in->on)
		return SPX_ACT_PASS;
	if (act == SPX_ACT_CLONEVM) {
		in->tid = cur_tid(a);
		a->clonevm_pending = 1;
	}
	return act;
}

H void spx_post(struct regs *r)
{
	struct spx_area *a = area();
	struct spx_inflight *in = &a->cur;
	long res = (long)r->rax;

	if (a->clonevm_pending) {
		/* The child went through spx_child_entry: this is the parent. */
		a->clonevm_pending = 0;
		in = &a->vfork;
		if (a->vfork_child && (in->flags & CLONE_VFORK)) {
			/* The vfork child has exec'd or exited: its area is free. */
			uint64_t i = a->vfork_child - 1;

			__atomic_fetch_and(&spx_conf.used[i / 64], ~(1ULL << (i % 64)),
					   __ATOMIC_RELEASE);
		}
		a->vfork_child = 0;
	}
	if (!in->on)
		return;
	if (res == 0 && is_clone(in->call)) {
		/* A child with a copy of our memory (fork-like clone). */
		in->on = 0;
		new_process();
		return;
	}
	if (res == 0 && (in->call == SP_C_PIVOT_ROOT || in->call == SP_C_CHROOT))
		spx_conf.contained = 1;
	/* Joining a mount namespace by any fd: a mount ns fd (nstype 0 or
	 * CLONE_NEWNS) or a pidfd with CLONE_NEWNS among the flags. */
	if (res == 0 && in->call == SP_C_SETNS && ((r->rsi & CLONE_NEWNS) || r->rsi == 0))
		spx_conf.contained = 1;
	if (in->call == SP_C_EXECVE || in->call == SP_C_EXECVEAT) {
		hdr_flags(0, SP_HF_EXECED);
		if (in->exec_fd >= 0)
			sys1(SYS_close, in->exec_fd);
		in->exec_fd = -1;
	}
	leave(in, res, res > 0 && is_clone(in->call) ? (uint64_t)res : 0);
}

/* A child that shares memory or has a new stack, on its new area. */
H void spx_child(struct spx_area *a)
{
	struct spx_area *p = (struct spx_area *)a->parent;
	uint64_t flags = p ? p->vfork.flags : 0;

	a->index = (a->self - spx_conf.areas) >> SPX_AREA_SHIFT;
	a->tid = (int32_t)sys0(SYS_gettid);
	a->callid = 0;
	a->clonevm_pending = 0;
	a->vfork_child = 0;
	a->cur.on = 0;
	a->vfork.on = 0;
	a->pid = 0;
	if ((flags & CLONE_VM) && !(flags & CLONE_THREAD))
		a->pid = (int32_t)sys0(SYS_getpid); /* a process sharing our memory */
	if (p && (flags & CLONE_VFORK))
		p->vfork_child = a->index + 1; /* the parent waits: it frees it */
	if (!(flags & CLONE_VM)) {
		/* A process of its own: its copy of the pool is its own too. */
		new_process();
	}
}

/* The launcher's last step (see struct spx_start in rec.h).  It runs here,
 * in anonymous memory, because the kernel changes /proc/self/exe only once
 * nothing of the old executable is mapped: the launcher's code is gone
 * after the first loop.  Nothing of the launcher may be touched after it. */
H void __attribute__((noreturn)) spx_start(struct spx_start *s)
{
	for (int i = 0; i < s->nunmap; i++)
		sys2(SYS_munmap, s->unmap[i][0], s->unmap[i][1]);
	if (s->exe_fd >= 0) {
		long r = sys6(SYS_prctl, 35 /* PR_SET_MM */, 14 /* PR_SET_MM_MAP */, (long)&s->map,
			      sizeof(s->map), 0, 0);

		spx_conf.exe_set = r == 0;
		spx_conf.exe_err = r;
		if (r != 0) {
			/* Without the capability the rest (the program's
			 * /proc/self/cmdline) can still be set. */
			s->map.exe_fd = (uint32_t)-1;
			sys6(SYS_prctl, 35, 14, (long)&s->map, sizeof(s->map), 0, 0);
		}
		if (r != 0 && spx_conf.debug >= 1)
			say("/proc/self/exe names the launcher (PR_SET_MM_MAP refused: needs "
			    "CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE); execs of it are mapped back");
		sys1(SYS_close, s->exe_fd);
	}
	/* rdx: no rtld_fini for glibc's _start; fixed registers so that the
	 * clearing cannot hit the entry address. */
	__asm__ volatile("mov %%rsi, %%rsp\n\t"
			 "xor %%edx, %%edx\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "jmp *%%rdi\n"
			 :
			 : "S"(s->sp), "D"(s->entry)
			 : "memory");
	__builtin_unreachable();
}
