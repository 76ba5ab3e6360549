# casehost: the host program, its plugins, tests and demo.
#   make          build build/casehost and build/plugins/*.so
#   make deps     install the Debian packages the build needs (as root)
#   make demo     the caseworker walk-through on a private PostgreSQL under ./var
#   make check    every test, built with ASan + UBSan, on a throwaway PostgreSQL
#   make bench    performance figures (ratios against a baseline in the same run)
#   make valgrind loader and configuration code under valgrind
#   make install  PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
# The group of the service user that runs dispatch and tick (reads the config).
CONFIG_GROUP ?= casehost
DESTDIR ?=
BUILD   ?= build
VERSION := 0.1.0

CC      ?= cc
PKGS    := libpq libconfig jansson
PLUGIN_PKGS := libpq libconfig libcrypto jansson libcurl
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN    := -Wall -Wextra -Wpedantic -Werror
OPT     ?= -O2 -g
ifeq ($(SAN),1)
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDSAN   := -fsanitize=address,undefined
endif
CFLAGS_BASE = $(CSTD) $(WARN) $(OPT) -MMD -MP
pkg_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pkg_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)

DEB_PACKAGES := gcc make pkg-config libpq-dev libconfig-dev check libjansson-dev libssl-dev \
                libcurl4-openssl-dev \
                postgresql postgresql-contrib
BENCH_PACKAGES := valgrind

CORE_SRC  := $(filter-out core/main.c,$(wildcard core/*.c))
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(BUILD)/obj/core/main.o
# A plugin is a directory plugins/NAME/ holding its entry file NAME.c.
PLUGINS   := $(foreach d,$(wildcard plugins/*/),$(if $(wildcard $(d)$(notdir $(d:/=)).c),$(notdir $(d:/=))))
PLUGIN_SO := $(PLUGINS:%=$(BUILD)/plugins/%.so)

TP_VARIANTS := testplug testplug_major testplug_minor testplug_nosym
TP_SO       := $(TP_VARIANTS:%=$(BUILD)/tests/plugins/%.so)
TP_DEF_testplug       :=
TP_DEF_testplug_major := -DTP_ABI_MAJOR=99
TP_DEF_testplug_minor := -DTP_ABI_MINOR_BUMP=1
TP_DEF_testplug_nosym := -DTP_NO_ENTRY=1

UNIT_SRC := $(shell find tests/unit -name 'check_*.c')
INTEG_SRC := $(shell find tests/integration -name 'check_*.c')
TEST_BIN := $(UNIT_SRC:tests/%.c=$(BUILD)/tests/%) $(INTEG_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all deps demo demo-stop check test-build bench valgrind install uninstall clean format
all: $(BUILD)/casehost $(PLUGIN_SO)

# ---------------------------------------------------------------- host ---
$(BUILD)/obj/core/%.o: core/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) -Icore/include -Icore $(call pkg_cflags,$(PKGS)) \
	    -DCASEHOST_VERSION='"$(VERSION)"' $(CORE_DEFS) -c $< -o $@

$(BUILD)/libcore.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/casehost: $(MAIN_OBJ) $(BUILD)/libcore.a
	$(CC) $(LDSAN) -o $@ $^ $(call pkg_libs,$(PKGS)) -ldl

# ------------------------------------------------------------- plugins ---
# A plugin's sources sit in folders by layer. The folders named in
# PURE_DIRS_<plugin> hold no I/O: they compile without libpq's and the
# host's include flags, so a database call or a host callback there does
# not compile. The entry file and the other folders see the public header
# only (-Icore/include, never -Icore).
PURE_DIRS_trafficking := cfg rules screening routing
PURE_PKGS := libconfig libcrypto jansson
define plugin_rules
$(1)_SRC := $$(wildcard plugins/$(1)/*.c plugins/$(1)/*/*.c)
$(1)_OBJ := $$($(1)_SRC:%.c=$$(BUILD)/pobj/%.o)
$(1)_PURE_OBJ := $$(filter $$(foreach d,$$(PURE_DIRS_$(1)),$$(BUILD)/pobj/plugins/$(1)/$$(d)/%),$$($(1)_OBJ))
$$($(1)_PURE_OBJ): PLUGIN_INC := -Iplugins/$(1) $$(call pkg_cflags,$$(PURE_PKGS))
$$(filter-out $$($(1)_PURE_OBJ),$$($(1)_OBJ)): PLUGIN_INC := -Iplugins/$(1) -Icore/include \
    $$(call pkg_cflags,$$(PLUGIN_PKGS))
$$(BUILD)/plugins/$(1).so: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	$$(CC) $$(LDSAN) -shared -o $$@ $$^ $$(call pkg_libs,$$(PLUGIN_PKGS))
# Everything but the entry file, for unit tests.
$$(BUILD)/lib$(1).a: $$(filter-out $$(BUILD)/pobj/plugins/$(1)/$(1).o,$$($(1)_OBJ))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach p,$(PLUGINS),$(eval $(call plugin_rules,$(p))))

$(BUILD)/pobj/plugins/%.o: plugins/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) -fPIC -fvisibility=hidden $(PLUGIN_INC) -c $< -o $@

# The contract test plugin, in variants that break the contract on purpose.
$(BUILD)/tests/plugins/%.so: tests/plugins/testplug.c core/include/casehost/plugin.h
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden -shared -Icore/include \
	    $(call pkg_cflags,libpq libconfig) $(TP_DEF_$*) -o $@ $< \
	    $(call pkg_libs,libpq libconfig) $(LDSAN)

# --------------------------------------------------------------- tests ---
TEST_CFLAGS = $(CFLAGS_BASE) -Itests -Itests/unit -Icore/include -Icore $(addprefix -Iplugins/,$(PLUGINS)) \
              $(call pkg_cflags,$(PKGS) check libcrypto libcurl)
TEST_LIBS   = $(PLUGINS:%=$(BUILD)/lib%.a) $(BUILD)/libcore.a \
              $(call pkg_libs,$(PKGS) check libcrypto libcurl) -ldl -lm

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(PLUGINS:%=$(BUILD)/lib%.a) $(BUILD)/libcore.a
	@mkdir -p $(@D)
	$(CC) $(LDSAN) -rdynamic -o $@ $< $(TEST_LIBS)

$(BUILD)/tests/integration/%: $(BUILD)/obj/tests/integration/%.o $(BUILD)/obj/tests/testlib.o \
                              $(PLUGINS:%=$(BUILD)/lib%.a) $(BUILD)/libcore.a
	@mkdir -p $(@D)
	$(CC) $(LDSAN) -o $@ $< $(BUILD)/obj/tests/testlib.o $(TEST_LIBS)

test-build: $(BUILD)/casehost $(PLUGIN_SO) $(TP_SO) $(TEST_BIN)

check: deps
	$(MAKE) --no-print-directory BUILD=build/asan SAN=1 test-build
	scripts/run-tests.sh build/asan

# Loader and configuration code under valgrind (no sanitizers in this build).
valgrind: deps all
	$(MAKE) --no-print-directory BUILD=build/vg OPT="-O0 -g" test-build
	scripts/valgrind.sh build/vg

# ---------------------------------------------------------------- demo ---
demo: deps all
	scripts/demo.sh

demo-stop:
	scripts/pg.sh stop var/pg

bench: deps all
	$(MAKE) --no-print-directory bench-build
	scripts/bench.sh $(BUILD)

bench-build: $(BUILD)/casehost $(PLUGIN_SO) $(BUILD)/tests/plugins/testplug.so \
             $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

$(BUILD)/bench/%: bench/%.c $(BUILD)/libcore.a $(PLUGINS:%=$(BUILD)/lib%.a)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) -Icore/include -Icore $(addprefix -Iplugins/,$(PLUGINS)) \
	    $(call pkg_cflags,$(PKGS) libcrypto libcurl) -o $@ $< $(PLUGINS:%=$(BUILD)/lib%.a) \
	    $(BUILD)/libcore.a $(call pkg_libs,$(PKGS) libcrypto libcurl) -ldl -lm

# ---------------------------------------------------------------- deps ---
deps:
	@missing=""; for p in $(DEB_PACKAGES) $(if $(filter bench valgrind,$(MAKECMDGOALS)),$(BENCH_PACKAGES)); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	    echo "missing Debian packages:$$missing"; \
	    echo "run as root: apt-get update && apt-get install -y$$missing"; exit 1; \
	fi; \
	echo "installing:$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null

# ------------------------------------------------------------- install ---
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/casehost/plugins \
	    $(DESTDIR)$(PREFIX)/include/casehost $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/share/casehost $(DESTDIR)$(PREFIX)/etc/casehost
	install -m 755 $(BUILD)/casehost $(DESTDIR)$(PREFIX)/bin/casehost
	for so in $(PLUGIN_SO); do install -m 644 $$so $(DESTDIR)$(PREFIX)/lib/casehost/plugins/; done
	install -m 644 core/include/casehost/plugin.h $(DESTDIR)$(PREFIX)/include/casehost/plugin.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' casehost-plugin.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/casehost-plugin.pc
	cp -R sql $(DESTDIR)$(PREFIX)/share/casehost/
	cp -R conf $(DESTDIR)$(PREFIX)/share/casehost/conf-example
	sed -e 's|^\(\s*plugin_dir\s*=\s*\).*|\1"$(PREFIX)/lib/casehost/plugins";|' \
	    -e 's|^\(\s*sql_dir\s*=\s*\).*|\1"$(PREFIX)/share/casehost/sql";|' conf/casehost.cfg \
	    > $(DESTDIR)$(PREFIX)/share/casehost/conf-example/casehost.cfg
	@if [ ! -e $(DESTDIR)$(PREFIX)/etc/casehost/casehost.cfg ]; then \
	    cp -R $(DESTDIR)$(PREFIX)/share/casehost/conf-example/. $(DESTDIR)$(PREFIX)/etc/casehost/; \
	fi
	@# Configuration: readable by root and the service group only (0640, folders 0750).
	find $(DESTDIR)$(PREFIX)/etc/casehost -type d -exec chmod 0750 {} +
	find $(DESTDIR)$(PREFIX)/etc/casehost -type f -exec chmod 0640 {} +
	@if getent group $(CONFIG_GROUP) >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    chgrp -R $(CONFIG_GROUP) $(DESTDIR)$(PREFIX)/etc/casehost; \
	else \
	    echo "note: group '$(CONFIG_GROUP)' missing: chgrp -R it onto $(PREFIX)/etc/casehost (INSTALL)"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/casehost $(DESTDIR)$(PREFIX)/lib/pkgconfig/casehost-plugin.pc
	rm -rf $(DESTDIR)$(PREFIX)/lib/casehost $(DESTDIR)$(PREFIX)/include/casehost \
	    $(DESTDIR)$(PREFIX)/share/casehost

format:
	clang-format -i core/*.c core/*.h core/include/casehost/*.h plugins/*/*.c plugins/*/*.h \
	    tests/*.c tests/*.h tests/*/*.c bench/*.c

clean:
	rm -rf build

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
