# atrestfs - plain GNU make.  Knobs, not forks:
#   make                build everything into build/
#   make SAN=1          the same with ASan+UBSan, into build-san/
#   make check          every test: unit, sanitizers, valgrind, real mounts
#   make unit           the unit tests alone (plain, sanitizers, valgrind),
#                       as any user
#   make deps           install the Debian build and test dependencies
#   make install        PREFIX=/usr/local DESTDIR= honoured
#   make demo           init a volume with a generated key file and mount it
#   make fuzz           every libFuzzer target for FUZZ_SECONDS each (clang),
#                       built into build-fuzz/ (docs/reliability.md)
#   make stress         STRESS_MINUTES (30) of mixed operations, a remount,
#                       fsck, FSX_OPS (1,000,000) differential operations
#                       and 20 untar/rm cycles (docs/reliability.md)
#   make crash100       kill -9 of the daemon at 100 seeded points under
#                       writers, then remount, model check and fsck

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
MANDIR     ?= $(PREFIX)/share/man
# mount(8) looks for helpers in /sbin only, whatever the prefix.
SBINDIR    ?= /sbin
KEYPROVDIR ?= $(LIBDIR)/atrestfs/keyprov
HELPERDIR  ?= $(LIBDIR)/atrestfs/helpers
EXEC_HELPERS := $(addprefix keyprov/helpers/,atrestfs-kmip atrestfs-aws-kms \
		atrestfs-vault-transit atrestfs-azure-keyvault)
SYSTEMDDIR ?= $(LIBDIR)/systemd/system
VERSION    := 0.1.0

CC         ?= cc
CFLAGS     ?= -O2 -g
PKGS       := fuse3 openssl libconfig
# Deferred (=), so "make deps" parses on a machine without pkg-config yet.
PKG_CFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -fstack-protector-strong \
		   -fPIC $(PKG_CFLAGS)
override CPPFLAGS += -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 \
		     -DKEYPROV_DIR=\"$(KEYPROVDIR)\" -DATR_VERSION=\"$(VERSION)\"
override LDFLAGS += -Wl,-z,relro -Wl,-z,now
LDLIBS      = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldl -lpthread

ifeq ($(FUZZ),1)
# libFuzzer needs clang; the library gets coverage and sanitizers, the
# targets link the fuzzer's main (tests/fuzz/).
B := build-fuzz
CC := clang
override CFLAGS += -O1 -fsanitize=fuzzer-no-link,address,undefined \
		   -fno-sanitize-recover=all -fno-omit-frame-pointer
override CPPFLAGS += -U_FORTIFY_SOURCE
override LDFLAGS += -fsanitize=address,undefined
else ifeq ($(SAN),1)
B := build-san
override CFLAGS += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
override CPPFLAGS += -U_FORTIFY_SOURCE
override LDFLAGS += -fsanitize=address,undefined
else
B := build
endif

LIB_SRC  := $(wildcard crypto/*.c keyprov/*.c fs/*.c volume/*.c)
CLI_SRC  := $(wildcard mount-helper/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
UNIT     := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
ITEST    := $(patsubst tests/integration/%.c,$(B)/tests/%,$(wildcard tests/integration/*.c))

all: $(B)/atrestfs $(B)/mount.atrestfs $(B)/atrestfs@.service $(UNIT) $(ITEST)

$(B)/atrestfs@.service: mount-helper/atrestfs@.service.in
	@mkdir -p $(dir $@)
	sed 's|@BINDIR@|$(BINDIR)|g' $< >$@

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/libatr.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(B)/atrestfs: $(CLI_OBJ) $(B)/libatr.a
	$(CC) $(LDFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS)

# One binary: it acts as the mount(8) helper when called mount.*.
$(B)/mount.atrestfs: $(B)/atrestfs
	ln -sf atrestfs $@

$(B)/tests/test_%: tests/unit/test_%.c $(B)/libatr.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libatr.a $(LDLIBS) -lcmocka

$(B)/tests/%: tests/integration/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lcmocka -lpthread

# Workload helpers of the tests/atrest/ suite (atrest_append, atrest_mmap, ...).
ATREST   := $(patsubst tests/atrest/%.c,$(B)/tests/atrest_%,$(wildcard tests/atrest/*.c))
all: $(ATREST)
$(B)/tests/atrest_%: tests/atrest/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

# The workers of "make stress" (tests/stress/stress_ops.c).
STRESS   := $(patsubst tests/stress/%.c,$(B)/tests/%,$(wildcard tests/stress/*.c))
all: $(STRESS)
$(B)/tests/%: tests/stress/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

# Test tools linked with the library (tests/tools/): tool_keydump prints
# the keys t_lock.sh looks for in a daemon's memory; tool_walkgen makes
# the trees of encrypted files t_walk.sh and t_stale.sh walk.
TOOLS    := $(patsubst tests/tools/%.c,$(B)/tests/tool_%,$(wildcard tests/tools/*.c))
all: $(TOOLS)
$(B)/tests/tool_%: tests/tools/%.c $(B)/libatr.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libatr.a $(LDLIBS)

# Key-provider plugins: the loader's test plugins (one source, four
# builds) and the example plugin of atrestfs-keyprov(7), built against the
# installed header path <atrestfs/keyprov.h>.  Each is linked with the
# installed version script, which exports the entry point and nothing else.
PLUGDIR  := $(B)/tests/plugins
PLUGINS  := $(addprefix $(PLUGDIR)/,good.so badabi.so noentry.so misnamed.so example.so)
PLUG_SYM := keyprov/keyprov-plugin.sym
PLUG_CC   = $(CC) $(CPPFLAGS) $(CFLAGS) -shared $(LDFLAGS) \
	    -Wl,--version-script=$(filter %.sym,$^) -o $@

all: $(PLUGINS)
$(UNIT): | $(PLUGINS)

$(PLUGDIR)/good.so: tests/unit/plugins/testplug.c keyprov/keyprov.h $(PLUG_SYM)
	@mkdir -p $(dir $@)
	$(PLUG_CC) $<
$(PLUGDIR)/badabi.so: tests/unit/plugins/testplug.c keyprov/keyprov.h $(PLUG_SYM)
	@mkdir -p $(dir $@)
	$(PLUG_CC) -DPLUG_NAME=\"badabi\" -DPLUG_ABI=99 $<
$(PLUGDIR)/noentry.so: tests/unit/plugins/testplug.c keyprov/keyprov.h $(PLUG_SYM)
	@mkdir -p $(dir $@)
	$(PLUG_CC) -DPLUG_NAME=\"noentry\" -DPLUG_NO_ENTRY $<
$(PLUGDIR)/misnamed.so: tests/unit/plugins/testplug.c keyprov/keyprov.h $(PLUG_SYM)
	@mkdir -p $(dir $@)
	$(PLUG_CC) -DPLUG_NAME=\"other\" $<
$(B)/include/atrestfs/%: keyprov/%
	@mkdir -p $(dir $@)
	cp $< $@
$(PLUGDIR)/example.so: keyprov/example/example.c $(B)/include/atrestfs/keyprov.h \
		       $(B)/include/atrestfs/keyprov-plugin.sym
	@mkdir -p $(dir $@)
	$(PLUG_CC) -I$(B)/include $<

# The libFuzzer targets, one per parser of untrusted bytes, and the
# generator of their seed corpora (tests/fuzz/gen_corpus.c).
FUZZ_TGT := $(patsubst tests/fuzz/fuzz_%.c,$(B)/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
$(B)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(B)/libatr.a
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(B)/libatr.a $(LDLIBS)
$(B)/gen_corpus: tests/fuzz/gen_corpus.c $(wildcard tests/fuzz/*.h) $(B)/libatr.a
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libatr.a $(LDLIBS)
fuzz-build:
	$(MAKE) FUZZ=1 fuzz-targets
fuzz-targets: $(FUZZ_TGT) $(B)/gen_corpus
fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_SECONDS)
# Rewrite the committed seeds from the generator (review the diff).
fuzz-corpus: fuzz-build
	build-fuzz/gen_corpus tests/fuzz/corpus

# The builds the tests need use every CPU: CI has 20 minutes, and on two
# cores this saves about 50 s of them.
NPROC := $(shell nproc 2>/dev/null || echo 1)

test-builds:
	$(MAKE) -j$(NPROC) all
	$(MAKE) -j$(NPROC) SAN=1 all

check: test-builds
	$(MAKE) -j$(NPROC) FUZZ=1 fuzz-targets
	tests/run.sh

unit: test-builds
	tests/run.sh --unit

demo: all
	scripts/demo.sh

# Debian 12 packages for building, testing and the demo, one line per
# concern so that features add theirs without touching the others.
DEPS_BUILD    := build-essential pkg-config libfuse3-dev fuse3 libssl-dev \
		 libconfig-dev
DEPS_TEST     := libcmocka-dev valgrind attr tar rsync systemd man-db groff-base \
		 strace
# clang and its runtimes (libclang_rt.fuzzer) for the libFuzzer targets.
DEPS_FUZZ     := clang libclang-rt-14-dev
DEPS_ATREST   := logrotate sqlite3 gdb util-linux procps
DEPS_KEYPROV  := softhsm2 opensc python3-pykmip openssl
DEPS := $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_FUZZ) $(DEPS_ATREST) $(DEPS_KEYPROV)
deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEPS)

install: $(B)/atrestfs $(B)/atrestfs@.service
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(KEYPROVDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(B)/atrestfs $(DESTDIR)$(BINDIR)/atrestfs
	ln -sf $(BINDIR)/atrestfs $(DESTDIR)$(SBINDIR)/mount.atrestfs
	ln -sf $(BINDIR)/atrestfs $(DESTDIR)$(SBINDIR)/mount.fuse.atrestfs
	install -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -d $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(PREFIX)/include/atrestfs
	install -m 0644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 keyprov/keyprov.h keyprov/keyprov-plugin.sym \
		$(DESTDIR)$(PREFIX)/include/atrestfs/
	# Key helpers of the exec provider (never on a volume: atrestfs-keyprov(7)).
	install -d $(DESTDIR)$(HELPERDIR)
	install -m 0755 $(EXEC_HELPERS) $(DESTDIR)$(HELPERDIR)/
	install -m 0644 keyprov/helpers/atrestfs-exec-lib.sh $(DESTDIR)$(HELPERDIR)/
	install -d $(DESTDIR)$(SYSTEMDDIR)
	install -m 0644 $(B)/atrestfs@.service $(DESTDIR)$(SYSTEMDDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/atrestfs $(DESTDIR)$(SBINDIR)/mount.atrestfs \
	      $(DESTDIR)$(SBINDIR)/mount.fuse.atrestfs
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(wildcard man/*.8)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard man/*.5)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(wildcard man/*.7)))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/include/atrestfs/,keyprov.h keyprov-plugin.sym)
	rm -f $(DESTDIR)$(SYSTEMDDIR)/atrestfs@.service
	rm -f $(addprefix $(DESTDIR)$(HELPERDIR)/,$(notdir $(EXEC_HELPERS)) atrestfs-exec-lib.sh)
	-rmdir $(DESTDIR)$(HELPERDIR) 2>/dev/null
	-rmdir $(DESTDIR)$(KEYPROVDIR) 2>/dev/null

# Debian binary package in the parent directory (needs debhelper).
deb:
	dpkg-buildpackage -us -uc -b

# Benchmarks against gocryptfs, securefs, passthrough_ll and the raw backing
# fs (scripts/bench.sh; knobs BENCH_QUICK, BENCH_ROUNDS, BENCH_BACKING,
# BENCH_OUT there).  Not part of "make check": it is long and measures.
DEPS_BENCH    := gocryptfs securefs fio util-linux python3 openssl
bench: all
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEPS_BENCH) >/dev/null
	scripts/bench.sh

# A tree of 1,000,000 files on tmpfs walked (find, stat, ls -lR, tar c) through a
# daemon whose RLIMIT_NOFILE is 4,096 (tests/integration/t_walk.sh, which
# make check runs with 50,000).  Needs root and about 3 GB of memory.
walk1m: all
	WALK_FILES=1000000 bash tests/integration/t_walk.sh

# The kill -9 campaign at 100 seeded points (tests/atrest/t_crash.sh, which
# make check runs with 20); SEED=N picks another run.  Needs root.
crash100: all
	POINTS=100 bash tests/atrest/t_crash.sh

# Stress, differential and endurance runs (tests/stress/stress.sh; knobs
# STRESS_MINUTES, STRESS_PROCS, FSX_OPS, CYCLES, CYCLE_FILES, CYCLES_ARENAS
# there).  Not part of "make check": it runs for most of an hour.
stress: all
	tests/stress/stress.sh

clean:
	rm -rf build build-san build-fuzz

.PHONY: all check unit test-builds demo deps install uninstall deb clean bench walk1m crash100 stress fuzz \
	fuzz-build fuzz-targets fuzz-corpus
.SECONDARY:

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
