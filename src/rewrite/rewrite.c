/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rewrite.c - find the syscall instructions in a program's own text (Go
 * programs make raw syscalls) and rewrite the ones that can carry a
 * recorded call, so they pass through the caller's entry points (the
 * library's raw.c, or startpath-exec's recorder).
 *
 * Finding: function bounds come from Go's pclntab (kept even in stripped
 * binaries) or .symtab.  Only functions containing a 0f 05 byte pair are
 * decoded, with capstone (dlopen'ed only then), from their first byte; a
 * site is a decoded SYSCALL instruction.  A site whose number is a constant
 * startpath does not record (futex, write, rt_sigreturn...) is left alone.
 *
 * Rewriting: the SYSCALL and neighbouring instructions (at least 5 bytes,
 * none of them control flow or RIP-relative, no branch landing inside) are
 * replaced by a jmp to a stub placed within +-2 GiB.  The stub runs the
 * moved instructions, filters the number, makes the syscall itself and
 * jumps back.  No page 0, no call: nothing is pushed on the program's stack.
 * Done while the process has one thread (the library's constructor, the
 * launcher before the jump).
 *
 * Cache: the verified site list is kept per ELF build-id in the caller's
 * plan directory (STARTPATH_CACHE, else STARTPATH_DIR/.sites), so an exec of a known
 * binary decodes nothing and never loads capstone.  A plan is followed only
 * from a directory and a file of this euid's that nobody else can write
 * (trust.h), and only if every site still holds the bytes it names.
 *
 * Fails open: anything unexpected skips that site or that binary and says
 * so through the request's say() (the library leaves a note in the ring).
 */
#include "rewrite.h"
#include "trust.h"

#include <capstone/capstone.h>
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct sites {
	struct site *v;
	size_t n, cap;
};

struct exe {
	uint64_t bias;
	uint64_t text_lo, text_hi; /* runtime, executable PT_LOADs */
	char build_id[72];
	const char *path;
	const char *file;          /* where to read sections from */
	int writable;              /* text already mapped writable (startpath-exec) */
	int nexec;                 /* executable PT_LOADs */
	int single;                /* known to have one thread */
};

/* The request being served: one at a time, in a constructor or in the
 * launcher before the program runs. */
static const struct sp_rewrite_req *rq_now;

static void say(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int level, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (!rq_now->say)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rq_now->say(level, buf);
}

static int add_site(struct sites *s, const struct site *x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct site *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *x;
	return 0;
}

static int single_threaded(void)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	/* True until the first pthread_create (glibc 2.32): no /proc needed.
	 * False can still mean one thread: then count them. */
	if (__libc_single_threaded)
		return 1;
	d = opendir("/proc/self/task");
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n == 1;
}

/* ---- function bounds from the file ---- */

struct fn {
	uint64_t lo, hi; /* link-time */
};

struct fns {
	struct fn *v;
	size_t n;
};

static const ElfW(Shdr) *section(const uint8_t *f, size_t size, const char *want)
{
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)f;
	const ElfW(Shdr) *sh, *strs;

	if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(ElfW(Shdr)) ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(ElfW(Shdr)) > size ||
	    eh->e_shstrndx >= eh->e_shnum)
		return NULL;
	sh = (const ElfW(Shdr) *)(f + eh->e_shoff);
	strs = &sh[eh->e_shstrndx];
	if (strs->sh_offset + strs->sh_size > size)
		return NULL;
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_name >= strs->sh_size)
			continue;
		if (strcmp((const char *)f + strs->sh_offset + sh[i].sh_name, want) == 0 &&
		    (sh[i].sh_type == SHT_NOBITS || sh[i].sh_offset + sh[i].sh_size <= size))
			return &sh[i];
	}
	return NULL;
}

/* Is there a Go 1.18+ pclntab header (runtime.pcHeader) at p, with avail
 * bytes of table after it?  magic, two zero bytes, minLC 1 (x86), pointer
 * size 8, a function count and a function table that fits, entries in
 * ascending order. */
static int pcheader_ok(const uint8_t *p, uint64_t avail)
{
	uint32_t magic;
	uint64_t nfunc, nfiles, off;

	if (avail < 72)
		return 0;
	memcpy(&magic, p, 4);
	if ((magic != 0xfffffff0 && magic != 0xfffffff1) || p[4] || p[5] || p[6] != 1 || p[7] != 8)
		return 0;
	memcpy(&nfunc, p + 8, 8);
	memcpy(&nfiles, p + 16, 8);
	memcpy(&off, p + 64, 8);
	if (nfunc == 0 || nfunc > 10000000 || nfiles > 10000000 || off < 72 || off > avail ||
	    (nfunc + 1) * 8 > avail - off)
		return 0;
	for (uint64_t i = 0; i < nfunc && i < 64; i++) {
		uint32_t a, b;

		memcpy(&a, p + off + i * 8, 4);
		memcpy(&b, p + off + (i + 1) * 8, 4);
		if (b < a)
			return 0;
	}
	return 1;
}

/* The link-time value a R_X86_64_RELATIVE relocation puts at vaddr, or 0. */
static uint64_t relative_at(const uint8_t *f, size_t size, uint64_t vaddr)
{
	const ElfW(Shdr) *sh = section(f, size, ".rela.dyn");
	const ElfW(Rela) *r;

	if (!sh || sh->sh_type != SHT_RELA || sh->sh_entsize != sizeof(*r))
		return 0;
	r = (const ElfW(Rela) *)(f + sh->sh_offset);
	for (size_t i = 0; i < sh->sh_size / sizeof(*r); i++)
		if (r[i].r_offset == vaddr && ELF64_R_TYPE(r[i].r_info) == R_X86_64_RELATIVE)
			return (uint64_t)r[i].r_addend;
	return 0;
}

/* Where the pclntab is: its own section (.gopclntab; .data.rel.ro.gopclntab
 * in a PIE from Go's linker), else, when an external linker merged it away
 * (a stripped cgo PIE such as Debian's dockerd), found by its header in the
 * read-only data.  Returns the header and sets *avail and *vaddr, or NULL. */
static const uint8_t *pclntab_find(const uint8_t *f, size_t size, uint64_t *avail,
				   uint64_t *vaddr)
{
	static const char *const names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)f;
	const ElfW(Shdr) *sh;

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		sh = section(f, size, names[k]);
		if (sh && sh->sh_type == SHT_PROGBITS && pcheader_ok(f + sh->sh_offset, sh->sh_size)) {
			*avail = sh->sh_size;
			*vaddr = sh->sh_addr;
			return f + sh->sh_offset;
		}
	}
	if (!section(f, size, ".go.buildinfo") && !section(f, size, ".note.go.buildid"))
		return NULL; /* not Go: nothing to search for */
	sh = (const ElfW(Shdr) *)(f + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_PROGBITS || !(sh[i].sh_flags & SHF_ALLOC) ||
		    (sh[i].sh_flags & SHF_EXECINSTR) || sh[i].sh_offset + sh[i].sh_size > size)
			continue;
		for (uint64_t o = (8 - (sh[i].sh_offset & 7)) & 7; o + 72 <= sh[i].sh_size; o += 8) {
			const uint8_t *p = f + sh[i].sh_offset + o;

			if (p[0] == 0xf0 + (p[0] & 1) && p[1] == 0xff && p[2] == 0xff && p[3] == 0xff &&
			    pcheader_ok(p, sh[i].sh_size - o)) {
				*avail = sh[i].sh_size - o;
				*vaddr = sh[i].sh_addr + o;
				return p;
			}
		}
	}
	return NULL;
}

/* Go 1.18+ pclntab: header, then (entryoff, funcoff) pairs relative to
 * textStart (link-time; in a PIE its relocation's addend when the file
 * holds 0 there).  Returns 0 and fills fns, or -1. */
static int go_functions(const uint8_t *f, size_t size, struct fns *out)
{
	uint64_t avail, vaddr, nfunc, text, off;
	const uint8_t *p = pclntab_find(f, size, &avail, &vaddr);

	if (!p)
		return -1;
	memcpy(&nfunc, p + 8, 8);
	memcpy(&text, p + 24, 8);
	memcpy(&off, p + 64, 8);
	if (!text)
		text = relative_at(f, size, vaddr + 24);
	if (!text)
		return -1;
	out->v = malloc(nfunc * sizeof(*out->v));
	if (!out->v)
		return -1;
	out->n = 0;
	for (uint64_t i = 0; i < nfunc; i++) {
		uint32_t a, b;

		memcpy(&a, p + off + i * 8, 4);
		memcpy(&b, p + off + (i + 1) * 8, 4);
		if (b <= a)
			continue;
		out->v[out->n].lo = text + a;
		out->v[out->n].hi = text + b;
		out->n++;
	}
	return 0;
}

static int sym_functions(const uint8_t *f, size_t size, struct fns *out)
{
	const ElfW(Shdr) *sh = section(f, size, ".symtab");
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)f;
	const ElfW(Sym) *sym;
	size_t n;

	if (!sh || sh->sh_entsize != sizeof(ElfW(Sym)) || sh->sh_link >= eh->e_shnum)
		return -1;
	sym = (const ElfW(Sym) *)(f + sh->sh_offset);
	n = sh->sh_size / sizeof(*sym);
	out->v = malloc((n ? n : 1) * sizeof(*out->v));
	if (!out->v)
		return -1;
	out->n = 0;
	for (size_t i = 0; i < n; i++) {
		if (ELF64_ST_TYPE(sym[i].st_info) != STT_FUNC || !sym[i].st_size ||
		    sym[i].st_shndx == SHN_UNDEF)
			continue;
		out->v[out->n].lo = sym[i].st_value;
		out->v[out->n].hi = sym[i].st_value + sym[i].st_size;
		out->n++;
	}
	return 0;
}

/* ---- capstone, loaded only on a cache miss ---- */

struct cs_api {
	void *h;
	cs_err (*open)(cs_arch, cs_mode, csh *);
	cs_err (*option)(csh, cs_opt_type, size_t);
	cs_insn *(*malloc_)(csh);
	bool (*disasm_iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
	void (*free_)(cs_insn *, size_t);
	cs_err (*close)(csh *);
};

#ifdef SP_CS_STATIC
/* startpath-exec links capstone statically: a static executable at a fixed
 * address has no relocations to apply, so the decoder costs nothing until a
 * cache miss touches its pages. */
static int cs_load(struct cs_api *cs)
{
	cs->h = NULL;
	cs->open = cs_open;
	cs->option = cs_option;
	cs->malloc_ = cs_malloc;
	cs->disasm_iter = cs_disasm_iter;
	cs->free_ = cs_free;
	cs->close = cs_close;
	return 0;
}
#define dlclose(h) ((void)(h))
#else
static int cs_load(struct cs_api *cs)
{
	cs->h = dlopen("libcapstone.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!cs->h)
		cs->h = dlopen("libcapstone.so", RTLD_NOW | RTLD_LOCAL);
	if (!cs->h)
		return -1;
	cs->open = (cs_err (*)(cs_arch, cs_mode, csh *))dlsym(cs->h, "cs_open");
	cs->option = (cs_err (*)(csh, cs_opt_type, size_t))dlsym(cs->h, "cs_option");
	cs->malloc_ = (cs_insn *(*)(csh))dlsym(cs->h, "cs_malloc");
	cs->disasm_iter = (bool (*)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *))
		dlsym(cs->h, "cs_disasm_iter");
	cs->free_ = (void (*)(cs_insn *, size_t))dlsym(cs->h, "cs_free");
	cs->close = (cs_err (*)(csh *))dlsym(cs->h, "cs_close");
	if (!cs->open || !cs->option || !cs->malloc_ || !cs->disasm_iter || !cs->free_ ||
	    !cs->close) {
		dlclose(cs->h);
		return -1;
	}
	return 0;
}
#endif

/* One decoded instruction of a function. */
struct ins {
	uint64_t a;      /* runtime address */
	uint8_t size;
	uint8_t sys;     /* a SYSCALL */
	uint8_t reloc;   /* may be moved into a stub */
	uint8_t target;  /* a branch in the function lands here */
	int64_t rax;     /* mov $imm -> eax/rax: imm; -1 writes rax otherwise; -2 neither */
};

static int is_rax(x86_reg r)
{
	return r == X86_REG_RAX || r == X86_REG_EAX || r == X86_REG_AX || r == X86_REG_AL ||
	       r == X86_REG_AH;
}

static int interesting(int64_t nr)
{
	return nr >= 0 && nr < 512 && (((const uint64_t *)rq_now->stubs.interest)[nr / 64] >> (nr % 64)) & 1;
}

/* Decode [lo, hi) (runtime addresses) and add its rewritable sites. */
static void scan_function(struct cs_api *cs, csh h, cs_insn *insn, uint64_t lo, uint64_t hi,
			  uint64_t bias, struct sites *out, unsigned *seen, unsigned *skipped)
{
	size_t cap = 256, n = 0, left = hi - lo;
	struct ins *v = malloc(cap * sizeof(*v));
	const uint8_t *code = (const uint8_t *)lo;
	uint64_t addr = lo;
	int indirect = 0;

	if (!v)
		return;
	while (left && cs->disasm_iter(h, &code, &left, &addr, insn)) {
		cs_x86 *x = &insn->detail->x86;
		struct ins *i;
		int ctrl = 0;

		if (n == cap) {
			struct ins *g = realloc(v, (cap *= 2) * sizeof(*v));

			if (!g)
				goto out;
			v = g;
		}
		i = &v[n++];
		memset(i, 0, sizeof(*i));
		i->a = insn->address;
		i->size = (uint8_t)insn->size;
		i->sys = insn->id == X86_INS_SYSCALL;
		i->rax = -2;
		for (int g = 0; g < insn->detail->groups_count; g++) {
			uint8_t grp = insn->detail->groups[g];

			if (grp == X86_GRP_JUMP || grp == X86_GRP_CALL || grp == X86_GRP_RET ||
			    grp == X86_GRP_INT || grp == X86_GRP_IRET ||
			    grp == X86_GRP_BRANCH_RELATIVE)
				ctrl = 1;
		}
		i->reloc = !ctrl && !i->sys && insn->id != X86_INS_SYSENTER;
		for (int k = 0; k < x->op_count; k++) {
			if (x->operands[k].type == X86_OP_MEM && x->operands[k].mem.base == X86_REG_RIP)
				i->reloc = 0;
		}
		if (insn->id == X86_INS_JMP && x->op_count == 1 && x->operands[0].type != X86_OP_IMM)
			indirect = 1;
		if (insn->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
		    (x->operands[0].reg == X86_REG_EAX || x->operands[0].reg == X86_REG_RAX) &&
		    x->operands[1].type == X86_OP_IMM)
			i->rax = x->operands[1].imm;
		else if ((x->op_count >= 1 && x->operands[0].type == X86_OP_REG &&
			  is_rax(x->operands[0].reg) && (x->operands[0].access & CS_AC_WRITE)) || ctrl)
			i->rax = -1;
		for (int k = 0; k < insn->detail->regs_write_count; k++)
			if (is_rax(insn->detail->regs_write[k]) && i->rax == -2)
				i->rax = -1;
	}
	/* Branch targets inside the function. */
	code = (const uint8_t *)lo;
	for (size_t k = 0; k < n; k++) {
		size_t l2 = v[k].size;
		uint64_t a2 = v[k].a;
		const uint8_t *c2 = (const uint8_t *)v[k].a;

		if (!cs->disasm_iter(h, &c2, &l2, &a2, insn))
			continue;
		for (int g = 0; g < insn->detail->groups_count; g++) {
			uint8_t grp = insn->detail->groups[g];
			cs_x86 *x = &insn->detail->x86;

			if ((grp == X86_GRP_JUMP || grp == X86_GRP_CALL) && x->op_count == 1 &&
			    x->operands[0].type == X86_OP_IMM) {
				uint64_t t = (uint64_t)x->operands[0].imm;
				size_t b = 0, e = n;

				/* v is in address order: a binary search (generated
				 * Go functions have 10^5 instructions and branches). */
				while (b < e) {
					size_t mid = b + (e - b) / 2;

					if (v[mid].a < t)
						b = mid + 1;
					else
						e = mid;
				}
				if (b < n && v[b].a == t)
					v[b].target = 1;
			}
		}
	}
	for (size_t k = 0; k < n; k++) {
		struct site s;
		int64_t nr = -1;
		size_t w0 = k, w1 = k; /* window: instructions w0..w1 */
		unsigned len = 0;

		if (!v[k].sys)
			continue;
		(*seen)++;
		/* The number, if a constant is loaded in the same block. */
		for (size_t j = k; j-- > 0;) {
			if (v[j].rax != -2) {
				nr = v[j].rax;
				break;
			}
			if (v[j].target)
				break;
		}
		if (nr >= 0 && !interesting(nr))
			continue; /* never recorded: leave it alone */
		if (indirect) {
			(*skipped)++;
			say(2, "site %#lx: function has an indirect jump; not rewritten",
				 (unsigned long)(v[k].a - bias));
			continue;
		}
		/* Window: moved instructions before the SYSCALL, else after. */
		len = v[k].size;
		if (!v[k].target) {
			for (size_t j = k; j-- > 0 && len < 5 && k - j <= 3;) {
				if (!v[j].reloc || (j + 1 <= k && v[j + 1].target && j + 1 != k))
					break;
				if (v[j + 1].target)
					break;
				len += v[j].size;
				w0 = j;
			}
		}
		if (len < 5) {
			w0 = k;
			len = v[k].size;
			for (size_t j = k + 1; j < n && len < 5 && j - k <= 3; j++) {
				if (!v[j].reloc || v[j].target)
					break;
				len += v[j].size;
				w1 = j;
			}
		}
		if (len < 5 || len > MAX_WIN || v[w0].a + len > hi) {
			(*skipped)++;
			say(2, "site %#lx: no movable window; not rewritten",
				 (unsigned long)(v[k].a - bias));
			continue;
		}
		memset(&s, 0, sizeof(s));
		s.win = v[w0].a - bias;
		s.len = (uint8_t)len;
		s.sys = (uint8_t)(v[k].a - v[w0].a);
		memcpy(s.bytes, (const void *)v[w0].a, len);
		(void)w1;
		if (add_site(out, &s) < 0)
			break;
	}
out:
	free(v);
}

static int fn_cmp(const void *a, const void *b)
{
	const struct fn *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : (x->hi < y->hi ? 1 : x->hi > y->hi ? -1 : 0);
}

static int find_sites(struct exe *ex, struct sites *out, unsigned *seen, unsigned *skipped)
{
	struct cs_api cs;
	struct fns fns = { 0 };
	struct stat st;
	uint8_t *f;
	int fd, rc = -1;
	csh h;
	cs_insn *insn;

	fd = open(ex->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(ElfW(Ehdr))) {
		close(fd);
		return -1;
	}
	f = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f == MAP_FAILED)
		return -1;
	if (go_functions(f, (size_t)st.st_size, &fns) == 0) {
		/* A cgo program: its C code (static glibc's syscall wrappers in a
		 * static one) lies outside Go's text and is only in .symtab. */
		struct fns c = { 0 };
		uint64_t glo = UINT64_MAX, ghi = 0;

		for (size_t i = 0; i < fns.n; i++) {
			glo = fns.v[i].lo < glo ? fns.v[i].lo : glo;
			ghi = fns.v[i].hi > ghi ? fns.v[i].hi : ghi;
		}
		if (sym_functions(f, (size_t)st.st_size, &c) == 0) {
			size_t add = 0;
			struct fn *g;

			for (size_t i = 0; i < c.n; i++)
				if (c.v[i].hi <= glo || c.v[i].lo >= ghi)
					c.v[add++] = c.v[i];
			g = add ? realloc(fns.v, (fns.n + add) * sizeof(*fns.v)) : NULL;
			if (g) {
				memcpy(g + fns.n, c.v, add * sizeof(*c.v));
				fns.v = g;
				fns.n += add;
			}
			free(c.v);
		}
	} else if (sym_functions(f, (size_t)st.st_size, &fns) < 0) {
		say(0, "%s: no Go function table (pclntab) or .symtab: syscall sites not rewritten",
		     ex->path);
		goto out;
	}
	/* .symtab names one function many times (glibc's aliases): decode
	 * each once. */
	qsort(fns.v, fns.n, sizeof(*fns.v), fn_cmp);
	{
		size_t u = 0;

		for (size_t i = 0; i < fns.n; i++)
			if (!u || fns.v[i].lo != fns.v[u - 1].lo)
				fns.v[u++] = fns.v[i];
		fns.n = u;
	}
	if (cs_load(&cs) < 0) {
		say(0, "capstone (libcapstone4) not found: raw syscalls of %s not recorded", ex->path);
		goto out;
	}
	if (cs.open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		dlclose(cs.h);
		goto out;
	}
	cs.option(h, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs.malloc_(h);
	for (size_t i = 0; insn && i < fns.n; i++) {
		uint64_t lo = fns.v[i].lo + ex->bias, hi = fns.v[i].hi + ex->bias;

		if (lo < ex->text_lo || hi > ex->text_hi || hi <= lo)
			continue;
		if (!memmem((const void *)lo, hi - lo, "\x0f\x05", 2))
			continue;
		scan_function(&cs, h, insn, lo, hi, ex->bias, out, seen, skipped);
	}
	if (insn)
		cs.free_(insn, 1);
	cs.close(&h);
	dlclose(cs.h);
	rc = 0;
out:
	free(fns.v);
	munmap(f, (size_t)st.st_size);
	return rc;
}

/* ---- the cache ---- */

static void cache_name(const struct exe *ex, char *buf, size_t len)
{
	snprintf(buf, len, "%s.sites", ex->build_id);
}

/* The plan's name relative to cache_dfd. */
static void cache_relpath(const struct exe *ex, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s.sites", rq_now->cache_sub, *rq_now->cache_sub ? "/" : "",
		 ex->build_id);
}

/* Read the cache in one read(2) and parse it by hand: this runs at every
 * traced exec, and stdio plus sscanf cost more than the rest of it.  Runs
 * once per process (sp_raw_setup, or the launcher): a static buffer, of
 * which only the pages read into are ever touched. */
static char cache_buf[65536];

static int cache_read(const struct exe *ex, struct sites *out)
{
	char name[120], *buf = cache_buf;
	const char *p, *end, *nl;
	struct sp_trust_id id;
	ssize_t n;
	long fd;

	if (rq_now->cache_dfd < 0)
		return -1;
	cache_relpath(ex, name, sizeof(name));
	/* A plan says where to put jumps into the program's text: only one
	 * that this uid wrote is followed. */
	fd = sp_trust_file(rq_now->cache_dfd, name, &id);
	if (fd < 0) {
		if (sp_trust_what(fd))
			say(0, "site cache %s %s (owner uid %u, mode %04o): ignored", name,
			     sp_trust_what(fd), id.uid, id.mode & 07777);
		return -1;
	}
	n = read(fd, buf, sizeof(cache_buf));
	close(fd);
	/* A full buffer may be a longer file: decode instead (it is rewritten). */
	if (n < 18 || (size_t)n == sizeof(cache_buf) || memcmp(buf, SP_PLAN_MAGIC, 18) != 0)
		return -1;
	end = buf + n;
	nl = memchr(buf, '\n', (size_t)n);
	if (!nl)
		return -1;
	for (p = nl + 1; p < end; p = nl + 1) {
		struct site s;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || sp_plan_parse_site(p, nl, &s) < 0 || add_site(out, &s) < 0) {
			out->n = 0;
			return -1;
		}
	}
	return 0;
}

static void cache_write(const struct exe *ex, const struct sites *s)
{
	char name[96], tmp[120];
	struct sp_trust_id id = { 0 };
	FILE *f;
	long dfd;
	int fd;

	if (rq_now->cache_dfd < 0)
		return;
	/* The directory the plan goes into: made, or checked, now. */
	dfd = *rq_now->cache_sub ? sp_trust_dir(rq_now->cache_dfd, rq_now->cache_sub, 1, &id)
				 : rq_now->cache_dfd;
	if (dfd < 0)
		return;
	cache_name(ex, name, sizeof(name));
	snprintf(tmp, sizeof(tmp), ".%s.", name);
	if (sp_trust_tmpname(tmp, sizeof(tmp), tmp) < 0)
		goto out;
	fd = openat((int)dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlinkat((int)dfd, tmp, 0);
		goto out;
	}
	fprintf(f, SP_PLAN_MAGIC "%s %s\n", ex->build_id, ex->path);
	for (size_t i = 0; i < s->n; i++) {
		fprintf(f, "site %llx %u %u ", (unsigned long long)s->v[i].win, s->v[i].len,
			s->v[i].sys);
		for (unsigned k = 0; k < s->v[i].len; k++)
			fprintf(f, "%02x", s->v[i].bytes[k]);
		fputc('\n', f);
	}
	if (fclose(f) != 0 || renameat((int)dfd, tmp, (int)dfd, name) < 0)
		unlinkat((int)dfd, tmp, 0);
out:
	if (dfd != rq_now->cache_dfd)
		close((int)dfd);
}

/* ---- patching ---- */

static int apply(const struct exe *ex, const struct sites *s, unsigned *done)
{

	int text = ex->writable ? STUB_TEXT_RW : ex->nexec == 1 ? STUB_TEXT_SPAN : STUB_TEXT_PAGES;

	if (sp_patch(s->v, s->n, ex->bias, ex->text_lo, ex->text_hi, text, &rq_now->stubs, done) < 0) {
		say(0, "%s: no room for executable stubs within 2 GiB of the text; not rewritten",
		     ex->path);
		return -1;
	}
	return 0;
}

/* Find (or read from the cache) and rewrite ex's sites.  Returns how many
 * were rewritten. */
static unsigned rewrite_exe(struct exe *ex)
{
	struct sites s = { 0 };
	struct timespec t0, t1;
	unsigned seen = 0, skipped = 0, done = 0;
	int hit, prefaulted = 0, applied = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	say(3, "%s: text %#lx-%#lx, build-id %s", ex->path, (unsigned long)ex->text_lo,
		 (unsigned long)ex->text_hi, ex->build_id[0] ? ex->build_id : "none");
	if (!ex->text_lo || !ex->text_hi)
		return 0;
	if (!ex->build_id[0]) {
		/* No build-id: nothing to key a cache on; decode each time. */
		snprintf(ex->build_id, sizeof(ex->build_id), "none");
	}
	hit = strcmp(ex->build_id, "none") != 0 && cache_read(ex, &s) == 0;
	/* A cached plan for a one-mapping text: its pages are written anyway
	 * (if the plan holds); first touched by a write, each faults once. */
	if (hit && s.n && !ex->writable && ex->nexec == 1 && (ex->single || single_threaded()))
		prefaulted = sp_text_prefault(s.v, s.n, ex->bias, ex->text_lo, ex->text_hi) == 0;
	if (hit && sp_plan_mismatches(s.v, s.n, ex->bias, ex->text_lo, ex->text_hi)) {
		say(0, "%s: the cached plan does not match its text; decoded again", ex->path);
		s.n = 0;
		hit = 0;
	}
	if (!hit) {
		if (!memmem((const void *)ex->text_lo, ex->text_hi - ex->text_lo, "\x0f\x05", 2)) {
			s.n = 0;
		} else if (find_sites(ex, &s, &seen, &skipped) < 0) {
			free(s.v);
			return 0;
		}
		if (strcmp(ex->build_id, "none") != 0)
			cache_write(ex, &s);
	}
	if (s.n) {
		if (!ex->single && !single_threaded()) {
			say(0, "%s: more than one thread at load; syscall sites not rewritten", ex->path);
		} else {
			applied = apply(ex, &s, &done) == 0;
		}
	}
	if (prefaulted && !applied)
		sp_text_restore(ex->text_lo, ex->text_hi);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (s.n || seen)
		say(0, "%s: rewrote %u of %zu syscall sites (%s, %u skipped as unsafe), %ld us", ex->path,
		     done, s.n, hit ? "cache" : "decoded", skipped,
		     (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));
	free(s.v);
	return done;
}

unsigned sp_rewrite(const struct sp_rewrite_req *rq)
{
	struct exe ex = { 0 };
	unsigned done;

	rq_now = rq;
	ex.bias = rq->bias;
	ex.text_lo = rq->text_lo;
	ex.text_hi = rq->text_hi;
	ex.path = rq->path;
	ex.file = rq->file;
	ex.writable = rq->text_writable;
	ex.nexec = rq->nexec;
	ex.single = rq->single;
	snprintf(ex.build_id, sizeof(ex.build_id), "%s", rq->build_id ? rq->build_id : "");
	done = rewrite_exe(&ex);
	rq_now = NULL;
	return done;
}
