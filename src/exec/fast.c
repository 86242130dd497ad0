/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fast.c - startpath-exec's entry point, before libc (see load.c): with the
 * program's patch plan cached, load it and jump; otherwise go on to glibc's
 * _start and main(), untouched, or with spx_fast_why set when something
 * was already changed.  Free of libc like load.c.
 */
#include "load.h"

#include <fcntl.h>
#include <sys/syscall.h>

/* The kernel enters here: the initial stack at %rsp.  spx_fast returns only
 * to let glibc start as usual. */
__asm__(".text\n"
	".globl spx_entry\n"
	".type spx_entry, @function\n"
	"spx_entry:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rbx\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call spx_fast\n"
	"	mov %rbx, %rsp\n"
	"	xor %edx, %edx\n"
	"	jmp _start\n"
	".size spx_entry, . - spx_entry\n");

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static long sys5(long nr, long a, long b, long c, long d, long e)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

static int is(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static char *put(char *p, char *end, const char *s)
{
	while (*s && p < end - 1)
		*p++ = *s++;
	*p = '\0';
	return p;
}

static char *num(char *p, char *end, unsigned long long v, int base)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % (unsigned)base];
		v /= (unsigned)base;
	} while (v);
	if (base == 16)
		p = put(p, end, "0x");
	while (n && p < end - 1)
		*p++ = tmp[--n];
	*p = '\0';
	return p;
}

/* Run the program as it is, as main()'s plain_exec would; returns if the
 * exec fails (main() then says why). */
static void plain(struct spx_load *L, char **slot, long fd)
{
	char *saved = *slot, fdpath[32] = "/proc/self/fd/";

	if (L->argv0)
		*slot = (char *)L->argv0;
	if (fd >= 0) {
		/* The descriptor itself, closed by the exec: the program never
		 * sees it open.  A script cannot run that way (its interpreter
		 * opens /dev/fd/N): then through /proc, the descriptor open. */
		sys3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
		sys5(SYS_execveat, fd, (long)"", (long)slot, (long)L->envp, AT_EMPTY_PATH);
		num(fdpath + 14, fdpath + sizeof(fdpath), (unsigned long long)fd, 10);
		sys3(SYS_fcntl, fd, F_SETFD, 0);
		sys3(SYS_execve, (long)fdpath, (long)slot, (long)L->envp);
		sys3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
	} else {
		sys3(SYS_execve, (long)L->path, (long)slot, (long)L->envp);
	}
	*slot = saved;
}

int spx_fast_state;
struct spx_load spx_fast_load;

void spx_fast(uint64_t *sp);
void spx_fast(uint64_t *sp)
{
	struct spx_load *L = &spx_fast_load;
	long argc = (long)sp[0];
	char **argv = (char **)(sp + 1), **envp = argv + argc + 1, **e;
	const char *dbg, *dis;
	unsigned n, planned;
	int i = 1, opened = 0;
	long fd = -1;

	for (e = envp; *e; e++)
		;
	L->auxv = (const uint64_t *)(e + 1);
	L->envp = envp;
	/* Options as main() reads them; anything it should answer is its. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (is(argv[i], "--")) {
			i++;
			break;
		} else if (is(argv[i], "--fd") && i + 1 < argc) {
			const char *s = argv[++i];

			fd = 0;
			if (!*s)
				return;
			for (; *s; s++) {
				if (*s < '0' || *s > '9' || fd > 100000000)
					return;
				fd = fd * 10 + (*s - '0');
			}
		} else if (is(argv[i], "--argv0") && i + 1 < argc) {
			L->argv0 = argv[++i];
		} else {
			return;
		}
	}
	if (i >= argc)
		return;
	L->path = argv[i];
	L->argv = argv + i;
	dis = spx_env(envp, SP_ENV_DISABLE);
	if (dis && is(dis, "1")) {
		plain(L, argv + i, fd);
		return;
	}
	dbg = spx_env(envp, SP_ENV_DEBUG);
	L->debug = dbg && dbg[0] >= '0' && dbg[0] <= '9' ? dbg[0] - '0' : 0;
	if (fd < 0) {
		fd = sys3(SYS_openat, AT_FDCWD, (long)L->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		opened = 1;
	} else if (sys3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC) < 0) {
		return;
	}
	L->fd = (int)fd;
	switch (spx_prepare(L)) {
	case 0:
		plain(L, argv + i, fd); /* not ours to load: a dynamic program... */
		break;
	case 1:
		if (L->im.build_id[0])
			goto load;
		break; /* no build id to key a plan on: main() decodes it each time */
	default:
		break;
	}
	{
		if (opened)
			sys3(SYS_close, fd, 0, 0);
		return;
	}
load:
	/* From here on the process is changed: main() takes over from here. */
	if (spx_load(L) < 0) {
		spx_fast_state = SPX_FAST_FAILED;
		return;
	}
	switch (spx_cache_apply(L, &n, &planned)) {
	case 1:
		spx_fast_state = SPX_FAST_LOADED;
		return;
	case -1:
		spx_fast_state = SPX_FAST_FAILED;
		return;
	default:
		break;
	}
	if (L->debug >= 1) {
		char a[96], b[96], *end;

		end = num(put(a, a + sizeof(a), ": "), a + sizeof(a), n, 10);
		end = put(end, a + sizeof(a), " of ");
		end = num(end, a + sizeof(a), planned, 10);
		put(end, a + sizeof(a), " syscall sites rewritten (cached plan), image at ");
		end = num(b, b + sizeof(b), L->im.base, 16);
		end = put(end, b + sizeof(b), ", recorder at ");
		num(end, b + sizeof(b), L->rec, 16);
		spx_line(envp, L->execfn, a, b, NULL);
	}
	spx_go(L);
	spx_fast_state = SPX_FAST_FAILED;
}
