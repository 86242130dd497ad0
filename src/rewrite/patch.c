/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patch.c - the code a rewritten syscall site jumps to, the patch itself,
 * and a plan line's parser.  Used by the rewriter in libstartpath.so and in
 * startpath-exec, and by startpath-exec's loader, which runs before libc
 * exists: so no libc here, raw system calls only (built -ffreestanding).
 */
#include "rewrite.h"
#include "sys.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#define psys sp_sys6

/* An anonymous RW mapping exactly at a, or NULL. */
static void *stub_map(void *a, size_t l)
{
	long r = psys(SYS_mmap, (long)a, (long)l, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	return (unsigned long)r > -4096UL ? NULL : (void *)r;
}

static void stub_unmap(void *a, size_t l)
{
	psys(SYS_munmap, (long)a, (long)l, 0, 0, 0, 0);
}

static int stub_protect(void *a, size_t l, int prot)
{
	return psys(SYS_mprotect, (long)a, (long)l, prot, 0, 0, 0) < 0 ? -1 : 0;
}

static uint8_t *stub_put(uint8_t *p, const void *b, size_t n)
{
	const uint8_t *s = b;

	while (n--)
		*p++ = *s++;
	return p;
}

static uint8_t *stub_put64(uint8_t *p, uint64_t v)
{
	return stub_put(p, &v, 8);
}

static uint8_t *stub_put32(uint8_t *p, int32_t v)
{
	return stub_put(p, &v, 4);
}

/* Emit the stub for s (window at runtime address w) at p; returns its end. */
static uint8_t *stub_emit(uint8_t *p, const struct site *s, uint64_t w,
				 const struct stub_cfg *c)
{
	const uint8_t *pre = s->bytes, *post = s->bytes + s->sys + 2;
	size_t npre = s->sys, npost = (size_t)s->len - s->sys - 2;
	uint8_t *jae, *jnc, *lea1, *after, *jmp_callpost, *pass, *jmp_post, *jz, *callpost,
		*lea2, *postp, *childp;

	p = stub_put(p, pre, npre);
	p = stub_put(p, "\x48\x3d\x00\x02\x00\x00", 6);     /* cmp $512,%rax */
	jae = p;
	p = stub_put(p, "\x73\x00", 2);                     /* jae .pass */
	p = stub_put(p, "\x48\x89\xc1", 3);                 /* mov %rax,%rcx */
	p = stub_put(p, "\x48\xc1\xe9\x06", 4);             /* shr $6,%rcx */
	p = stub_put(p, "\x49\xbb", 2);                     /* movabs $interest,%r11 */
	p = stub_put64(p, c->interest);
	p = stub_put(p, "\x4d\x8b\x1c\xcb", 4);             /* mov (%r11,%rcx,8),%r11 */
	p = stub_put(p, "\x49\x0f\xa3\xc3", 4);             /* bt %rax,%r11 */
	jnc = p;
	p = stub_put(p, "\x73\x00", 2);                     /* jnc .pass */
	lea1 = p;
	p = stub_put(p, "\x4c\x8d\x1d\x00\x00\x00\x00", 7); /* lea .after(%rip),%r11 */
	p = stub_put(p, "\x48\xb9", 2);                     /* movabs $entry_pre,%rcx */
	p = stub_put64(p, c->pre);
	p = stub_put(p, "\xff\xe1", 2);                     /* jmp *%rcx */
	after = p;                                          /* SP_ACT_NORMAL */
	p = stub_put(p, "\x0f\x05", 2);
	jmp_callpost = p;
	p = stub_put(p, "\xeb\x00", 2);
	pass = p;                                           /* SP_ACT_PASS */
	p = stub_put(p, "\x0f\x05", 2);
	jmp_post = p;
	p = stub_put(p, "\xeb\x00", 2);
	p = stub_put(p, "\x0f\x05", 2);                     /* SP_ACT_CLONEVM */
	p = stub_put(p, "\x48\x85\xc0", 3);                 /* test %rax,%rax */
	jz = p;
	p = stub_put(p, "\x74\x00", 2);                     /* jz .post: the child */
	callpost = p;
	lea2 = p;
	p = stub_put(p, "\x4c\x8d\x1d\x00\x00\x00\x00", 7); /* lea .post(%rip),%r11 */
	p = stub_put(p, "\x48\xb9", 2);                     /* movabs $entry_post,%rcx */
	p = stub_put64(p, c->post);
	p = stub_put(p, "\xff\xe1", 2);                     /* jmp *%rcx */
	postp = p;
	p = stub_put(p, post, npost);
	p = stub_put(p, "\xe9", 1);                         /* jmp back */
	p = stub_put32(p, (int32_t)((int64_t)(w + s->len) - (int64_t)(p + 4)));
	childp = postp;
	if (c->child) {
		/* The child of a CLONE_VM clone first takes an area of its own,
		 * then goes on at .post. */
		uint8_t *lea3 = p;

		childp = p;
		p = stub_put(p, "\x4c\x8d\x1d\x00\x00\x00\x00", 7); /* lea .post(%rip),%r11 */
		p = stub_put(p, "\x48\xb9", 2);                     /* movabs $child,%rcx */
		p = stub_put64(p, c->child);
		p = stub_put(p, "\xff\xe1", 2);                     /* jmp *%rcx */
		stub_put32(lea3 + 3, (int32_t)(postp - (lea3 + 7)));
	}
	jae[1] = (uint8_t)(pass - (jae + 2));
	jnc[1] = (uint8_t)(pass - (jnc + 2));
	stub_put32(lea1 + 3, (int32_t)(after - (lea1 + 7)));
	jmp_callpost[1] = (uint8_t)(callpost - (jmp_callpost + 2));
	jmp_post[1] = (uint8_t)(postp - (jmp_post + 2));
	jz[1] = (uint8_t)(childp - (jz + 2));
	stub_put32(lea2 + 3, (int32_t)(postp - (lea2 + 7)));
	return p;
}

/* An RW region for `size` bytes of stubs within +-2 GiB of [text_lo,
 * text_hi), or NULL. */
static void *stub_region(uint64_t text_lo, uint64_t text_hi, size_t size)
{
	const uint64_t step = 1ULL << 24, reach = 1ULL << 31;

	for (uint64_t d = step; d < reach - (text_hi - text_lo); d += step) {
		uint64_t cand[2] = { (text_lo - d - size) & ~0xfffULL, (text_hi + d) & ~0xfffULL };

		for (int k = 0; k < 2; k++) {
			void *p;

			if (k == 0 && (text_lo < d + size + 0x100000))
				continue;
			p = stub_map((void *)cand[k], size);
			if (!p)
				continue;
			if (p != (void *)cand[k]) { /* old kernel: hint only */
				stub_unmap(p, size);
				continue;
			}
			return p;
		}
	}
	return NULL;
}

/* Does the window at w still hold what was decoded? */
static int stub_ok(const struct site *x, uint64_t w, uint64_t text_lo, uint64_t text_hi)
{
	int same = 1;

	if (w < text_lo || w + x->len > text_hi)
		return 0;
	for (unsigned k = 0; k < x->len; k++)
		same &= ((const uint8_t *)w)[k] == x->bytes[k];
	return same; /* else not what was decoded: leave it */
}

int sp_text_prefault(const struct site *v, size_t n, uint64_t bias, uint64_t text_lo,
		     uint64_t text_hi)
{
	uintptr_t lo = text_lo & ~(uintptr_t)4095, hi = (text_hi + 4095) & ~(uintptr_t)4095;
	uintptr_t last = 0;

	if (!n || stub_protect((void *)lo, hi - lo, PROT_READ | PROT_WRITE | PROT_EXEC) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uintptr_t w = v[i].win + bias;

		if (w < text_lo || w >= text_hi || (w & ~(uintptr_t)4095) == last)
			continue;
		last = w & ~(uintptr_t)4095;
		/* A locked read-modify-write that changes nothing: the page's
		 * first touch is a write fault, one copy of the file page. */
		__atomic_fetch_or((uint8_t *)w, 0, __ATOMIC_RELAXED);
		if (v[i].len && w + v[i].len - 1 < text_hi &&
		    ((w + v[i].len - 1) & ~(uintptr_t)4095) != last) {
			last = (w + v[i].len - 1) & ~(uintptr_t)4095;
			__atomic_fetch_or((uint8_t *)(w + v[i].len - 1), 0, __ATOMIC_RELAXED);
		}
	}
	return 0;
}

void sp_text_restore(uint64_t text_lo, uint64_t text_hi)
{
	uintptr_t lo = text_lo & ~(uintptr_t)4095, hi = (text_hi + 4095) & ~(uintptr_t)4095;

	stub_protect((void *)lo, hi - lo, PROT_READ | PROT_EXEC);
}

size_t sp_plan_mismatches(const struct site *v, size_t n, uint64_t bias, uint64_t text_lo,
			  uint64_t text_hi)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += v[i].sys + 2u > v[i].len || v[i].bytes[v[i].sys] != 0x0f ||
		       v[i].bytes[v[i].sys + 1] != 0x05 ||
		       !stub_ok(&v[i], v[i].win + bias, text_lo, text_hi);
	return bad;
}

int sp_patch(const struct site *v, size_t n, uint64_t bias, uint64_t text_lo, uint64_t text_hi,
	     int text, const struct stub_cfg *c, unsigned *done)
{
	size_t size = (n * STUB_MAX + n + 4095) & ~(size_t)4095;
	uint8_t *region, *p, *taken, scratch[STUB_MAX];
	uintptr_t span_lo = UINTPTR_MAX, span_hi = 0;
	int writable = text == STUB_TEXT_RW;

	*done = 0;
	if (!n)
		return 0;
	region = stub_region(text_lo, text_hi, size);
	if (!region)
		return -1;
	taken = region + n * STUB_MAX; /* which sites got a stub in pass 0 */
	for (int pass = 0; pass < 2; pass++) {
		p = region;
		for (size_t i = 0; i < n; i++) {
			const struct site *x = &v[i];
			uint64_t w = x->win + bias;
			uintptr_t pg = w & ~(uintptr_t)4095;
			size_t pglen = ((w + x->len + 4095) & ~(uintptr_t)4095) - pg;
			int64_t rel = (int64_t)p - (int64_t)(w + 5);
			uint8_t jmp[MAX_WIN];

			if (pass == 0) {
				if (!stub_ok(x, w, text_lo, text_hi) || rel != (int32_t)rel)
					continue;
				taken[i] = 1;
				p = stub_emit(p, x, w, c);
				if (pg < span_lo)
					span_lo = pg;
				if (pg + pglen > span_hi)
					span_hi = pg + pglen;
				continue;
			}
			if (!taken[i])
				continue;
			p += stub_emit(scratch, x, w, c) - scratch; /* the same length */
			if (!stub_ok(x, w, text_lo, text_hi))
				continue; /* an earlier window overlapped it */
			jmp[0] = 0xe9;
			stub_put32(jmp + 1, (int32_t)rel);
			if (!writable &&
			    stub_protect((void *)pg, pglen, PROT_READ | PROT_WRITE | PROT_EXEC) < 0)
				continue;
			/* One thread: a plain copy, the displacement first so no
			 * partial jmp is ever executable. */
			stub_put((uint8_t *)(w + 1), jmp + 1, 4);
			for (unsigned k = 5; k < x->len; k++)
				((uint8_t *)w)[k] = 0xcc;
			__atomic_store_n((uint8_t *)w, jmp[0], __ATOMIC_RELEASE);
			if (!writable)
				stub_protect((void *)pg, pglen, PROT_READ | PROT_EXEC);
			(*done)++;
		}
		if (pass == 0 && stub_protect(region, size, PROT_READ | PROT_EXEC) < 0) {
			stub_unmap(region, size);
			return -1;
		}
		/* The whole text mapping, not just the pages with sites: an
		 * mprotect of part of a mapping splits it, and the pieces stay
		 * apart once written to.  /proc/self/maps would then list the
		 * program several times, and profilers that map addresses to the
		 * binary through it (Go's runtime/pprof, perf) misattribute
		 * samples. */
		if (pass == 0 && text == STUB_TEXT_SPAN && span_lo < span_hi) {
			span_lo = text_lo & ~(uintptr_t)4095;
			span_hi = (text_hi + 4095) & ~(uintptr_t)4095;
		}
		if (pass == 0 && text == STUB_TEXT_SPAN && span_lo < span_hi &&
		    stub_protect((void *)span_lo, span_hi - span_lo,
				 PROT_READ | PROT_WRITE | PROT_EXEC) == 0)
			writable = 1; /* else page by page */
	}
	if (text == STUB_TEXT_SPAN && writable)
		stub_protect((void *)span_lo, span_hi - span_lo, PROT_READ | PROT_EXEC);
	return 0;
}

/* ---- a plan line ---- */

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int sp_plan_parse_site(const char *p, const char *end, struct site *s)
{
	unsigned long long v[3] = { 0, 0, 0 };
	size_t nhex = 0;

	if (end - p < 5 || p[0] != 's' || p[1] != 'i' || p[2] != 't' || p[3] != 'e' || p[4] != ' ')
		return -1;
	p += 5;
	for (int f = 0; f < 3; f++) {
		int base = f == 0 ? 16 : 10, digits = 0;

		for (; p < end && *p != ' '; p++, digits++) {
			int d = hexval(*p);

			if (d < 0 || d >= base || digits > 16)
				return -1;
			v[f] = v[f] * (unsigned)base + (unsigned)d;
		}
		if (!digits || p >= end)
			return -1;
		p++;
	}
	if (v[1] < 5 || v[1] > MAX_WIN || v[2] + 2 > v[1])
		return -1;
	for (size_t k = 0; k < sizeof(*s); k++)
		((uint8_t *)s)[k] = 0;
	s->win = v[0];
	s->len = (uint8_t)v[1];
	s->sys = (uint8_t)v[2];
	for (; p + 1 < end && nhex < v[1]; p += 2, nhex++) {
		int a = hexval(p[0]), b = hexval(p[1]);

		if (a < 0 || b < 0)
			return -1;
		s->bytes[nhex] = (uint8_t)(a << 4 | b);
	}
	return nhex == v[1] && p == end ? 0 : -1;
}
