# SPDX-License-Identifier: Apache-2.0
# startpath - where does a container cold start spend its time?
#
#   make            build the library and the CLI into build/
#   make test       install missing test packages (as root), build, run every test
#   make demo       one container start under startpath, then its Start Path Map
#   make bench      ns per hooked call, with and without the library
#   make help       all targets and options
#
# Layout (src/lib and src/exec depend on src/rewrite and src/common only):
#   src/common/    shared by all: ring, records, model, JSON, roles, phases, trust
#   src/profiles/  the phase rules, a file per runtime stack (crun, runc,
#                  containerd, pod), applied by src/common/phases.c
#   src/rewrite/   the syscall-site rewriter (library and launcher): rewrite.h
#   src/lib/       libstartpath.so
#   src/exec/      startpath-exec and its freestanding recorder
#   src/cli/       the startpath command

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib/startpath
INCLUDEDIR ?= $(PREFIX)/include

CC      ?= cc
PKG_CONFIG ?= pkg-config
B       := build
# SELFTIME=1: a timing build of the library in build/selftime (it sums the
# time spent inside it, by where, into each ring's header: scripts/bench-libtime.sh).
ifeq ($(SELFTIME),1)
B       := build/selftime
CFLAGS  += -DSP_SELFTIME
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS_BASE := -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc/common $(WARN) \
	$(shell $(PKG_CONFIG) --cflags libcjson 2>/dev/null)
ifeq ($(DEBUG),1)
OPT := -O0 -g3 -DSP_DEBUG=1
else
OPT := -O2 -g
endif
ifeq ($(ASAN),1)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
SAN :=
endif

CJSON_LIBS := $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null || echo -lcjson)
CURL_LIBS  := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

COMMON_SRC := $(wildcard src/common/*.c) $(wildcard src/profiles/*.c)
REWRITE_SRC := $(wildcard src/rewrite/*.c)
LIB_SRC    := $(wildcard src/lib/*.c) $(REWRITE_SRC)
LIB_ASM    := $(wildcard src/lib/*.S)
CLI_SRC    := $(wildcard src/cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/check_*.c)
PROG_SRC   := $(wildcard tests/progs/*.c)

# Shared sources are compiled twice: PIC for the library (no sanitizers:
# it runs inside other programs), plain for the CLI and the tests.  The
# library takes only what recording needs (the ring, the record packing,
# the environment and directory checks): what it links in is loaded and
# relocated in every traced process.
LIB_COMMON := ring record env trust
COMMON_PIC := $(LIB_COMMON:%=$(B)/pic/src/common/%.o)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o)
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/pic/%.o) $(LIB_ASM:%.S=$(B)/pic/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(B)/obj/%.o)

LIBSO   := $(B)/lib/libstartpath.so
CLI     := $(B)/bin/startpath
EXEC    := $(B)/bin/startpath-exec
UNITS   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
PROGS   := $(PROG_SRC:tests/progs/%.c=$(B)/progs/%) $(B)/progs/ids_static
CTORLIB := $(B)/progs/libctorhook.so

.PHONY: all test unit integration demo bench bench-build install uninstall clean help deps-test deps-demo tsan fuzz soak
all: $(LIBSO) $(CLI) $(EXEC)

$(B)/pic/%.o: %.c $(wildcard include/*.h src/common/*.h src/rewrite/*.h src/lib/*.h src/lib/*.def)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(pic) $<")
	$(Q)$(CC) $(CFLAGS_BASE) -Isrc/rewrite $(OPT) -fPIC -fvisibility=hidden $(CFLAGS) -c $< -o $@
# The patch code runs in startpath-exec's loader before libc: free of it
# everywhere (the library's copy is the same code).
$(B)/pic/src/rewrite/patch.o: src/rewrite/patch.c src/rewrite/rewrite.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(pic) $<")
	$(Q)$(CC) $(CFLAGS_BASE) $(OPT) -fPIC -fvisibility=hidden -ffreestanding -fno-builtin \
		-fno-stack-protector $(CFLAGS) -c $< -o $@

# The assembly includes the C headers' offsets and sizes (raw.h): it must be
# rebuilt with them, or the two disagree (a private stack mapped at one size
# and unmapped at another).
$(B)/pic/%.o: %.S $(wildcard include/*.h src/common/*.h src/rewrite/*.h src/lib/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) -fPIC -c $< -o $@

$(B)/obj/%.o: %.c $(wildcard include/*.h src/common/*.h src/profiles/*.h src/cli/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_BASE) $(OPT) $(SAN) $(CFLAGS) -c $< -o $@

$(LIBSO): $(LIB_OBJ) $(COMMON_PIC) src/lib/libstartpath.map
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -fPIC -Wl,--version-script=src/lib/libstartpath.map -Wl,-z,now \
		-Wl,-z,relro -Wl,-z,noexecstack -o $@ $(LIB_OBJ) $(COMMON_PIC) \
		-ldl -lpthread $(LDFLAGS)

$(CLI): $(CLI_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SAN) -o $@ $(CLI_OBJ) $(COMMON_OBJ) $(CJSON_LIBS) $(CURL_LIBS) -lm $(LDFLAGS)

# startpath-exec: the launcher for static programs, with the freestanding
# recorder (src/exec/rec*.{c,S}, its C library functions, the shared syscall
# decoder and record packing) linked into one flat, position-independent
# image and embedded.
REC_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc/common -Isrc/rewrite -Isrc/exec $(WARN) \
	-O2 -fPIC -fvisibility=hidden -ffreestanding -fno-builtin -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fcf-protection=none -mno-red-zone -fno-jump-tables \
	-ffunction-sections -fdata-sections
REC_OBJ := $(B)/rec/rec.o $(B)/rec/rec_entry.o $(B)/rec/freestanding.o $(B)/rec/sysdecode.o \
	$(B)/rec/record.o $(B)/rec/env.o $(B)/rec/trust.o
$(B)/rec/rec.o $(B)/rec/freestanding.o: $(B)/rec/%.o: src/exec/%.c src/exec/rec.h $(wildcard include/*.h src/common/*.h src/rewrite/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(rec) $<")
	$(Q)$(CC) $(REC_CFLAGS) -c $< -o $@
$(B)/rec/rec_entry.o: src/exec/rec_entry.S src/exec/rec.h $(wildcard include/*.h src/common/*.h)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(REC_CFLAGS) -c $< -o $@
$(B)/rec/sysdecode.o: src/rewrite/sysdecode.c $(wildcard include/*.h src/common/*.h src/rewrite/*.h)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(REC_CFLAGS) -c $< -o $@
$(B)/rec/record.o $(B)/rec/env.o $(B)/rec/trust.o: $(B)/rec/%.o: src/common/%.c $(wildcard include/*.h src/common/*.h)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(REC_CFLAGS) -c $< -o $@
$(B)/rec/rec.elf: $(REC_OBJ) src/exec/rec.lds
	@$(if $(Q),echo "  LD      $@")
	$(Q)ld -nostdlib -static -pie --no-dynamic-linker -z norelro -z noexecstack --gc-sections \
		-e spx_table -T src/exec/rec.lds -o $@ $(REC_OBJ)
	@# The launcher relocates the image; anything but R_X86_64_RELATIVE is a build error.
	$(Q)! readelf -rW $@ | awk 'NR>3 && NF>2 {print $$3}' | grep -v -e '^R_X86_64_RELATIVE$$' -e '^Type$$' -e '^$$' | grep .
$(B)/exec/blob.o: src/exec/blob.S $(B)/rec/rec.elf
	@mkdir -p $(dir $@)
	$(Q)$(CC) -c -DREC_ELF='"$(B)/rec/rec.elf"' $< -o $@
# The rewriter, with capstone linked in statically (SP_CS_STATIC).
$(B)/exec/rewrite.o: src/rewrite/rewrite.c $(wildcard include/*.h src/common/*.h src/rewrite/*.h)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_BASE) $(OPT) -DSP_CS_STATIC -Isrc/rewrite $(CFLAGS) -c $< -o $@
$(B)/exec/launcher.o: src/exec/launcher.c src/exec/load.h src/exec/rec.h $(wildcard include/*.h src/common/*.h src/rewrite/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_BASE) $(OPT) -Isrc/exec -Isrc/rewrite -Wno-format-truncation $(CFLAGS) -c $< -o $@
# The loader and the entry point run before libc is initialised: no libc,
# no stack protector, no implicit memcpy/memset (checked: the only symbols
# they may take from elsewhere are these).
FREE_CFLAGS := -ffreestanding -fno-builtin -fno-stack-protector -fno-tree-loop-distribute-patterns \
	-fno-asynchronous-unwind-tables
FREE_ALLOWED := spx_blob spx_blob_end sp_ring_init sp_ring_bytes sp_ring_capacity _start \
	spx_prepare spx_load spx_cache_apply spx_go spx_env spx_line spx_fast_load spx_fast_state \
	sp_trust_dir sp_trust_file sp_trust_what sp_patch sp_plan_mismatches sp_plan_parse_site
$(B)/exec/load.o $(B)/exec/fast.o: $(B)/exec/%.o: src/exec/%.c src/exec/load.h src/exec/rec.h $(wildcard include/*.h src/common/*.h src/rewrite/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_BASE) -O2 -g $(FREE_CFLAGS) -Isrc/exec -Isrc/rewrite -c $< -o $@
	$(Q)bad=$$(nm -u $@ | awk '{print $$2}' | grep -vxF $(patsubst %,-e %,$(FREE_ALLOWED))); \
		if [ -n "$$bad" ]; then echo "$@ calls outside the loader: $$bad" >&2; rm -f $@; exit 1; fi
# Never sanitized (like the library): it becomes the traced program.
$(B)/exec/ring.o: src/common/ring.c $(wildcard include/*.h src/common/*.h)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_BASE) $(OPT) $(CFLAGS) -c $< -o $@
# The directory checks and the patch run in the loader, before libc:
# freestanding too.
$(B)/exec/trust.o: src/common/trust.c src/common/trust.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_BASE) -O2 -g $(FREE_CFLAGS) -c $< -o $@
$(B)/exec/patch.o: src/rewrite/patch.c src/rewrite/rewrite.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_BASE) -O2 -g $(FREE_CFLAGS) -c $< -o $@
# A static executable, not a PIE: it is exec'd once per launched program, and
# a static, fixed-address image has no loader to run and no relocations to
# apply (a dynamic PIE costs ~0.5 ms more per exec here; capstone alone has
# 77000 relocations).  Its addresses sit well above where static programs
# are linked (0x400000 and up) and below 2 GiB, as non-PIE code needs; a
# program that wants them runs untraced with a message, and startpath-exec
# unmaps itself before the jump.
EXEC_BASE := 0x70000000
$(EXEC): $(B)/exec/launcher.o $(B)/exec/load.o $(B)/exec/fast.o $(B)/exec/rewrite.o $(B)/exec/patch.o \
		$(B)/exec/blob.o $(B)/exec/ring.o $(B)/exec/trust.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -static -no-pie -Wl,-Ttext-segment=$(EXEC_BASE) -Wl,-e,spx_entry -o $@ $^ \
		-l:libcapstone.a $(LDFLAGS)

CLI_LIB_OBJ := $(filter-out $(B)/obj/src/cli/main.o,$(CLI_OBJ))
$(B)/tests/%: tests/unit/%.c $(COMMON_OBJ) $(CLI_LIB_OBJ) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS_BASE) $(OPT) $(SAN) $(CHECK_CFLAGS) -Isrc/cli $(CFLAGS) -o $@ $< \
		$(COMMON_OBJ) $(CLI_LIB_OBJ) \
		$(CJSON_LIBS) $(CURL_LIBS) $(CHECK_LIBS) -lpthread -lm $(LDFLAGS)

$(B)/progs/libctorhook.so: tests/progs/lib/ctorhook.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -g -Wall -fPIC -shared -o $@ $<

$(B)/progs/ctor_main: tests/progs/ctor_main.c $(CTORLIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -g -Wall -o $@ $< -L$(B)/progs -lctorhook -Wl,-rpath,'$$ORIGIN' -lpthread

# A static program (no loader, so no LD_PRELOAD: the launcher's case).
$(B)/progs/ids_static: tests/progs/ids.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -static -o $@ $<

$(B)/progs/%: tests/progs/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -Iinclude \
		-o $@ $< -lpthread

# ---- tests ----

deps-test:
	$(Q)scripts/deps.sh test

deps-demo:
	$(Q)scripts/deps.sh demo

test: deps-test
	$(Q)$(MAKE) --no-print-directory all $(UNITS) $(PROGS) $(CTORLIB) $(if $(wildcard tests/bench/*.c),bench-build)
	$(Q)tests/run.sh

unit: all $(UNITS)
	$(Q)tests/run.sh --unit

# libFuzzer targets (clang): the ring reader and the JSON readers.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ := $(B)/fuzz/fuzz_ring $(B)/fuzz/fuzz_json
$(B)/fuzz/%: tests/fuzz/%.c $(COMMON_SRC)
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(CFLAGS_BASE) -Wno-missing-field-initializers -O1 -g \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(COMMON_SRC) $(CJSON_LIBS) -lm
fuzz: all $(FUZZ) $(B)/progs/errno_check $(B)/progs/forkexec
	$(Q)scripts/fuzz.sh $(FUZZ_SECONDS)

# The ring's tests under ThreadSanitizer (clang: gcc's TSan has no fences).
TSAN_CC ?= clang
tsan: $(B)/tsan/check_ring
	$(Q)$(B)/tsan/check_ring
$(B)/tsan/check_ring: tests/unit/check_ring.c src/common/ring.c src/common/record.c
	@mkdir -p $(dir $@)
	$(Q)$(TSAN_CC) $(CFLAGS_BASE) -Wno-missing-field-initializers -O1 -g -fsanitize=thread $(CHECK_CFLAGS) -o $@ $^ $(CHECK_LIBS) -lpthread

integration: all $(PROGS) $(CTORLIB)
	$(Q)tests/run.sh --integration

# ---- demo and bench ----

demo: deps-demo all
	$(Q)scripts/demo.sh

BENCH := $(B)/bench/hookbench $(B)/bench/ringbench $(B)/bench/execbench $(B)/bench/libtime \
	$(B)/bench/libempty.so
bench-build: $(BENCH)
$(B)/bench/hookbench: tests/bench/hookbench.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<
$(B)/bench/execbench: tests/bench/execbench.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<
$(B)/bench/libempty.so: tests/bench/empty.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -shared -fPIC -o $@ $<
$(B)/bench/libtime: tests/bench/libtime.c include/startpath.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -o $@ $<
$(B)/bench/ringbench: tests/bench/ringbench.c src/common/ring.c src/common/record.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -Isrc/common -o $@ $^ -lpthread

bench: all $(BENCH)
	$(Q)scripts/bench.sh

# 1000 consecutive cold starts under the library (root); failures counted.
soak: deps-demo all
	$(Q)scripts/soak.sh $(or $(SOAK_RUNS),1000)
	$(Q)scripts/soak-watch.sh $(or $(SOAK_WATCH_RUNS),2000)

# ---- install ----

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/startpath
	install -m 0755 $(EXEC) $(DESTDIR)$(BINDIR)/startpath-exec
	install -m 0755 $(LIBSO) $(DESTDIR)$(LIBDIR)/libstartpath.so
	install -m 0644 include/startpath.h $(DESTDIR)$(INCLUDEDIR)/startpath.h

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/startpath $(DESTDIR)$(BINDIR)/startpath-exec \
		$(DESTDIR)$(LIBDIR)/libstartpath.so \
		$(DESTDIR)$(INCLUDEDIR)/startpath.h
	-rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null

clean:
	rm -rf $(B)

help:
	@echo "startpath $(shell sed -n 's/^#define STARTPATH_VERSION "\(.*\)"/\1/p' include/startpath.h)"
	@echo "Targets:"
	@echo "  all        build build/lib/libstartpath.so and build/bin/startpath (default)"
	@echo "  test       install missing Debian packages (as root), build, run every test"
	@echo "  unit       Check unit tests only;  integration: integration tests only"
	@echo "  tsan       the ring's tests under ThreadSanitizer"
	@echo "  soak       1000 consecutive cold starts under the library (SOAK_RUNS=N), then 2000"
	@echo "             under startpath watch: its memory and CPU per start (SOAK_WATCH_RUNS=N)"
	@echo "  fuzz       libFuzzer on the ring reader and the JSON readers (FUZZ_SECONDS=60 each)"
	@echo "  demo       run one container start (crun, busybox) under startpath, print the map"
	@echo "  bench      print ns per hooked call with and without the library"
	@echo "  install    install into DESTDIR PREFIX (now $(PREFIX)); uninstall removes it"
	@echo "  clean      remove build/"
	@echo "Options: V=1 (full command lines)  DEBUG=1 (-O0 -g3)  ASAN=1 (ASan+UBSan for CLI and tests)"
	@echo "         PREFIX=/usr/local DESTDIR="
	@echo "Unit tests under gdb: CK_FORK=no gdb build/tests/check_ring"
