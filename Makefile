# atrestfs - plain GNU make.  Knobs, not forks:
#   make                build everything into build/
#   make SAN=1          the same with ASan+UBSan, into build-san/
#   make check          every test: unit, sanitizers, valgrind, real mounts
#   make deps           install the Debian build and test dependencies
#   make install        PREFIX=/usr/local DESTDIR= honoured
#   make demo           init a volume with a generated key file and mount it

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
MANDIR     ?= $(PREFIX)/share/man
# mount(8) looks for helpers in /sbin only, whatever the prefix.
SBINDIR    ?= /sbin
KEYPROVDIR ?= $(LIBDIR)/atrestfs/keyprov
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

ifeq ($(SAN),1)
B := build-san
override CFLAGS += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
override CPPFLAGS += -U_FORTIFY_SOURCE
override LDFLAGS += -fsanitize=address,undefined
else
B := build
endif

LIB_SRC  := $(wildcard crypto/*.c keyprov/*.c fs/*.c)
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

$(B)/tests/test_%: tests/unit/test_%.c $(B)/libatr.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(B)/tests/%: tests/integration/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lcmocka -lpthread

check: all
	$(MAKE) SAN=1 all
	tests/run.sh

demo: all
	scripts/demo.sh

# Debian 12 packages for building, testing and the demo, one line per
# concern so that features add theirs without touching the others.
DEPS_BUILD    := build-essential pkg-config libfuse3-dev fuse3 libssl-dev \
		 libconfig-dev
DEPS_TEST     := libcmocka-dev valgrind attr tar
DEPS_ATREST   :=
DEPS_KEYPROV  :=
DEPS := $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_ATREST) $(DEPS_KEYPROV)
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
	install -d $(DESTDIR)$(SYSTEMDDIR)
	install -m 0644 $(B)/atrestfs@.service $(DESTDIR)$(SYSTEMDDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/atrestfs $(DESTDIR)$(SBINDIR)/mount.atrestfs \
	      $(DESTDIR)$(SBINDIR)/mount.fuse.atrestfs
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(wildcard man/*.8)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard man/*.5)))
	rm -f $(DESTDIR)$(SYSTEMDDIR)/atrestfs@.service
	-rmdir $(DESTDIR)$(KEYPROVDIR) 2>/dev/null

clean:
	rm -rf build build-san

.PHONY: all check demo deps install uninstall clean
.SECONDARY:

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
