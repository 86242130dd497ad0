/* SPDX-License-Identifier: Apache-2.0 */
/*
 * startpath-exec - run a static x86-64 program (static or static-pie) with
 * startpath's recorder inside it.  A static program never runs the dynamic
 * loader, so LD_PRELOAD cannot bring libstartpath.so in; this launcher
 * loads the program itself instead:
 *
 *   1. maps its PT_LOAD segments where the kernel would (ET_EXEC: at their
 *      addresses, reserved with MAP_FIXED_NOREPLACE so a clash with the
 *      launcher is detected; static-pie: anywhere);
 *   2. creates this process's ring, as the library would;
 *   3. copies the freestanding recorder (rec.c, built as a flat image and
 *      embedded here) into memory, fills its configuration and gives the
 *      main thread its first area through %gs;
 *   4. rewrites the program's interesting syscall sites to enter it, with
 *      the library's rewriter and site cache;
 *   5. undoes glibc's rseq registration, builds a fresh initial stack
 *      (argv, envp, auxv pointing at the program) and jumps to its entry.
 *
 * Anything that fails before the jump fails open: the program is exec'd
 * as it is, untraced, with one `startpath:` line on stderr.  A dynamic
 * program is simply exec'd (LD_PRELOAD covers it).
 *
 *   startpath-exec [--fd N] [--argv0 NAME] [--] TARGET [ARGS...]
 */
#include "launcher.h"
#include "rec.h"
#include "ring.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern const unsigned char spx_blob[], spx_blob_end[];

static int debug;
static const char *target_name;

/* Messages go to STARTPATH_LOG.<pid> where that is set (a shim's stderr
 * may be read by containerd as its answer), else to stderr. */
static FILE *msg_file(void)
{
	static FILE *f;
	const char *l = getenv(SP_ENV_LOG);
	char path[PATH_MAX];

	if (!f && l && *l) {
		snprintf(path, sizeof(path), "%s.%d", l, (int)getpid());
		f = fopen(path, "ae");
	}
	return f ? f : stderr;
}

#define say spx_say
void spx_say(const char *fmt, ...)
{
	FILE *f = msg_file();
	va_list ap;

	fputs("startpath: ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: startpath-exec [--fd N] [--argv0 NAME] [--] TARGET [ARGS...]\n"
		"Run TARGET, a static x86-64 program, with startpath's recorder inside it\n"
		"(a dynamic TARGET is exec'd as it is: LD_PRELOAD=libstartpath.so covers it).\n"
		"Records go to STARTPATH_DIR as for libstartpath.so; read them with\n"
		"`startpath report DIR`.\n"
		"  --fd N        run the program open on descriptor N (closed before it runs)\n"
		"  --argv0 NAME  the program's argv[0] (default: TARGET)\n"
		"Environment: STARTPATH_DIR, STARTPATH_RING, STARTPATH_PREFIXES,\n"
		"STARTPATH_DEBUG, STARTPATH_DISABLE=1 (run untraced).\n");
}

/* ---- fail open ---- */

static char **g_argv;   /* the program's argv */
static char **g_envp;
static int g_fd = -1;
static const char *g_path;

/* Run the program as it is. */
static void __attribute__((noreturn)) plain_exec(void)
{
	char fdpath[64];

	if (g_fd >= 0) {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", g_fd);
		fcntl(g_fd, F_SETFD, 0);
		execve(fdpath, g_argv, g_envp);
	}
	execve(g_path, g_argv, g_envp);
	fprintf(stderr, "startpath-exec: cannot execute %s: %s\n", g_path, strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static void __attribute__((noreturn, format(printf, 1, 2))) untraced(const char *fmt, ...)
{
	FILE *f = msg_file();
	va_list ap;

	fputs("startpath: ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fprintf(f, "; %s runs untraced\n", target_name);
	fflush(f);
	plain_exec();
}

/* ---- the program's image ---- */

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	uint64_t base, lo, hi;       /* lo/hi: link-time span of the PT_LOADs */
	uint64_t text_lo, text_hi;   /* runtime */
	uint64_t phdr;               /* runtime address of the program headers */
	char build_id[72];
};

static int read_headers(int fd, struct image *im, int *is_static)
{
	if (pread(fd, &im->eh, sizeof(im->eh), 0) != (ssize_t)sizeof(im->eh) ||
	    memcmp(im->eh.e_ident, ELFMAG, SELFMAG) != 0)
		return -1;
	if (im->eh.e_ident[EI_CLASS] != ELFCLASS64 || im->eh.e_machine != EM_X86_64 ||
	    (im->eh.e_type != ET_EXEC && im->eh.e_type != ET_DYN) ||
	    im->eh.e_phentsize != sizeof(Elf64_Phdr) || im->eh.e_phnum > 64 || !im->eh.e_phnum)
		return -1;
	if (pread(fd, im->ph, im->eh.e_phnum * sizeof(Elf64_Phdr), (off_t)im->eh.e_phoff) !=
	    (ssize_t)(im->eh.e_phnum * sizeof(Elf64_Phdr)))
		return -1;
	*is_static = 1;
	for (int i = 0; i < im->eh.e_phnum; i++)
		if (im->ph[i].p_type == PT_INTERP)
			*is_static = 0;
	return 0;
}

static int prot_of(uint32_t f)
{
	return (f & PF_R ? PROT_READ : 0) | (f & PF_W ? PROT_WRITE : 0) | (f & PF_X ? PROT_EXEC : 0);
}

static int map_image(int fd, struct image *im)
{
	const uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE), mask = pg - 1;
	void *res;

	im->lo = UINT64_MAX;
	im->hi = 0;
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];

		if (p->p_type != PT_LOAD)
			continue;
		if ((p->p_vaddr & mask) != (p->p_offset & mask))
			return -1;
		if ((p->p_vaddr & ~mask) < im->lo)
			im->lo = p->p_vaddr & ~mask;
		if (((p->p_vaddr + p->p_memsz + mask) & ~mask) > im->hi)
			im->hi = (p->p_vaddr + p->p_memsz + mask) & ~mask;
	}
	if (im->hi <= im->lo)
		return -1;
	if (im->eh.e_type == ET_EXEC) {
		res = mmap((void *)im->lo, im->hi - im->lo, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (res != (void *)im->lo) {
			errno = EEXIST;
			return -1;
		}
		im->base = 0;
	} else {
		res = mmap(NULL, im->hi - im->lo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (res == MAP_FAILED)
			return -1;
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
		if (p->p_filesz &&
		    mmap((void *)start, fend - start,
			 prot | (p->p_memsz > p->p_filesz || (p->p_flags & PF_X) ? PROT_WRITE : 0),
			 MAP_PRIVATE | MAP_FIXED, fd, (off_t)(p->p_offset & ~mask)) == MAP_FAILED)
			return -1;
		if (p->p_memsz > p->p_filesz) {
			uint64_t zpage = (fend + mask) & ~mask;

			if (p->p_filesz && (fend & mask))
				memset((void *)fend, 0, zpage - fend);
			if (!p->p_filesz)
				zpage = start;
			if (mend > zpage &&
			    mmap((void *)zpage, mend - zpage, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				 -1, 0) == MAP_FAILED)
				return -1;
			if (p->p_filesz && !(prot & PROT_WRITE))
				mprotect((void *)start, fend - start, prot);
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
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];

		if (p->p_type == PT_PHDR)
			im->phdr = im->base + p->p_vaddr;
		if (p->p_type == PT_NOTE && !im->build_id[0]) {
			const uint8_t *q = (const uint8_t *)(im->base + p->p_vaddr);
			const uint8_t *end = q + p->p_filesz;

			while (q + sizeof(Elf64_Nhdr) <= end) {
				const Elf64_Nhdr *n = (const Elf64_Nhdr *)q;
				const uint8_t *name = q + sizeof(*n);
				const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);

				if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
				    memcmp(name, "GNU", 4) == 0 && n->n_descsz <= 32) {
					for (unsigned k = 0; k < n->n_descsz; k++)
						snprintf(im->build_id + 2 * k, 3, "%02x", desc[k]);
					break;
				}
				/* Go's own linker writes a "Go" build id instead. */
				if (n->n_type == 4 && (n->n_namesz == 3 || n->n_namesz == 4) && memcmp(name, "Go", 3) == 0 &&
				    desc + n->n_descsz <= end) {
					uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;

					for (unsigned k = 0; k < n->n_descsz; k++) {
						h1 = (h1 ^ desc[k]) * 0x100000001b3ULL;
						h2 = (h2 ^ desc[k]) * 0x100000001b3ULL + k;
					}
					snprintf(im->build_id, sizeof(im->build_id), "go-%016llx%016llx",
						 (unsigned long long)h1, (unsigned long long)h2);
					break;
				}
				q = desc + ((n->n_descsz + 3) & ~3u);
			}
		}
	}
	return im->phdr ? 0 : -1;
}

/* The text was mapped writable so that the rewriter could patch it without
 * an mprotect pair per site: give it its own protection now. */
static void seal_text(const struct image *im)
{
	const uint64_t mask = (uint64_t)sysconf(_SC_PAGESIZE) - 1;

	for (int i = 0; i < im->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];
		uint64_t start = im->base + (p->p_vaddr & ~mask);
		uint64_t end = (im->base + p->p_vaddr + p->p_filesz + mask) & ~mask;

		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && p->p_filesz)
			mprotect((void *)start, end - start, prot_of(p->p_flags));
	}
}

/* ---- the recorder ---- */

/* Copy the embedded recorder image into fresh memory and relocate it.
 * Returns its base, or 0. */
static uint64_t load_recorder(void)
{
	const unsigned char *f = spx_blob;
	size_t fsize = (size_t)(spx_blob_end - spx_blob);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
	const Elf64_Phdr *ph;
	const Elf64_Shdr *sh;
	uint64_t span = 0;
	uint8_t *mem;

	if (fsize < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return 0;
	ph = (const Elf64_Phdr *)(f + eh->e_phoff);
	sh = (const Elf64_Shdr *)(f + eh->e_shoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr + ph[i].p_memsz > span)
			span = ph[i].p_vaddr + ph[i].p_memsz;
	span = (span + 4095) & ~4095ULL;
	mem = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 0;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			memcpy(mem + ph[i].p_vaddr, f + ph[i].p_offset, ph[i].p_filesz);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_RELA)
			continue;
		for (size_t k = 0; k < sh[i].sh_size / sizeof(Elf64_Rela); k++) {
			const Elf64_Rela *r = (const Elf64_Rela *)(f + sh[i].sh_offset) + k;

			if (ELF64_R_TYPE(r->r_info) != R_X86_64_RELATIVE || r->r_offset + 8 > span) {
				munmap(mem, span);
				return 0;
			}
			*(uint64_t *)(mem + r->r_offset) = (uint64_t)mem + (uint64_t)r->r_addend;
		}
	}
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			mprotect(mem + (ph[i].p_vaddr & ~4095ULL),
				 ((ph[i].p_vaddr + ph[i].p_memsz + 4095) & ~4095ULL) -
					 (ph[i].p_vaddr & ~4095ULL),
				 prot_of(ph[i].p_flags));
	return (uint64_t)mem;
}

/* ---- the ring ---- */

static int host_pid(void)
{
	char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return getpid();
	buf[n] = '\0';
	return atoi(buf) > 0 ? atoi(buf) : getpid();
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *make_ring(const char *dir, const char *exe, char **argv, size_t *size)
{
	const char *want = getenv(SP_ENV_RING);
	uint32_t cap = SP_RING_DEFAULT_RECORDS;
	struct sp_ring ring;
	struct sp_ring_hdr *h;
	char path[700];
	uint64_t t = now_ns(CLOCK_MONOTONIC), id = 0;
	int hp = host_pid(), fd;
	size_t used = 0;
	void *mem;

	if (want && *want) {
		char *end;
		unsigned long v = strtoul(want, &end, 10);

		if (!*end && v >= SP_RING_MIN_RECORDS && v <= SP_RING_MAX_RECORDS)
			cap = sp_ring_capacity(v);
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return NULL;
	snprintf(path, sizeof(path), "%s/%d-%llu.ring", dir, hp, (unsigned long long)t);
	*size = sp_ring_bytes(cap);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return NULL;
	if ((errno = posix_fallocate(fd, 0, (off_t)*size)) != 0) {
		close(fd);
		unlink(path);
		return NULL;
	}
	mem = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (mem == MAP_FAILED) {
		unlink(path);
		return NULL;
	}
	madvise(mem, *size, MADV_RANDOM);
	sp_ring_init(&ring, mem, cap);
	h = ring.hdr;
	if (syscall(SYS_getrandom, &id, sizeof(id), 1) != sizeof(id) || !id)
		id = t ^ ((uint64_t)hp << 40);
	h->ring_id = id;
	h->pid = getpid();
	h->host_pid = hp;
	h->ppid = getppid();
	h->t_load_ns = t;
	h->t_load_real_ns = now_ns(CLOCK_REALTIME);
	snprintf(h->exe, sizeof(h->exe), "%s", exe);
	for (int i = 0; argv[i]; i++) {
		size_t l = strlen(argv[i]);

		if (used + l + 1 > sizeof(h->args))
			break;
		memcpy(h->args + used, argv[i], l + 1);
		used += l + 1;
		h->argc++;
	}
	return mem;
}

static const char *out_dir(char *buf, size_t len)
{
	const char *d = getenv(SP_ENV_DIR), *x;
	char cwd[PATH_MAX];

	if (d && *d) {
		if (d[0] == '/' || !getcwd(cwd, sizeof(cwd)))
			snprintf(buf, len, "%s", d);
		else
			snprintf(buf, len, "%s/%s", cwd, d);
	} else if (geteuid() == 0) {
		snprintf(buf, len, "%s", SP_DEFAULT_DIR_ROOT);
	} else if ((x = getenv("XDG_RUNTIME_DIR")) && x[0] == '/') {
		snprintf(buf, len, "%s/startpath", x);
	} else {
		snprintf(buf, len, "/tmp/startpath-%u", (unsigned)geteuid());
	}
	return buf;
}

/* ---- the jump ---- */

/* What spx_start does before the jump: unmap every mapping of the launcher's
 * file (the kernel will not change /proc/self/exe while one remains) and
 * point /proc/self/exe at the program, with the mm fields the kernel keeps
 * for /proc (code and data of the program, its stack; the heap as it is). */
static void exe_plan(struct spx_start *st, const struct image *im, int fd, uint64_t stack)
{
	/* The launcher is a static executable: its own program headers say
	 * what of it is mapped (no /proc/self/maps to read). */
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	const uint64_t mask = (uint64_t)sysconf(_SC_PAGESIZE) - 1;
	size_t phnum = getauxval(AT_PHNUM);

	for (size_t k = 0; ph && k < phnum && st->nunmap < SPX_UNMAP_MAX; k++) {
		uint64_t lo = ph[k].p_vaddr & ~mask, hi = (ph[k].p_vaddr + ph[k].p_memsz + mask) & ~mask;

		if (ph[k].p_type != PT_LOAD || hi <= lo)
			continue;
		st->unmap[st->nunmap][0] = lo;
		st->unmap[st->nunmap++][1] = hi - lo;
	}
	for (int k = 0; k < im->eh.e_phnum; k++) {
		const Elf64_Phdr *p = &im->ph[k];
		uint64_t lo = im->base + p->p_vaddr, hi = lo + p->p_filesz;

		if (p->p_type != PT_LOAD)
			continue;
		if (p->p_flags & PF_X) {
			if (!st->map.start_code || lo < st->map.start_code)
				st->map.start_code = lo;
			if (hi > st->map.end_code)
				st->map.end_code = hi;
		} else if (p->p_flags & PF_W) {
			if (!st->map.start_data || lo < st->map.start_data)
				st->map.start_data = lo;
			if (hi > st->map.end_data)
				st->map.end_data = hi;
		}
	}
	if (!st->map.start_data)
		st->map.start_data = st->map.end_data = st->map.end_code;
	/* The heap goes on from where the launcher's stands. */
	st->map.start_stack = stack;
	st->map.start_brk = st->map.brk = (uint64_t)syscall(SYS_brk, 0);
	st->map.exe_fd = (uint32_t)fd;
	st->exe_fd = fd;
}

static const int interest[] = {
	SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_clone, SYS_clone3,
	SYS_fork, SYS_vfork, SYS_execve, SYS_execveat, SYS_unshare, SYS_setns,
	SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_move_mount, SYS_open_tree,
	SYS_mount_setattr, SYS_mkdir, SYS_mkdirat, SYS_rename, SYS_renameat,
	SYS_renameat2, SYS_exit_group, SYS_exit,
};

int main(int argc, char **argv, char **envp)
{
	static char execfn[PATH_MAX], fdfile[64], launcher[PATH_MAX], dirbuf[512];
	const char *argv0 = NULL, *dis = getenv(SP_ENV_DISABLE), *dbg = getenv(SP_ENV_DEBUG);
	struct image im = { 0 };
	struct spx_conf *conf;
	struct spx_area *a0, *a1;
	struct spx_start st = { .exe_fd = -1 };
	unsigned char *at_random;
	uint64_t rec, *tab, *vec, *p;
	size_t strbytes = 0, vecbytes;
	char *block, *strs, *execfn_copy;
	char **e;
	Elf64_auxv_t *auxv;
	size_t ring_size, nauxv = 0, nenv = 0, nargs, k;
	void *ring;
	int i = 1, is_static = 0, n_done;

	debug = dbg ? atoi(dbg) : 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("startpath-exec %s\n", STARTPATH_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc) {
			char *end;

			g_fd = (int)strtol(argv[++i], &end, 10);
			if (*end || g_fd < 0) {
				fprintf(stderr, "startpath-exec: --fd wants a descriptor number, not '%s'\n",
					argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--argv0") == 0 && i + 1 < argc) {
			argv0 = argv[++i];
		} else {
			fprintf(stderr, "startpath-exec: unknown option '%s' (see --help)\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	g_path = argv[i];
	target_name = g_path;
	g_argv = argv + i;
	if (argv0)
		argv[i] = (char *)argv0; /* the program's argv[0]; g_path keeps the file */
	g_envp = envp;
	if (g_fd < 0) {
		g_fd = open(g_path, O_RDONLY | O_CLOEXEC);
		if (g_fd < 0) {
			fprintf(stderr, "startpath-exec: cannot open %s: %s\n", g_path, strerror(errno));
			return errno == ENOENT ? 127 : 126;
		}
	} else {
		fcntl(g_fd, F_SETFD, FD_CLOEXEC);
	}
	if (read_headers(g_fd, &im, &is_static) < 0 || !is_static)
		plain_exec(); /* not ours to load: a dynamic program, a script... */
	if (dis && strcmp(dis, "1") == 0)
		plain_exec();

	/* The program's path as /proc/self/exe would give it. */
	snprintf(fdfile, sizeof(fdfile), "/proc/self/fd/%d", g_fd);
	{
		/* A copy runc made of itself (a memfd, a detached bind mount)
		 * has no usable name: the path it was exec'd as names it. */
		struct stat a, b;

		if (!realpath(fdfile, execfn) || stat(execfn, &a) < 0 || fstat(g_fd, &b) < 0 ||
		    a.st_ino != b.st_ino || a.st_dev != b.st_dev)
			snprintf(execfn, sizeof(execfn), "%s", g_path);
	}
	if (readlink("/proc/self/exe", launcher, sizeof(launcher) - 1) <= 0)
		launcher[0] = '\0';

	out_dir(dirbuf, sizeof(dirbuf));
	ring = make_ring(dirbuf, execfn, g_argv, &ring_size);
	if (!ring)
		untraced("cannot create a ring in %s: %s", dirbuf, strerror(errno));
	if (map_image(g_fd, &im) < 0)
		untraced("cannot map %s (%s)", g_path,
			 errno == EEXIST ? "its addresses are taken by the launcher" : strerror(errno));
	rec = load_recorder();
	if (!rec)
		untraced("cannot load the recorder");
	tab = (uint64_t *)rec;
	conf = (struct spx_conf *)(rec + tab[SPX_T_CONF / 8]);
	memset(conf, 0, sizeof(*conf));
	conf->magic = SPX_MAGIC;
	for (k = 0; k < sizeof(interest) / sizeof(interest[0]); k++)
		conf->interest[interest[k] / 64] |= 1ULL << (interest[k] % 64);
	conf->areas = (uint64_t)mmap(NULL, (size_t)SPX_NAREAS * SPX_AREA_SIZE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if ((void *)conf->areas == MAP_FAILED)
		untraced("no memory for the recorder's areas");
	a0 = (struct spx_area *)conf->areas;
	a1 = (struct spx_area *)(conf->areas + SPX_AREA_SIZE);
	a0->self = (uint64_t)a0;
	a0->busy = 1;
	a1->self = (uint64_t)a1;
	a1->index = 1;
	a1->tid = (int32_t)syscall(SYS_gettid);
	conf->used[0] = 3;
	conf->ring = (uint64_t)ring;
	conf->ring_size = ring_size;
	conf->pid = getpid();
	conf->fsgsbase = (getauxval(AT_HWCAP2) & 2) != 0;
	conf->debug = debug;
	snprintf(conf->dir, sizeof(conf->dir), "%s", dirbuf);
	if (getenv(SP_ENV_LOG))
		snprintf(conf->log, sizeof(conf->log), "%s", getenv(SP_ENV_LOG));
	snprintf(conf->launcher, sizeof(conf->launcher), "%s", launcher);
	snprintf(conf->target, sizeof(conf->target), "%s", execfn);
	snprintf(conf->prefixes, sizeof(conf->prefixes), "%s",
		 getenv(SP_ENV_PREFIXES) ? getenv(SP_ENV_PREFIXES) : SP_DEFAULT_PREFIXES);
	for (e = envp; *e && conf->ncarry < SPX_CARRY_MAX; e++)
		if ((strncmp(*e, "LD_PRELOAD=", 11) == 0 || strncmp(*e, "STARTPATH_", 10) == 0) &&
		    strlen(*e) < sizeof(conf->carry[0]))
			snprintf(conf->carry[conf->ncarry++], sizeof(conf->carry[0]), "%s", *e);

	{
		struct sp_rewrite_req rq = {
			.path = execfn, .file = fdfile, .build_id = im.build_id,
			.cache_dir = getenv("STARTPATH_CACHE") ? getenv("STARTPATH_CACHE") : dirbuf,
			.bias = im.base, .text_lo = im.text_lo, .text_hi = im.text_hi,
			.interest = conf->interest, .entry_pre = rec + tab[SPX_T_PRE / 8],
			.entry_post = rec + tab[SPX_T_POST / 8],
			.entry_child = rec + tab[SPX_T_CHILD / 8], .debug = debug,
			.text_writable = 1, /* until seal_text() */
		};

		n_done = (int)sp_rewrite_static(&rq);
	}
	seal_text(&im);
	if (debug >= 1)
		say("%s: %d syscall sites rewritten, image at %#llx, recorder at %#llx", execfn,
		    n_done, (unsigned long long)im.base, (unsigned long long)rec);

	/* The new initial stack, as the kernel lays it: argc, argv, envp, auxv
	 * at the lowest address, then (never below it, where the program's
	 * stack will grow) AT_RANDOM's bytes and fresh copies of the argument
	 * and environment strings, contiguous as /proc/self/cmdline and
	 * /proc/self/environ want them. */
	for (e = envp; *e; e++)
		nenv++;
	auxv = (Elf64_auxv_t *)(e + 1);
	while (auxv[nauxv].a_type != AT_NULL)
		nauxv++;
	nargs = (size_t)(argc - i);
	for (k = 0; k < nargs; k++)
		strbytes += strlen(g_argv[k]) + 1;
	for (k = 0; k < nenv; k++)
		strbytes += strlen(envp[k]) + 1;
	strbytes += strlen(g_path) + 1;
	vecbytes = (1 + nargs + 1 + nenv + 1 + 2 * (nauxv + 1)) * sizeof(uint64_t);
	block = alloca(vecbytes + 16 + 16 + strbytes + 16);
	vec = (uint64_t *)(((uintptr_t)block + 15) & ~(uintptr_t)15);
	at_random = (unsigned char *)vec + vecbytes;
	strs = (char *)at_random + 16;
	p = vec;
	*p++ = nargs;
	st.map.arg_start = (uint64_t)strs;
	for (k = 0; k < nargs; k++) {
		size_t l = strlen(g_argv[k]) + 1;

		*p++ = (uint64_t)memcpy(strs, g_argv[k], l);
		strs += l;
	}
	st.map.arg_end = (uint64_t)strs;
	*p++ = 0;
	st.map.env_start = (uint64_t)strs;
	for (k = 0; k < nenv; k++) {
		size_t l = strlen(envp[k]) + 1;

		*p++ = (uint64_t)memcpy(strs, envp[k], l);
		strs += l;
	}
	st.map.env_end = (uint64_t)strs;
	execfn_copy = memcpy(strs, g_path, strlen(g_path) + 1);
	*p++ = 0;
	syscall(SYS_getrandom, at_random, 16, 0);
	st.map.auxv = (uint64_t)p;
	for (k = 0; k < nauxv; k++) {
		uint64_t t = auxv[k].a_type, v = auxv[k].a_un.a_val;

		switch (t) {
		case AT_PHDR: v = im.phdr; break;
		case AT_PHENT: v = sizeof(Elf64_Phdr); break;
		case AT_PHNUM: v = im.eh.e_phnum; break;
		case AT_ENTRY: v = im.base + im.eh.e_entry; break;
		case AT_BASE: v = 0; break;
		case AT_EXECFN: v = (uint64_t)execfn_copy; break; /* as exec'd */
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
	st.entry = im.base + im.eh.e_entry;
	exe_plan(&st, &im, g_fd, (uint64_t)(argv - 1));

	/* The program's libc registers rseq for this thread itself. */
	if (__rseq_size > 0)
		syscall(SYS_rseq, (char *)__builtin_thread_pointer() + __rseq_offset, __rseq_size,
			1 /* RSEQ_FLAG_UNREGISTER */, RSEQ_SIG);
	if (syscall(SYS_arch_prctl, 0x1001 /* ARCH_SET_GS */, (unsigned long)a1) != 0)
		untraced("cannot set %%gs: %s", strerror(errno));
	fflush(NULL);
	((void (*)(struct spx_start *))(rec + tab[SPX_T_START / 8]))(&st);
	__builtin_unreachable();
}
