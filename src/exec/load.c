/* SPDX-License-Identifier: Apache-2.0 */
/*
 * load.c - startpath-exec's loader, free of libc (see load.h).
 *
 * Why free of libc: on the machines this was measured on, a static glibc
 * program spends about a millisecond in its start-up alone (cpuid, which a
 * hypervisor traps, to size the caches), which is most of what a launched
 * exec costs.  So the launcher's entry point is spx_entry, here: when the
 * program's patch plan is cached, it loads the program and jumps into it
 * before libc is ever initialised.  Anything else (no plan yet, a usage
 * question, a failure to report) goes on to glibc's _start and main(),
 * which uses the same functions.
 *
 * Built with -ffreestanding -fno-builtin -fno-stack-protector: no libc
 * call, no TLS, no %fs (not set up yet), no implicit memcpy (the Makefile
 * checks the object's undefined symbols).
 */
#include "load.h"
#include "rewrite.h"
#include "ring.h"
#include "sys.h"
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

extern const unsigned char spx_blob[], spx_blob_end[];

/* ---- what a freestanding program needs ---- */

#define sys6 sp_sys6
#define sys0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define FAILED(r) ((unsigned long)(r) > -4096UL)

static void copy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
}

static void zero(void *d, size_t n)
{
	unsigned char *dp = d;

	while (n--)
		*dp++ = 0;
}

static size_t len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* Append s at p (never past end - 1, NUL kept); returns the new end. */
static char *cat(char *p, char *end, const char *s)
{
	while (*s && p < end - 1)
		*p++ = *s++;
	*p = '\0';
	return p;
}

static char *utoa(char *p, char *end, unsigned long long v, int base)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % (unsigned)base];
		v /= (unsigned)base;
	} while (v);
	while (n && p < end - 1)
		*p++ = tmp[--n];
	*p = '\0';
	return p;
}

static unsigned long long atou(const char *s, int *ok)
{
	unsigned long long v = 0;

	*ok = *s != '\0';
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 1000000000000ULL) {
			*ok = 0;
			return 0;
		}
		v = v * 10 + (unsigned)(*s - '0');
	}
	return v;
}

static uint64_t now(int clk)
{
	struct timespec ts;

	sys2(SYS_clock_gettime, clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t auxval(const uint64_t *auxv, uint64_t type)
{
	for (; auxv && auxv[0] != AT_NULL; auxv += 2)
		if (auxv[0] == type)
			return auxv[1];
	return 0;
}

const char *spx_env(char *const *envp, const char *name)
{
	size_t n = len(name);

	for (; envp && *envp; envp++) {
		const char *e = *envp;
		size_t i = 0;

		while (i < n && e[i] == name[i])
			i++;
		if (i == n && e[n] == '=')
			return e + n + 1;
	}
	return NULL;
}

void spx_line(char *const *envp, const char *a, const char *b, const char *c, const char *d)
{
	char buf[1200], path[600], *p = buf, *end = buf + sizeof(buf) - 1;
	const char *log = spx_env(envp, SP_ENV_LOG);
	long fd = 2;

	p = cat(p, end, "startpath: ");
	p = cat(p, end, a ? a : "");
	p = cat(p, end, b ? b : "");
	p = cat(p, end, c ? c : "");
	p = cat(p, end, d ? d : "");
	*p++ = '\n';
	if (!(log && *log) && spx_stderr_is_reply(a))
		return; /* a: the program's path (a containerd shim's stderr is its answer) */
	if (log && *log) {
		char *q = cat(path, path + sizeof(path), log);

		q = cat(q, path + sizeof(path), ".");
		utoa(q, path + sizeof(path), (unsigned long long)sys0(SYS_getpid), 10);
		fd = sys4(SYS_openat, AT_FDCWD, path,
			  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
		if (fd >= 0) {
			/* Ours, and a plain file: never a FIFO or another's file. */
			struct stat st;

			if (sys2(SYS_fstat, fd, &st) < 0 || !S_ISREG(st.st_mode) ||
			    st.st_uid != (unsigned)sys0(SYS_geteuid)) {
				sys1(SYS_close, fd);
				fd = -1;
			}
		}
		if (fd < 0)
			fd = 2;
	}
	sys3(SYS_write, fd, buf, p - buf);
	if (fd != 2)
		sys1(SYS_close, fd);
}

static int fail(struct spx_load *L, const char *why, const char *ctx, long r)
{
	L->err = why;
	L->err_ctx = ctx;
	L->err_no = r < 0 && r > -4096 ? -r : 0;
	L->err_what = sp_trust_what(r);
	return -1;
}

static int prot_of(uint32_t f)
{
	return (f & PF_R ? PROT_READ : 0) | (f & PF_W ? PROT_WRITE : 0) | (f & PF_X ? PROT_EXEC : 0);
}

/* ---- the program's headers and build id ---- */

/* A "GNU" build id in hex, or Go's own build id hashed ("go-..."). */
static void build_id_of(const uint8_t *q, const uint8_t *end, char *out, size_t outlen)
{
	while (q + sizeof(Elf64_Nhdr) <= end) {
		const Elf64_Nhdr *n = (const Elf64_Nhdr *)q;
		const uint8_t *name = q + sizeof(*n);
		const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);

		if (desc + n->n_descsz > end)
			return;
		if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && name[0] == 'G' &&
		    name[1] == 'N' && name[2] == 'U' && name[3] == 0 && n->n_descsz <= 32) {
			char *p = out;

			for (unsigned k = 0; k < n->n_descsz; k++) {
				*p++ = "0123456789abcdef"[desc[k] >> 4];
				*p++ = "0123456789abcdef"[desc[k] & 15];
			}
			*p = '\0';
			return;
		}
		if (n->n_type == 4 && (n->n_namesz == 3 || n->n_namesz == 4) && name[0] == 'G' &&
		    name[1] == 'o' && name[2] == 0) {
			uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;
			char *p;

			for (unsigned k = 0; k < n->n_descsz; k++) {
				h1 = (h1 ^ desc[k]) * 0x100000001b3ULL;
				h2 = (h2 ^ desc[k]) * 0x100000001b3ULL + k;
			}
			p = cat(out, out + outlen, "go-");
			for (int s = 60; s >= 0; s -= 4)
				*p++ = "0123456789abcdef"[(h1 >> s) & 15];
			for (int s = 60; s >= 0; s -= 4)
				*p++ = "0123456789abcdef"[(h2 >> s) & 15];
			*p = '\0';
			return;
		}
		q = desc + ((n->n_descsz + 3) & ~3u);
	}
}

static void out_dir(struct spx_load *L)
{
	const char *d = spx_env(L->envp, SP_ENV_DIR), *x;
	char *end = L->dir + sizeof(L->dir);

	if (d && *d) {
		char *p = L->dir;

		if (d[0] != '/' && sys2(SYS_getcwd, L->dir, sizeof(L->dir)) > 0) {
			p = L->dir + len(L->dir);
			p = cat(p, end, "/");
		}
		cat(p, end, d);
	} else if (sys0(SYS_geteuid) == 0) {
		cat(L->dir, end, SP_DEFAULT_DIR_ROOT);
	} else if ((x = spx_env(L->envp, "XDG_RUNTIME_DIR")) && x[0] == '/') {
		cat(cat(L->dir, end, x), end, "/startpath");
	} else {
		utoa(cat(L->dir, end, "/tmp/startpath-"), end, (unsigned long long)sys0(SYS_geteuid), 10);
	}
}

int spx_prepare(struct spx_load *L)
{
	struct image *im = &L->im;
	struct stat a, b;
	long n;

	zero(im, sizeof(*im));
	if (sys4(SYS_pread64, L->fd, &im->eh, sizeof(im->eh), 0) != (long)sizeof(im->eh) ||
	    im->eh.e_ident[0] != ELFMAG0 || im->eh.e_ident[1] != ELFMAG1 ||
	    im->eh.e_ident[2] != ELFMAG2 || im->eh.e_ident[3] != ELFMAG3)
		return 0;
	if (im->eh.e_ident[EI_CLASS] != ELFCLASS64 || im->eh.e_machine != EM_X86_64 ||
	    (im->eh.e_type != ET_EXEC && im->eh.e_type != ET_DYN) ||
	    im->eh.e_phentsize != sizeof(Elf64_Phdr) || im->eh.e_phnum > 64 || !im->eh.e_phnum)
		return 0;
	n = (long)(im->eh.e_phnum * sizeof(Elf64_Phdr));
	if (sys4(SYS_pread64, L->fd, im->ph, n, im->eh.e_phoff) != n)
		return -1;
	for (int i = 0; i < im->eh.e_phnum; i++)
		if (im->ph[i].p_type == PT_INTERP)
			return 0; /* dynamic: LD_PRELOAD covers it */
	for (int i = 0; i < im->eh.e_phnum && !im->build_id[0]; i++) {
		uint8_t notes[4096];
		const Elf64_Phdr *p = &im->ph[i];
		long got;

		if (p->p_type != PT_NOTE || !p->p_filesz)
			continue;
		got = sys4(SYS_pread64, L->fd, notes,
			   p->p_filesz < sizeof(notes) ? p->p_filesz : sizeof(notes), p->p_offset);
		if (got > 0)
			build_id_of(notes, notes + got, im->build_id, sizeof(im->build_id));
	}

	/* Its name as /proc/self/exe would give it; a copy runc made of itself
	 * (a memfd, a detached bind mount) has none: the path it was exec'd as
	 * names it. */
	utoa(cat(L->fdfile, L->fdfile + sizeof(L->fdfile), "/proc/self/fd/"),
	     L->fdfile + sizeof(L->fdfile), (unsigned long long)L->fd, 10);
	n = sys3(SYS_readlink, L->fdfile, L->execfn, sizeof(L->execfn) - 1);
	L->execfn[n > 0 ? n : 0] = '\0';
	if (n <= 0 || L->execfn[0] != '/' || sys4(SYS_newfstatat, AT_FDCWD, L->execfn, &a, 0) < 0 ||
	    sys4(SYS_newfstatat, L->fd, "", &b, AT_EMPTY_PATH) < 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev)
		cat(L->execfn, L->execfn + sizeof(L->execfn), L->path);
	n = sys3(SYS_readlink, "/proc/self/exe", L->launcher, sizeof(L->launcher) - 1);
	L->launcher[n > 0 ? n : 0] = '\0';
	out_dir(L);
	return 1;
}

/* ---- the ring ---- */

static int host_pid(void)
{
	char buf[32];
	long n = sys3(SYS_readlink, "/proc/self", buf, sizeof(buf) - 1);
	int ok;
	unsigned long long v;

	if (n <= 0)
		return (int)sys0(SYS_getpid);
	buf[n] = '\0';
	v = atou(buf, &ok);
	return ok && v ? (int)v : (int)sys0(SYS_getpid);
}

static void *make_ring(struct spx_load *L, size_t *size)
{
	const char *want = spx_env(L->envp, SP_ENV_RING);
	uint32_t cap = SP_RING_DEFAULT_RECORDS;
	struct sp_ring ring;
	struct sp_ring_hdr *h;
	char path[700], *p, *end = path + sizeof(path);
	uint64_t t = now(CLOCK_MONOTONIC), id = 0;
	int hp = host_pid(), ok;
	size_t used = 0;
	uint32_t first;
	long fd, r, dfd;
	void *mem;

	if (want && *want) {
		unsigned long long v = atou(want, &ok);

		if (ok && v >= SP_RING_MIN_RECORDS && v <= SP_RING_MAX_RECORDS)
			cap = sp_ring_capacity(v);
	}
	/* Only a directory of this euid's that nobody else can write. */
	dfd = sp_trust_dir(AT_FDCWD, (const char *)L->dir, 1, &L->dirid);
	if (dfd < 0)
		return fail(L, "cannot create a ring in ", L->dir, dfd), NULL;
	p = path;
	p = utoa(p, end, (unsigned long long)hp, 10);
	p = cat(p, end, "-");
	p = utoa(p, end, t, 10);
	cat(p, end, ".ring");
	*size = sp_ring_bytes(cap);
	fd = sys4(SYS_openat, dfd, path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		sys1(SYS_close, dfd);
		return fail(L, "cannot create a ring in ", L->dir, fd), NULL;
	}
	/* A store into an unbacked page of a full filesystem through the
	 * mapping would raise SIGBUS in the program: the file is sparse, the
	 * header and the first records are reserved now (MADV_POPULATE_WRITE
	 * reports a full filesystem as an error), the recorder reserves the
	 * rest as the ring fills (as the library does); before Linux 5.14,
	 * all of it now. */
	r = sys2(SYS_ftruncate, fd, (long)*size);
	mem = r < 0 ? (void *)r : (void *)sys6(SYS_mmap, 0, (long)*size, PROT_READ | PROT_WRITE,
					      MAP_SHARED, fd, 0);
	if (FAILED(mem)) {
		sys1(SYS_close, fd);
		sys3(SYS_unlinkat, dfd, path, 0);
		sys1(SYS_close, dfd);
		return fail(L, "cannot create a ring in ", L->dir, (long)mem), NULL;
	}
	sys3(SYS_madvise, mem, *size, MADV_RANDOM);
	first = cap < SP_RING_FIRST_RECORDS ? cap : SP_RING_FIRST_RECORDS;
	r = sys3(SYS_madvise, mem, (long)sp_ring_bytes(first), 23 /* MADV_POPULATE_WRITE */);
	if (r == -EINVAL) {
		first = 0; /* all of it */
		r = sys4(SYS_fallocate, fd, 0, 0, (long)*size);
	}
	sys1(SYS_close, fd);
	if (r < 0) {
		sys2(SYS_munmap, mem, (long)*size);
		sys3(SYS_unlinkat, dfd, path, 0);
		sys1(SYS_close, dfd);
		return fail(L, "cannot create a ring in ", L->dir, r == -EFAULT ? -ENOSPC : r), NULL;
	}
	sys1(SYS_close, dfd);
	sp_ring_init(&ring, mem, cap);
	h = ring.hdr;
	h->reserved = first;
	if (sys3(SYS_getrandom, &id, sizeof(id), 1) != sizeof(id) || !id)
		id = t ^ ((uint64_t)hp << 40);
	h->ring_id = id;
	h->pid = (int32_t)sys0(SYS_getpid);
	h->host_pid = hp;
	h->ppid = (int32_t)sys0(SYS_getppid);
	h->t_load_ns = t;
	h->t_load_real_ns = now(CLOCK_REALTIME);
	cat(h->exe, h->exe + sizeof(h->exe), L->execfn);
	for (int i = 0; L->argv[i]; i++) {
		const char *s = i == 0 && L->argv0 ? L->argv0 : L->argv[i];
		size_t l = len(s);

		if (used + l + 1 > sizeof(h->args))
			break;
		copy(h->args + used, s, l + 1);
		used += l + 1;
		h->argc++;
	}
	return mem;
}

/* ---- the program's image ---- */

static int map_image(struct spx_load *L)
{
	struct image *im = &L->im;
	const uint64_t mask = 4095;
	long res;

	im->lo = UINT64_MAX;
	im->hi = 0;
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];

		if (p->p_type != PT_LOAD)
			continue;
		if ((p->p_vaddr & mask) != (p->p_offset & mask))
			return fail(L, "misaligned segments in ", L->path, 0);
		if ((p->p_vaddr & ~mask) < im->lo)
			im->lo = p->p_vaddr & ~mask;
		if (((p->p_vaddr + p->p_memsz + mask) & ~mask) > im->hi)
			im->hi = (p->p_vaddr + p->p_memsz + mask) & ~mask;
	}
	if (im->hi <= im->lo)
		return fail(L, "no segments in ", L->path, 0);
	if (im->eh.e_type == ET_EXEC) {
		res = sys6(SYS_mmap, (long)im->lo, (long)(im->hi - im->lo), PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (res != (long)im->lo)
			return fail(L, "the launcher's own addresses are in the way of ", L->path,
				    FAILED(res) ? res : -EEXIST);
		im->base = 0;
	} else {
		res = sys6(SYS_mmap, 0, (long)(im->hi - im->lo), PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (FAILED(res))
			return fail(L, "no room to map ", L->path, res);
		im->base = (uint64_t)res - im->lo;
	}
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];
		uint64_t start, fend, mend;
		int prot = prot_of(p->p_flags);

		if (p->p_type != PT_LOAD)
			continue;
		start = im->base + (p->p_vaddr & ~mask);
		fend = im->base + p->p_vaddr + p->p_filesz;
		mend = im->base + p->p_vaddr + p->p_memsz;
		/* Text is mapped writable until spx_go: the patches need no
		 * mprotect pair each. */
		if (p->p_filesz) {
			res = sys6(SYS_mmap, (long)start, (long)(fend - start),
				   prot | (p->p_memsz > p->p_filesz || (p->p_flags & PF_X) ? PROT_WRITE : 0),
				   MAP_PRIVATE | MAP_FIXED, L->fd, (long)(p->p_offset & ~mask));
			if (FAILED(res))
				return fail(L, "cannot map ", L->path, res);
		}
		if (p->p_memsz > p->p_filesz) {
			uint64_t zpage = (fend + mask) & ~mask;

			if (p->p_filesz && (fend & mask))
				zero((void *)fend, zpage - fend);
			if (!p->p_filesz)
				zpage = start;
			if (mend > zpage) {
				res = sys6(SYS_mmap, (long)zpage, (long)(mend - zpage), prot,
					   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
				if (FAILED(res))
					return fail(L, "cannot map ", L->path, res);
			}
			if (p->p_filesz && !(prot & PROT_WRITE))
				sys3(SYS_mprotect, start, fend - start, prot);
		}
		if (p->p_flags & PF_X) {
			uint64_t lo = im->base + p->p_vaddr, hi = lo + p->p_memsz;

			if (!im->text_lo || lo < im->text_lo)
				im->text_lo = lo;
			if (hi > im->text_hi)
				im->text_hi = hi;
		}
		if (!im->phdr && im->eh.e_phoff >= p->p_offset &&
		    im->eh.e_phoff < p->p_offset + p->p_filesz)
			im->phdr = im->base + p->p_vaddr + (im->eh.e_phoff - p->p_offset);
	}
	for (int i = 0; i < im->eh.e_phnum; i++)
		if (im->ph[i].p_type == PT_PHDR)
			im->phdr = im->base + im->ph[i].p_vaddr;
	return im->phdr ? 0 : fail(L, "no program headers in the image of ", L->path, 0);
}

/* ---- the recorder ---- */

/* Copy the embedded recorder image into fresh memory and relocate it. */
static uint64_t load_recorder(void)
{
	const unsigned char *f = spx_blob;
	size_t fsize = (size_t)(spx_blob_end - spx_blob);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
	const Elf64_Phdr *ph;
	const Elf64_Shdr *sh;
	uint64_t span = 0;
	long mem;

	if (fsize < sizeof(*eh) || eh->e_ident[0] != ELFMAG0 || eh->e_ident[1] != ELFMAG1)
		return 0;
	ph = (const Elf64_Phdr *)(f + eh->e_phoff);
	sh = (const Elf64_Shdr *)(f + eh->e_shoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr + ph[i].p_memsz > span)
			span = ph[i].p_vaddr + ph[i].p_memsz;
	span = (span + 4095) & ~4095ULL;
	mem = sys6(SYS_mmap, 0, (long)span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (FAILED(mem))
		return 0;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			copy((uint8_t *)mem + ph[i].p_vaddr, f + ph[i].p_offset, ph[i].p_filesz);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_RELA)
			continue;
		for (size_t k = 0; k < sh[i].sh_size / sizeof(Elf64_Rela); k++) {
			const Elf64_Rela *r = (const Elf64_Rela *)(f + sh[i].sh_offset) + k;

			if (ELF64_R_TYPE(r->r_info) != R_X86_64_RELATIVE || r->r_offset + 8 > span) {
				sys2(SYS_munmap, mem, span);
				return 0;
			}
			*(uint64_t *)((uint8_t *)mem + r->r_offset) = (uint64_t)mem + (uint64_t)r->r_addend;
		}
	}
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			sys3(SYS_mprotect, (uint8_t *)mem + (ph[i].p_vaddr & ~4095ULL),
			     ((ph[i].p_vaddr + ph[i].p_memsz + 4095) & ~4095ULL) - (ph[i].p_vaddr & ~4095ULL),
			     prot_of(ph[i].p_flags));
	return (uint64_t)mem;
}

static const int interest[] = {
	SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_clone, SYS_clone3,
	SYS_fork, SYS_vfork, SYS_execve, SYS_execveat, SYS_unshare, SYS_setns,
	SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_move_mount, SYS_open_tree,
	SYS_mount_setattr, SYS_mkdir, SYS_mkdirat, SYS_rename, SYS_renameat,
	SYS_renameat2, SYS_exit_group, SYS_exit,
};

int spx_load(struct spx_load *L)
{
	struct spx_conf *conf;
	struct spx_area *a0, *a1;
	const char *pre = spx_env(L->envp, SP_ENV_PREFIXES), *log = spx_env(L->envp, SP_ENV_LOG);
	uint64_t *tab;
	size_t ring_size;
	void *ring;
	long areas;

	ring = make_ring(L, &ring_size);
	if (!ring)
		return -1;
	if (map_image(L) < 0)
		return -1;
	L->rec = load_recorder();
	if (!L->rec)
		return fail(L, "cannot load the recorder into ", L->path, 0);
	tab = (uint64_t *)L->rec;
	conf = (struct spx_conf *)(L->rec + tab[SPX_T_CONF / 8]);
	L->conf = conf;
	zero(conf, sizeof(*conf));
	conf->magic = SPX_MAGIC;
	for (size_t k = 0; k < sizeof(interest) / sizeof(interest[0]); k++)
		conf->interest[interest[k] / 64] |= 1ULL << (interest[k] % 64);
	areas = sys6(SYS_mmap, 0, (long)SPX_NAREAS * SPX_AREA_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (FAILED(areas))
		return fail(L, "no memory for the recorder's areas in ", L->path, areas);
	conf->areas = (uint64_t)areas;
	a0 = (struct spx_area *)conf->areas;
	a1 = (struct spx_area *)(conf->areas + SPX_AREA_SIZE);
	a0->self = (uint64_t)a0;
	a0->busy = 1;
	a1->self = (uint64_t)a1;
	a1->index = 1;
	a1->tid = (int32_t)sys0(SYS_gettid);
	L->main_area = a1;
	conf->used[0] = 3;
	conf->ring = (uint64_t)ring;
	conf->ring_size = ring_size;
	conf->pid = (int32_t)sys0(SYS_getpid);
	conf->fsgsbase = (auxval(L->auxv, AT_HWCAP2) & 2) != 0;
	conf->debug = L->debug;
	cat(conf->dir, conf->dir + sizeof(conf->dir), L->dir);
	conf->dir_dev = L->dirid.dev;
	conf->dir_ino = L->dirid.ino;
	if (log)
		cat(conf->log, conf->log + sizeof(conf->log), log);
	cat(conf->launcher, conf->launcher + sizeof(conf->launcher), L->launcher);
	cat(conf->target, conf->target + sizeof(conf->target), L->execfn);
	cat(conf->prefixes, conf->prefixes + sizeof(conf->prefixes), pre ? pre : SP_DEFAULT_PREFIXES);
	for (char **e = L->envp; *e && conf->ncarry < SPX_CARRY_MAX; e++) {
		const char *s = *e;

		if (((s[0] == 'L' && s[1] == 'D' && s[2] == '_' && s[3] == 'P' && s[4] == 'R' &&
		      s[5] == 'E' && s[6] == 'L' && s[7] == 'O' && s[8] == 'A' && s[9] == 'D' &&
		      s[10] == '=') ||
		     (s[0] == 'S' && s[1] == 'T' && s[2] == 'A' && s[3] == 'R' && s[4] == 'T' &&
		      s[5] == 'P' && s[6] == 'A' && s[7] == 'T' && s[8] == 'H' && s[9] == '_')) &&
		    len(s) < sizeof(conf->carry[0])) {
			char *slot = conf->carry[conf->ncarry++];

			cat(slot, slot + sizeof(conf->carry[0]), s);
		}
	}
	return 0;
}

/* ---- the cached patch plan ---- */

long spx_cache_dir(struct spx_load *L)
{
	const char *c = spx_env(L->envp, "STARTPATH_CACHE");
	struct sp_trust_id id = { 0 };
	long dfd, fd;

	if (c && *c)
		return sp_trust_dir(AT_FDCWD, c, 1, &id);
	id = L->dirid;
	dfd = sp_trust_dir(AT_FDCWD, L->dir, 0, &id);
	if (dfd < 0)
		return dfd;
	zero(&id, sizeof(id));
	fd = sp_trust_dir(dfd, ".sites", 1, &id);
	sys1(SYS_close, dfd);
	return fd;
}

int spx_cache_apply(struct spx_load *L, unsigned *n, unsigned *planned)
{
	static char file[256 * 1024];
	static struct site sites[2048];
	char name[96], *q, *fend;
	uint64_t *tab = (uint64_t *)L->rec;
	struct sp_trust_id id;
	struct stub_cfg cfg;
	size_t ns = 0;
	long fd, got = 0, r, cdfd;

	*n = *planned = 0;
	if (!L->im.build_id[0])
		return 1;
	cat(cat(name, name + sizeof(name), L->im.build_id), name + sizeof(name), ".sites");
	/* A plan says where to put jumps into the program's text: only one
	 * this euid wrote, in a directory nobody else can write, is followed. */
	cdfd = spx_cache_dir(L);
	if (cdfd < 0)
		return 1;
	fd = sp_trust_file(cdfd, name, &id);
	sys1(SYS_close, cdfd);
	if (fd < 0)
		return 1;
	while (got < (long)sizeof(file) && (r = sys3(SYS_read, fd, file + got, sizeof(file) - got)) > 0)
		got += r;
	sys1(SYS_close, fd);
	if (got <= 0 || got >= (long)sizeof(file))
		return 1;
	fend = file + got;
	/* "startpath-sites 2 BUILD-ID PATH", then a site a line. */
	q = file;
	while (q < fend && *q != '\n')
		q++;
	if (q >= fend || q - file < 18)
		return 1;
	for (int k = 0; k < 18; k++)
		if (file[k] != SP_PLAN_MAGIC[k])
			return 1;
	for (q++; q < fend; q++) {
		char *eol = q;

		while (eol < fend && *eol != '\n')
			eol++;
		if (eol == fend || ns == sizeof(sites) / sizeof(sites[0]) ||
		    sp_plan_parse_site(q, eol, &sites[ns]) < 0)
			return 1; /* not a plan we wrote: decode afresh */
		ns++;
		q = eol;
	}
	if (sp_plan_mismatches(sites, ns, L->im.base, L->im.text_lo, L->im.text_hi))
		return 1; /* another binary's plan: decode afresh (and rewrite it) */
	cfg.interest = (uint64_t)L->conf->interest;
	cfg.pre = L->rec + tab[SPX_T_PRE / 8];
	cfg.post = L->rec + tab[SPX_T_POST / 8];
	cfg.child = L->rec + tab[SPX_T_CHILD / 8];
	*planned = (unsigned)ns;
	if (sp_patch(sites, ns, L->im.base, L->im.text_lo, L->im.text_hi, STUB_TEXT_RW, &cfg, n) < 0)
		return fail(L, "no room for executable stubs near the text of ", L->path, 0);
	return 0;
}

/* ---- the jump ---- */

void spx_go(struct spx_load *L)
{
	struct image *im = &L->im;
	struct spx_start st;
	const uint64_t *auxv = L->auxv;
	const Elf64_Phdr *ph;
	size_t nargs = 0, nenv = 0, nauxv = 0, strbytes, vecbytes, phnum;
	uint64_t *vec, *p, stack_top;
	unsigned char *at_random;
	char *strs, *execfn;
	uint64_t *tab = (uint64_t *)L->rec;
	long r;

	/* The text gets its own protection back. */
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const Elf64_Phdr *q = &im->ph[i];
		uint64_t start = im->base + (q->p_vaddr & ~4095ULL);
		uint64_t end = (im->base + q->p_vaddr + q->p_filesz + 4095) & ~4095ULL;

		if (q->p_type == PT_LOAD && (q->p_flags & PF_X) && q->p_filesz)
			sys3(SYS_mprotect, start, end - start, prot_of(q->p_flags));
	}

	/* The new initial stack, as the kernel lays it: argc, argv, envp, auxv
	 * at the lowest address, then (never below it, where the program's
	 * stack will grow) AT_RANDOM's bytes and fresh copies of the strings,
	 * contiguous as /proc/self/cmdline and /proc/self/environ want them.
	 * It is carved out well below this function's frame. */
	strbytes = len(L->path) + 1;
	for (; L->argv[nargs]; nargs++)
		strbytes += len(nargs == 0 && L->argv0 ? L->argv0 : L->argv[nargs]) + 1;
	for (; L->envp[nenv]; nenv++)
		strbytes += len(L->envp[nenv]) + 1;
	while (auxv[2 * nauxv] != AT_NULL)
		nauxv++;
	vecbytes = (1 + nargs + 1 + nenv + 1 + 2 * (nauxv + 1)) * sizeof(uint64_t);
	__asm__ volatile("mov %%rsp, %0" : "=r"(stack_top));
	stack_top -= 4096; /* below this frame and the calls it still makes */
	vec = (uint64_t *)((stack_top - vecbytes - 16 - strbytes - 64) & ~15ULL);
	at_random = (unsigned char *)vec + vecbytes;
	strs = (char *)at_random + 16;
	zero(&st, sizeof(st));
	p = vec;
	*p++ = nargs;
	st.map.arg_start = (uint64_t)strs;
	for (size_t k = 0; k < nargs; k++) {
		const char *s = k == 0 && L->argv0 ? L->argv0 : L->argv[k];
		size_t l = len(s) + 1;

		copy(strs, s, l);
		*p++ = (uint64_t)strs;
		strs += l;
	}
	st.map.arg_end = (uint64_t)strs;
	*p++ = 0;
	st.map.env_start = (uint64_t)strs;
	for (size_t k = 0; k < nenv; k++) {
		size_t l = len(L->envp[k]) + 1;

		copy(strs, L->envp[k], l);
		*p++ = (uint64_t)strs;
		strs += l;
	}
	st.map.env_end = (uint64_t)strs;
	execfn = strs;
	copy(execfn, L->path, len(L->path) + 1);
	*p++ = 0;
	sys3(SYS_getrandom, at_random, 16, 0);
	st.map.auxv = (uint64_t)p;
	for (size_t k = 0; k < nauxv; k++) {
		uint64_t t = auxv[2 * k], v = auxv[2 * k + 1];

		switch (t) {
		case AT_PHDR: v = im->phdr; break;
		case AT_PHENT: v = sizeof(Elf64_Phdr); break;
		case AT_PHNUM: v = im->eh.e_phnum; break;
		case AT_ENTRY: v = im->base + im->eh.e_entry; break;
		case AT_BASE: v = 0; break;
		case AT_EXECFN: v = (uint64_t)execfn; break;
		case AT_RANDOM: v = (uint64_t)at_random; break;
		default: break;
		}
		*p++ = t;
		*p++ = v;
	}
	*p++ = AT_NULL;
	*p++ = 0;
	st.map.auxv_size = (uint32_t)((uint64_t)p - st.map.auxv);
	st.sp = (uint64_t)vec;
	st.entry = im->base + im->eh.e_entry;

	/* What spx_start does before the jump: unmap every mapping of the
	 * launcher (the kernel will not change /proc/self/exe while one
	 * remains: its own program headers say what they are) and point
	 * /proc/self/exe at the program, with the mm fields the kernel keeps
	 * for /proc: code and data of the program, its stack, the heap as it
	 * stands. */
	ph = (const Elf64_Phdr *)auxval(auxv, AT_PHDR);
	phnum = auxval(auxv, AT_PHNUM);
	for (size_t k = 0; ph && k < phnum && st.nunmap < SPX_UNMAP_MAX; k++) {
		uint64_t lo = ph[k].p_vaddr & ~4095ULL, hi = (ph[k].p_vaddr + ph[k].p_memsz + 4095) & ~4095ULL;

		if (ph[k].p_type != PT_LOAD || hi <= lo)
			continue;
		st.unmap[st.nunmap][0] = lo;
		st.unmap[st.nunmap++][1] = hi - lo;
	}
	for (int k = 0; k < im->eh.e_phnum; k++) {
		const Elf64_Phdr *q = &im->ph[k];
		uint64_t lo = im->base + q->p_vaddr, hi = lo + q->p_filesz;

		if (q->p_type != PT_LOAD)
			continue;
		if (q->p_flags & PF_X) {
			if (!st.map.start_code || lo < st.map.start_code)
				st.map.start_code = lo;
			if (hi > st.map.end_code)
				st.map.end_code = hi;
		} else if (q->p_flags & PF_W) {
			if (!st.map.start_data || lo < st.map.start_data)
				st.map.start_data = lo;
			if (hi > st.map.end_data)
				st.map.end_data = hi;
		}
	}
	if (!st.map.start_data)
		st.map.start_data = st.map.end_data = st.map.end_code;
	st.map.start_stack = (uint64_t)(L->argv - 1);
	st.map.start_brk = st.map.brk = (uint64_t)sys1(SYS_brk, 0);
	st.map.exe_fd = (uint32_t)L->fd;
	st.exe_fd = L->fd;

	r = sys2(SYS_arch_prctl, 0x1001 /* ARCH_SET_GS */, (long)L->main_area);
	if (r != 0) {
		fail(L, "cannot set %gs for ", L->path, r);
		return;
	}
	((void (*)(struct spx_start *))(L->rec + tab[SPX_T_START / 8]))(&st);
}
