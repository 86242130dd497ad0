/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sites.c - at load, have the main executable's syscall sites rewritten
 * (src/rewrite) so that its raw system calls come through raw.c: what the
 * library knows of the program (its mapped text, its build id) and where
 * its patch plans are cached.
 */
#include "raw.h"

#include <elf.h>
#include <emmintrin.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rewrite.h"

/* The main program's executable PT_LOADs and its GNU build id. */
struct main_image {
	uint64_t bias, text_lo, text_hi;
	int nexec;
	char build_id[72];
};

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *vim)
{
	struct main_image *im = vim;

	(void)size;
	im->bias = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;

			im->nexec++;
			if (!im->text_lo || lo < im->text_lo)
				im->text_lo = lo;
			if (hi > im->text_hi)
				im->text_hi = hi;
		} else if (ph->p_type == PT_NOTE && !im->build_id[0]) {
			const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
			const uint8_t *end = p + ph->p_memsz;

			while (p + sizeof(ElfW(Nhdr)) <= end) {
				const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
				const uint8_t *name = p + sizeof(*n);
				const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);

				if (desc + n->n_descsz > end)
					break;
				if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
				    memcmp(name, "GNU", 4) == 0 && n->n_descsz <= 32) {
					for (unsigned k = 0; k < n->n_descsz; k++) {
						im->build_id[2 * k] = "0123456789abcdef"[desc[k] >> 4];
						im->build_id[2 * k + 1] = "0123456789abcdef"[desc[k] & 15];
					}
					im->build_id[2 * n->n_descsz] = '\0';
					break;
				}
				p = desc + ((n->n_descsz + 3) & ~3u);
			}
		}
	}
	return 1; /* the first object is the main program */
}

/* The plans: STARTPATH_CACHE if it passes the checks (an fd to close),
 * else .sites in the output directory dfd (checked at load); -1 (decode
 * every time, write nothing) if STARTPATH_CACHE is not ours alone. */
static int open_cache(int dfd, const char **sub)
{
	struct sp_trust_id id = { 0 };
	long fd;

	*sub = "";
	if (!sp_s.cache[0]) {
		*sub = ".sites";
		return dfd;
	}
	fd = sp_trust_dir(AT_FDCWD, sp_s.cache, 1, &id);
	if (fd < 0) {
		const char *what = sp_trust_what(fd);

		sp_say_once(SP_MSG_CACHE, "site cache %s %s (owner uid %u, mode %04o); syscall "
			    "sites are decoded without it", sp_s.cache,
			    what ? what : strerror((int)-fd), id.uid, id.mode & 07777);
		return -1;
	}
	return (int)fd;
}

/* A note goes into the ring (the report shows it) and, at STARTPATH_DEBUG
 * 1 and up, to the log; detail only to the log. */
static void lib_say(int level, const char *msg)
{
	if (level == 0) {
		sp_event(SP_K_NOTE, 0, msg);
		level = 1;
	}
	sp_debug(level, "%s", msg);
}

static struct main_image im;

/* A main program this small is searched for a syscall instruction's bytes
 * at load (a few microseconds); none there, and it has no site to rewrite:
 * no plan to read, no directory to open. */
#define SMALL_TEXT (128 * 1024)

/* Is there a 0f 05 (SYSCALL) anywhere in [p, p+n)?  16 positions at a
 * time (SSE2, in every x86-64): glibc's memmem takes a byte at a time for
 * a two-byte needle, ~15 us of a small program's start. */
static int has_syscall_bytes(const uint8_t *p, size_t n)
{
	const __m128i a = _mm_set1_epi8(0x0f), b = _mm_set1_epi8(0x05);
	size_t i = 0;

	for (; n >= 17 && i <= n - 17; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(p + i));
		__m128i y = _mm_loadu_si128((const __m128i *)(p + i + 1));

		if (_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(x, a), _mm_cmpeq_epi8(y, b))))
			return 1;
	}
	for (; i + 1 < n; i++)
		if (p[i] == 0x0f && p[i + 1] == 0x05)
			return 1;
	return 0;
}

int sp_raw_wanted(void)
{
	if (sp_s.raw_off)
		return 0;
	memset(&im, 0, sizeof(im));
	dl_iterate_phdr(phdr_cb, &im);
	if (!im.text_lo || !im.text_hi)
		return 0;
	if (im.nexec == 1 && im.text_hi - im.text_lo <= SMALL_TEXT &&
	    !has_syscall_bytes((const uint8_t *)im.text_lo, im.text_hi - im.text_lo))
		return 0;
	return 1;
}

void sp_raw_setup(int dfd)
{
	static const int nrs[] = {
		SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_clone, SYS_clone3,
		SYS_fork, SYS_vfork, SYS_execve, SYS_execveat, SYS_unshare, SYS_setns,
		SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_move_mount, SYS_open_tree,
		SYS_mount_setattr, SYS_mkdir, SYS_mkdirat, SYS_rename, SYS_renameat,
		SYS_renameat2, SYS_exit_group,
	};
	struct sp_rewrite_req rq = { 0 };

	sp_raw_init_keys();
	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++)
		sp_raw_interest[nrs[i] / 64] |= 1ULL << (nrs[i] % 64);
	/* connect: a registry's, by a client that pulls (or containerd for
	 * the CRI); a shim or runtime connects only to local sockets. */
	if (!sp_s.runtime)
		sp_raw_interest[SYS_connect / 64] |= 1ULL << (SYS_connect % 64);
	/* openat: only in containerd, whose content store's blobs are read,
	 * and there only while a snapshot has been prepared and no blob read
	 * since (raw.c): the sites are rewritten with it, then it waits. */
	if (sp_s.content)
		sp_raw_interest[SYS_openat / 64] |= 1ULL << (SYS_openat % 64);
	rq.path = sp_exe();
	rq.file = "/proc/self/exe";
	rq.build_id = im.build_id;
	rq.cache_dfd = open_cache(dfd, &rq.cache_sub);
	rq.bias = im.bias;
	rq.text_lo = im.text_lo;
	rq.text_hi = im.text_hi;
	rq.nexec = im.nexec;
	rq.stubs = (struct stub_cfg){ (uint64_t)sp_raw_interest, (uint64_t)sp_raw_entry_pre,
				      (uint64_t)sp_raw_entry_post, 0 };
	rq.say = lib_say;
	sp_rewrite(&rq);
	sp_raw_openat_watch(SP_OW_OFF);
	if (rq.cache_dfd >= 0 && rq.cache_dfd != dfd)
		close(rq.cache_dfd);
}
