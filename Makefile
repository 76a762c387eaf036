# Cairn — one non-recursive Makefile.
#
# The tree is the build: every directory below is one library or program,
# its sources are the .c files in it, so adding a file needs no edit here.
#
#   common/*.c          -> $(BUILD)/libcairn.a
#   ring/*.c            -> $(BUILD)/libcairnring.a
#   sandbox/*.c         -> $(BUILD)/libcairnsandbox.a
#   engine/*.c          -> $(BUILD)/libcairnengine.a
#   objectd/*.c         -> $(BUILD)/cairn-objectd
#   proxy/*.c           -> $(BUILD)/cairn-proxy
#   tools/<name>/*.c    -> $(BUILD)/cairn-<name>
#   test/unit/check_X.c -> $(BUILD)/test/check_X
#   test/sandbox/attacks/X.c -> $(BUILD)/test/attacks/X (malicious storlets)
#   test/fuzz/fuzz_X.c  -> $(BUILD)/fuzz/fuzz_X       (make fuzz, clang only)
#   storlets/sdk/*.c    -> $(BUILD)/libcairnstorlet.a  (the storlet C SDK)
#   storlets/<name>/*.c -> $(BUILD)/storlets/<name>    (static example storlets)
#
# Local overrides go in an untracked config.mak (CC=clang, BUILD=..., ...).
# `make help` lists the targets.

-include config.mak

.DEFAULT_GOAL := all

BUILD    ?= build
CC       ?= cc
PYTHON   ?= /usr/bin/python3
DEVELOPER ?= 1
SANITIZE ?=
FUZZ_TIME ?= 30

PKGS := libevent libevent_pthreads jansson rocksdb liburcu libcurl openssl libseccomp zlib

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wformat-security -Wvla -Wwrite-strings -Wpointer-arith \
        -Wcast-align -Wundef -Wno-unused-parameter
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -I. -include common/banned.h \
              $(WARN) $(CFLAGS) $(PKG_CFLAGS) -pthread
LDLIBS   := $(PKG_LIBS) -lrocksdb -pthread -lm

ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=$(SANITIZE)
endif

# ---------------------------------------------------------------- sources
lib_src = $(sort $(wildcard $(1)/*.c))
obj_of  = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_common  := $(BUILD)/libcairn.a
LIB_ring    := $(BUILD)/libcairnring.a
LIB_sandbox := $(BUILD)/libcairnsandbox.a
LIB_engine  := $(BUILD)/libcairnengine.a
# Link order: daemons -> engine -> sandbox -> ring -> common.
ALL_LIBS := $(LIB_engine) $(LIB_sandbox) $(LIB_ring) $(LIB_common)

$(LIB_common):  $(call obj_of,$(call lib_src,common))
$(LIB_ring):    $(call obj_of,$(call lib_src,ring))
$(LIB_sandbox): $(call obj_of,$(call lib_src,sandbox))
$(LIB_engine):  $(call obj_of,$(call lib_src,engine))

# A daemon is linked once its main.c exists; until then its other .c files
# (libraries being built up piece by piece) are compiled and unit-tested.
DAEMONS := $(foreach d,objectd proxy,$(if $(wildcard $(d)/main.c),$(BUILD)/cairn-$(d)))
TOOL_DIRS := $(patsubst tools/%/,%,$(dir $(wildcard tools/*/*.c)))
TOOLS := $(foreach t,$(sort $(TOOL_DIRS)),$(BUILD)/cairn-$(t))
UNIT_SRC := $(sort $(wildcard test/unit/check_*.c))
UNIT_TESTS := $(patsubst test/unit/%.c,$(BUILD)/test/%,$(UNIT_SRC))
UNIT_HELPERS := $(call obj_of,$(sort $(wildcard test/unit/helper_*.c)))
STORLET_C := $(sort $(wildcard storlets/*/*.c))
LIB_storlet := $(BUILD)/libcairnstorlet.a
STORLET_DIRS := $(filter-out sdk,$(patsubst storlets/%/,%,$(dir $(STORLET_C))))
STORLETS := $(foreach s,$(sort $(STORLET_DIRS)),$(BUILD)/storlets/$(s))
STORLET_PY := $(BUILD)/storlets/sdk/cairn_storlet.py
ATTACK_SRC := $(sort $(wildcard test/sandbox/attacks/*.c))
ATTACKS := $(patsubst test/sandbox/attacks/%.c,$(BUILD)/test/attacks/%,$(ATTACK_SRC))
PROGRAMS := $(DAEMONS) $(TOOLS)

ALL_SRC := $(foreach d,common ring sandbox engine objectd proxy,$(call lib_src,$(d))) \
           $(wildcard tools/*/*.c) $(STORLET_C) $(UNIT_SRC) $(wildcard test/unit/helper_*.c)

.PHONY: all
all: $(ALL_LIBS) $(PROGRAMS) $(UNIT_TESTS) $(ATTACKS) $(LIB_storlet) $(STORLETS) $(STORLET_PY)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/cairn-objectd: $(call obj_of,$(call lib_src,objectd)) $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(LDLIBS)

$(BUILD)/cairn-proxy: $(call obj_of,$(call lib_src,proxy)) $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(LDLIBS)

.SECONDEXPANSION:
# Every sandbox is a clone of the launcher, and forks once more: linked
# statically (a third of the mappings to duplicate: a fork and exit cost
# ~85 us instead of ~125 us here) and bound at start (no lazy look-ups
# redone in each). A sanitizer runtime cannot be linked statically.
LAUNCHER := $(BUILD)/cairn-sbx-launch
ifeq ($(SANITIZE),)
$(LAUNCHER): $(call obj_of,$(wildcard tools/sbx-launch/*.c)) $(LIB_sandbox) $(LIB_common)
	$(CC) $(LDFLAGS) -static -Wl,-z,now -o $@ $(filter %.o,$^) $(LIB_sandbox) $(LIB_common) \
	  -ljansson -lseccomp -pthread -lm
DYN_TOOLS := $(filter-out $(LAUNCHER),$(TOOLS))
else
$(LAUNCHER): LDFLAGS += -Wl,-z,now
DYN_TOOLS := $(TOOLS)
endif

$(DYN_TOOLS): $(BUILD)/cairn-%: $$(call obj_of,$$(wildcard tools/%/*.c)) $(ALL_LIBS)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(LDLIBS)

# Unit tests may link the objects of a daemon (but not its main.c), so the
# daemon's internals are testable through their own headers.
DAEMON_OBJS_NOMAIN := $(filter-out %/main.o,$(call obj_of,$(call lib_src,objectd) $(call lib_src,proxy)))
# Naming the test objects in a static pattern keeps them non-intermediate, so
# make neither deletes them nor skips rebuilding a missing one.
$(UNIT_TESTS): $(BUILD)/test/check_%: $(BUILD)/obj/test/unit/check_%.o $(UNIT_HELPERS) $(DAEMON_OBJS_NOMAIN) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(LDLIBS) $(CHECK_LIBS)

# The attack catalog's storlets are hostile programs on purpose: no
# banned.h, no project libraries, one file each.
$(BUILD)/test/attacks/%: test/sandbox/attacks/%.c test/sandbox/attacks/attack.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g -pthread -o $@ $<

# Storlets run inside the sandbox, whose root holds the host's /usr but no
# promise about which libraries are there: they are static ELFs with the SDK,
# Jansson, zlib and libcrypto inside. The SDK depends on nothing else of
# Cairn, and its header is included as "cairn_storlet.h", as a storlet
# developer would. They are never built with sanitizers, even in `make asan`:
# a sanitizer runtime cannot be linked statically and cannot reserve its
# shadow memory under the sandbox's RLIMIT_AS. (The SDK's unit test still
# runs under them: it links the SDK into a sanitized test program.)
$(LIB_storlet): $(call obj_of,$(call lib_src,storlets/sdk))
STORLET_CFLAGS := $(filter-out -fsanitize=% -fno-sanitize-recover=%,$(ALL_CFLAGS)) -Istorlets/sdk
$(BUILD)/obj/storlets/%.o: ALL_CFLAGS := $(STORLET_CFLAGS)
$(STORLETS): $(BUILD)/storlets/%: $$(call obj_of,$$(wildcard storlets/%/*.c)) $(LIB_storlet)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -fsanitize=%,$(LDFLAGS)) -static -o $@ $(filter %.o,$^) $(LIB_storlet) -ljansson -lz -lcrypto -lm -pthread

# The SDK's unit test links the SDK as a storlet does.
$(BUILD)/test/check_storlet_sdk: $(LIB_storlet)
$(BUILD)/test/check_storlet_sdk: ALL_LIBS := $(LIB_storlet) $(ALL_LIBS)

# The Python SDK sits in the build tree too, where cairn-storlet-run finds it.
$(STORLET_PY): storlets/sdk/cairn_storlet.py
	@mkdir -p $(dir $@)
	cp $< $@

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- tests
# `make test` is the one test command: deps, build, every tier.
.PHONY: test quick unit integration asan deps deps-check hdr-check help clean fuzz ring-bench run stop install bench
test: deps
	$(MAKE) -j$$(nproc) all
	$(PYTHON) test/run.py --build $(BUILD) --tier full

quick: all
	$(PYTHON) test/run.py --build $(BUILD) --tier quick

unit: all
	$(PYTHON) test/run.py --build $(BUILD) --tier unit

# One test: make check T=ring   or   make check T=test/integration/foo.py
check: all
	$(PYTHON) test/run.py --build $(BUILD) --tier full --only "$(T)"

asan: deps
	$(MAKE) -j$$(nproc) BUILD=build/asan SANITIZE=address,undefined CFLAGS="-O1 -g" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	$(PYTHON) test/run.py --build build/asan --tier full

deps:
	@sh tools/deps.sh

# A four-node cluster and a proxy on loopback (tools/devcluster/devcluster.py
# says where everything is); state in ./run, or RUN_DIR=...
RUN_DIR ?= run
run: deps
	$(MAKE) -j2 all
	$(PYTHON) tools/devcluster/devcluster.py start --build $(BUILD) --state-dir $(RUN_DIR)

stop:
	$(PYTHON) tools/devcluster/devcluster.py stop --build $(BUILD) --state-dir $(RUN_DIR)

# Cairn (its own cluster, state dir and ports) and the real Swift of the
# swift-saio anchor side by side; JSON and table in build/bench/<timestamp>/.
# BENCH_ARGS=... passes options (tools/bench/bench.py --help), e.g. -d 10s.
bench: all
	$(PYTHON) tools/bench/bench.py --build $(BUILD) $(BENCH_ARGS)

# Binaries, sample configs and systemd units; DESTDIR for packaging. The
# units name the installed paths, so they follow BINDIR and SYSCONFDIR.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
INSTALL_BIN := cairn-proxy cairn-objectd cairn-sbx-launch cairn-ring-builder cairn-get-nodes cairn-storlet-run
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/cairn/objectd
	install -m 755 $(addprefix $(BUILD)/,$(INSTALL_BIN)) $(DESTDIR)$(BINDIR)/
	install -m 644 etc/*.conf.sample $(DESTDIR)$(SYSCONFDIR)/cairn/
	for u in etc/systemd/*.service etc/systemd/*.target; do \
	  sed -e 's|/usr/local/bin/|$(BINDIR)/|g' -e 's|/etc/cairn/|$(SYSCONFDIR)/cairn/|g' \
	    $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u) && \
	  chmod 644 $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done

# Keep the dependency direction of STYLE R1: libraries never include daemons;
# sandbox never includes engine; ring and common include nothing above them.
deps-check:
	@sh tools/deps-check.sh

# Every public header compiles on its own.
hdr-check:
	@for h in common/*.h ring/ring.h sandbox/sbx.h engine/eng*.h storlets/sdk/cairn_storlet.h; do \
	  [ -f $$h ] || continue; \
	  case $$h in *_int.h|common/banned.h) continue;; esac; \
	  printf '#include "%s"\n' $$h | $(CC) $(ALL_CFLAGS) -x c -fsyntax-only - || exit 1; \
	done; echo "hdr-check: ok"

FUZZ_SRC := $(sort $(wildcard test/fuzz/fuzz_*.c))
FUZZ_BIN := $(patsubst test/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
fuzz: deps
	$(MAKE) BUILD=build/fuzz-lib CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" $(ALL_LIBS:$(BUILD)/%=build/fuzz-lib/%) $(DAEMON_OBJS_NOMAIN:$(BUILD)/%=build/fuzz-lib/%)
	@mkdir -p build/fuzz
	@for s in $(FUZZ_SRC); do n=$$(basename $$s .c); \
	  clang $(filter-out -Werror,$(ALL_CFLAGS)) -O1 -g -fsanitize=fuzzer,address,undefined -o build/fuzz/$$n $$s \
	    $(DAEMON_OBJS_NOMAIN:$(BUILD)/%=build/fuzz-lib/%) $(ALL_LIBS:$(BUILD)/%=build/fuzz-lib/%) $(LDLIBS) || exit 1; \
	  mkdir -p test/fuzz/corpus/$$n build/fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_TIME)s"; \
	  build/fuzz/$$n -max_total_time=$(FUZZ_TIME) -artifact_prefix=build/fuzz/$$n- build/fuzz/corpus-$$n test/fuzz/corpus/$$n || exit 1; \
	done

# Ring lookups per second per core (a measurement, never a pass/fail test):
# a two-MD5-block hash path (the default) and a one-block one.
ring-bench: $(BUILD)/cairn-ring-bench
	$(BUILD)/cairn-ring-bench
	$(BUILD)/cairn-ring-bench --object-len 12

help:
	@echo "make            build libraries, daemons, tools and unit tests into $(BUILD)/"
	@echo "make deps       install the missing Debian packages (apt-get)"
	@echo "make run        deps + build + start 4 storage nodes and a proxy on :8080"
	@echo "make stop       stop what make run started"
	@echo "make bench      Cairn vs the real Swift, one table of ratios (tools/bench)"
	@echo "make install    binaries, *.conf.sample, systemd units (DESTDIR, PREFIX)"
	@echo "make test       deps + build + every test tier (unit, integration, CLI)"
	@echo "make quick      unit tests and the fast integration tests"
	@echo "make unit       unit tests only"
	@echo "make check T=X  one test: a unit suite name (ring) or a test file path"
	@echo "make asan       the whole suite under AddressSanitizer + UBSan in build/asan"
	@echo "make fuzz       libFuzzer targets in test/fuzz, FUZZ_TIME seconds each (clang)"
	@echo "make ring-bench ring lookups per second per core (cairn-ring-bench)"
	@echo "make hdr-check  every public header compiles alone"
	@echo "make deps-check library include direction (STYLE R1)"
	@echo "make clean      remove build/"

clean:
	rm -rf build
