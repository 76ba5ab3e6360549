# casehost: the host program, its plugins, tests and demo.
#   make          build build/casehost and build/plugins/*.so
#   make deps     install the Debian packages the build needs (as root)
#   make demo     the caseworker walk-through on a private PostgreSQL under ./var
#   make check    every test, built with ASan + UBSan, on a throwaway PostgreSQL
#                 (installs the test-only packages first: make test-deps, as root)
#   make bench    performance figures (ratios against a baseline in the same run)
#   make valgrind loader and configuration code under valgrind
#   make install  PREFIX=/usr/local DESTDIR= (BINDIR LIBDIR SYSCONFDIR DATADIR ...)
#   make format   clang-format every C file; make format-check only reports
#
# Packagers: CPPFLAGS, CFLAGS and LDFLAGS (and LDLIBS) from the environment or
# the command line come after ours on every compile and link line, so they
# win. -Werror is only added with DEVELOPER=1 (make check, bench and valgrind
# set it). V=1 prints every command in full.

# Install layout, GNU style. PREFIX=/usr keeps the configuration in /etc.
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
DATADIR      ?= $(PREFIX)/share
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
ifeq ($(PREFIX),/usr)
SYSCONFDIR   ?= /etc
else
SYSCONFDIR   ?= $(PREFIX)/etc
endif
# State (spool files, secret files): never under SYSCONFDIR. PREFIX=/usr: /var.
ifeq ($(PREFIX),/usr)
LOCALSTATEDIR ?= /var
else
LOCALSTATEDIR ?= $(PREFIX)/var
endif
CH_STATEDIR   = $(LOCALSTATEDIR)/lib/casehost
CH_SPOOLDIR   = $(CH_STATEDIR)/spool
CH_PLUGINDIR  = $(LIBDIR)/casehost/plugins
CH_SQLDIR     = $(DATADIR)/casehost/sql
CH_CONFDIR    = $(SYSCONFDIR)/casehost
# The group of the service user that runs dispatch and tick (reads the config).
CONFIG_GROUP ?= casehost
# The service user that owns the spool (make install chowns CH_SPOOLDIR to it as root).
SERVICE_USER ?= casehost
DESTDIR ?=
BUILD   ?= build
VERSION := 0.1.0

CC      ?= cc
PKG_CONFIG ?= pkg-config
PKGS    := libpq libconfig jansson libmicrohttpd libcrypto
PLUGIN_PKGS := libpq libconfig libcrypto jansson libcurl
# Our flags live here, not in CFLAGS: `make CFLAGS=...` replaces CFLAGS whole.
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN    := -Wall -Wextra -Wpedantic
ifeq ($(DEVELOPER),1)
WARN    += -Werror
endif
OPT     ?= -O2 -g
ifeq ($(SAN),1)
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDSAN   := -fsanitize=address,undefined
endif
CH_CFLAGS  = $(CSTD) $(WARN) $(OPT)
CH_LDFLAGS = $(LDSAN)
# A compile line: ours, then $(1) (our -I and -D), then the packager's flags.
cc_flags = $(CH_CFLAGS) -MMD -MP $(1) $(CPPFLAGS) $(CFLAGS)
# A link line: ours, then $(1) (-shared, -rdynamic), then the packager's flags;
# libraries go after the objects, LDLIBS last.
ld_flags = $(CH_LDFLAGS) $(1) $(CFLAGS) $(LDFLAGS)
# A line that compiles and links (test plugins, bench): cc_flags, then this.
ccld_flags = $(CH_LDFLAGS) $(1) $(LDFLAGS)

# pkg-config runs once per package set when the Makefile is read, not per object.
pkg_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pkg_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)
HOST_PKG_CFLAGS   := $(call pkg_cflags,$(PKGS))
HOST_PKG_LIBS     := $(call pkg_libs,$(PKGS))
PLUGIN_PKG_CFLAGS := $(call pkg_cflags,$(PLUGIN_PKGS))
# libcurl's headers only: the plugin opens libcurl when it first sends a
# webhook (outbox/transport.c), so loading the plugin does not map its tree.
PLUGIN_PKG_LIBS   := $(call pkg_libs,$(filter-out libcurl,$(PLUGIN_PKGS))) -ldl
TP_PKG_CFLAGS     := $(call pkg_cflags,libpq libconfig)
TP_PKG_LIBS       := $(call pkg_libs,libpq libconfig)
TEST_PKG_CFLAGS   := $(call pkg_cflags,$(PKGS) check libcrypto libcurl)
TEST_PKG_LIBS     := $(call pkg_libs,$(PKGS) check libcrypto libcurl)
BENCH_PKG_CFLAGS  := $(call pkg_cflags,$(PKGS) libcrypto libcurl)
BENCH_PKG_LIBS    := $(call pkg_libs,$(PKGS) libcrypto libcurl)

# Quiet by default: "  CC  core/main.c", "  LD  build/casehost".
ifeq ($(V),1)
Q :=
else
Q := @
endif
msg = $(if $(filter 1,$(V)),,@printf '  %-3s %s\n' '$(1)' '$(2)')

DEB_PACKAGES := gcc make pkg-config libpq-dev libconfig-dev check libjansson-dev libssl-dev \
                libcurl4-openssl-dev libmicrohttpd-dev \
                postgresql postgresql-contrib chromium chromium-driver python3-selenium
BENCH_PACKAGES := valgrind
# Test-only packages (make test-deps; make check runs it), never installed by
# `make deps` on an agency's server: Request Tracker 5 for the bridge suite.
RT_TEST_PACKAGES := request-tracker5 rt5-db-postgresql rt5-standalone

CORE_SRC  := $(filter-out core/main.c,$(wildcard core/*.c))
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(BUILD)/obj/core/main.o
# A plugin is a directory plugins/NAME/ holding its entry file NAME.c.
PLUGINS   := $(foreach d,$(wildcard plugins/*/),$(if $(wildcard $(d)$(notdir $(d:/=)).c),$(notdir $(d:/=))))
PLUGIN_SO := $(PLUGINS:%=$(BUILD)/plugins/%.so)

TP_VARIANTS := testplug testplug_major testplug_minor testplug_nosym testplug_abi10 \
               testplug_libconfig testplug_collide
TP_SO       := $(TP_VARIANTS:%=$(BUILD)/tests/plugins/%.so)
TP_DEF_testplug       :=
TP_DEF_testplug_major := -DTP_ABI_MAJOR=99
TP_DEF_testplug_minor := -DTP_ABI_MINOR_BUMP=1
TP_DEF_testplug_nosym := -DTP_NO_ENTRY=1
# Built against the frozen ABI 1.0 header: the 1.1 host must still load it.
TP_DEF_testplug_abi10 := -Itests/plugins/abi-1.0
TP_DEF_testplug_libconfig := -DTP_LIBCONFIG_MINOR_BUMP=1
TP_DEF_testplug_collide := -DTP_COLLIDE='"case"'

UNIT_SRC := $(shell find tests/unit -name 'check_*.c')
INTEG_SRC := $(shell find tests/integration -name 'check_*.c')
TEST_BIN := $(UNIT_SRC:tests/%.c=$(BUILD)/tests/%) $(INTEG_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all deps demo demo-stop check test-build bench valgrind install uninstall clean format \
        format-check print-pure-cflags print-pure-dirs
all: $(BUILD)/casehost $(PLUGIN_SO)

# ---------------------------------------------------------------- host ---
$(BUILD)/obj/core/%.o: core/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(call cc_flags,-Icore/include -Icore $(HOST_PKG_CFLAGS) \
	    -DCASEHOST_VERSION='"$(VERSION)"' $(PATH_DEFS) $(CORE_DEFS)) -c $< -o $@

# The host reads its configuration from the SYSCONFDIR it was built with
# (casehost --version shows it): building or installing for another
# SYSCONFDIR recompiles hostcfg.c. The stamp changes only when the value does.
$(BUILD)/obj/core/hostcfg.o: PATH_DEFS = -DCASEHOST_SYSCONFDIR='"$(SYSCONFDIR)"'
$(BUILD)/obj/core/hostcfg.o: $(BUILD)/sysconfdir
$(BUILD)/sysconfdir: FORCE
	@mkdir -p $(@D)
	@echo '$(SYSCONFDIR)' | cmp -s - $@ || echo '$(SYSCONFDIR)' > $@
.PHONY: FORCE

$(BUILD)/libcore.a: $(CORE_OBJ)
	@rm -f $@
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/casehost: $(MAIN_OBJ) $(BUILD)/libcore.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(call ld_flags) -o $@ $^ $(HOST_PKG_LIBS) -ldl -lpthread $(LDLIBS)

# ------------------------------------------------------------- plugins ---
# A plugin's sources sit in folders by layer. The folders named in
# PURE_DIRS_<plugin> hold no I/O: they compile without libpq's and the
# host's include flags, so a database call or a host callback there does
# not compile. The entry file and the other folders see the public header
# only (-Icore/include, never -Icore).
PURE_DIRS_trafficking := cfg rules screening routing cache
PURE_PKGS := libconfig libcrypto jansson
PURE_PKG_CFLAGS := $(call pkg_cflags,$(PURE_PKGS))
PLUGIN_CFLAGS := -fPIC -fvisibility=hidden
define plugin_rules
$(1)_SRC := $$(wildcard plugins/$(1)/*.c plugins/$(1)/*/*.c)
$(1)_OBJ := $$($(1)_SRC:%.c=$$(BUILD)/pobj/%.o)
$(1)_PURE_OBJ := $$(filter $$(foreach d,$$(PURE_DIRS_$(1)),$$(BUILD)/pobj/plugins/$(1)/$$(d)/%),$$($(1)_OBJ))
PURE_INC_$(1) := -Iplugins/$(1) $$(PURE_PKG_CFLAGS)
$$($(1)_PURE_OBJ): PLUGIN_INC := $$(PURE_INC_$(1))
$$(filter-out $$($(1)_PURE_OBJ),$$($(1)_OBJ)): PLUGIN_INC := -Iplugins/$(1) -Icore/include \
    $$(PLUGIN_PKG_CFLAGS)
$$(BUILD)/plugins/$(1).so: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	$$(call msg,LD,$$@)
	$$(Q)$$(CC) $$(call ld_flags,-shared) -o $$@ $$^ $$(PLUGIN_PKG_LIBS) $$(LDLIBS)
# Everything but the entry file, for unit tests.
$$(BUILD)/lib$(1).a: $$(filter-out $$(BUILD)/pobj/plugins/$(1)/$(1).o,$$($(1)_OBJ))
	@rm -f $$@
	$$(call msg,AR,$$@)
	$$(Q)$$(AR) rcs $$@ $$^
endef
$(foreach p,$(PLUGINS),$(eval $(call plugin_rules,$(p))))

$(BUILD)/pobj/plugins/%.o: plugins/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(call cc_flags,$(PLUGIN_CFLAGS) $(PLUGIN_INC)) -c $< -o $@

# The exact flags a pure folder of plugin P compiles with, for
# scripts/check-layers.sh: make -s print-pure-cflags P=trafficking
print-pure-cflags:
	$(if $(filter $(P),$(PLUGINS)),,$(error P='$(P)' is not a plugin (one of: $(PLUGINS))))
	$(info $(call cc_flags,$(PLUGIN_CFLAGS) $(PURE_INC_$(P))))@:
# One line per plugin: its name, then its pure folders.
print-pure-dirs:
	$(foreach p,$(PLUGINS),$(info $(p) $(PURE_DIRS_$(p))))@:

# The contract test plugin, in variants that break the contract on purpose.
$(BUILD)/tests/plugins/%.so: tests/plugins/testplug.c core/include/casehost/plugin.h
	@mkdir -p $(@D)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(call cc_flags,$(PLUGIN_CFLAGS) $(TP_DEF_$*) -Icore/include $(TP_PKG_CFLAGS)) \
	    $(call ccld_flags,-shared) -o $@ $< $(TP_PKG_LIBS) $(LDLIBS)

# --------------------------------------------------------------- tests ---
TEST_INC  = -Itests -Itests/unit -Icore/include -Icore $(addprefix -Iplugins/,$(PLUGINS)) \
            $(TEST_PKG_CFLAGS)
TEST_LIBS = $(PLUGINS:%=$(BUILD)/lib%.a) $(BUILD)/libcore.a $(TEST_PKG_LIBS) -ldl -lm -lpthread $(LDLIBS)

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(call cc_flags,$(TEST_INC)) -c $< -o $@

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(PLUGINS:%=$(BUILD)/lib%.a) $(BUILD)/libcore.a
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(call ld_flags,-rdynamic) -o $@ $< $(TEST_LIBS)

$(BUILD)/tests/integration/%: $(BUILD)/obj/tests/integration/%.o $(BUILD)/obj/tests/testlib.o \
                              $(PLUGINS:%=$(BUILD)/lib%.a) $(BUILD)/libcore.a
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(call ld_flags) -o $@ $< $(BUILD)/obj/tests/testlib.o $(TEST_LIBS)

test-build: $(BUILD)/casehost $(PLUGIN_SO) $(TP_SO) $(TEST_BIN)

# The layer checks and the packaging checks (scripts/check-*.sh) take seconds;
# they run before the tests.
check: deps test-deps
	$(MAKE) --no-print-directory BUILD=build/asan SAN=1 DEVELOPER=1 test-build
	CC='$(CC)' scripts/check-layers.sh
	CC='$(CC)' scripts/check-build.sh build/asan SAN=1 DEVELOPER=1
	scripts/run-tests.sh build/asan

# Loader and configuration code under valgrind (no sanitizers in this build).
valgrind: deps all
	$(MAKE) --no-print-directory BUILD=build/vg OPT="-O0 -g" DEVELOPER=1 test-build
	scripts/valgrind.sh build/vg

# ---------------------------------------------------------------- demo ---
demo: deps all
	scripts/demo.sh

demo-stop:
	@if [ -s var/web/serve.pid ] && kill -0 "$$(cat var/web/serve.pid)" 2>/dev/null; then \
	    kill "$$(cat var/web/serve.pid)"; echo "web server stopped"; fi; rm -f var/web/serve.pid
	scripts/pg.sh stop var/pg

bench: deps all
	$(MAKE) --no-print-directory DEVELOPER=1 bench-build
	scripts/bench.sh $(BUILD)

bench-build: $(BUILD)/casehost $(PLUGIN_SO) $(BUILD)/tests/plugins/testplug.so \
             $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

$(BUILD)/bench/%: bench/%.c $(BUILD)/libcore.a $(PLUGINS:%=$(BUILD)/lib%.a)
	@mkdir -p $(@D)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(call cc_flags,-Icore/include -Icore $(addprefix -Iplugins/,$(PLUGINS)) \
	    $(BENCH_PKG_CFLAGS)) $(call ccld_flags) -o $@ $< $(PLUGINS:%=$(BUILD)/lib%.a) \
	    $(BUILD)/libcore.a $(BENCH_PKG_LIBS) -ldl -lm -lpthread $(LDLIBS)

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

# RT's packages for check_bridge_rt, with RT's database setup preseeded off
# (scripts/rt.sh makes a throwaway one per run). dma is the mail transport RT
# needs, without a daemon; it is skipped where /usr/sbin/sendmail exists,
# since installing it would replace the machine's own MTA.
.PHONY: test-deps
test-deps:
	@missing=""; for p in $(RT_TEST_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	[ -e /usr/sbin/sendmail ] || missing="$$missing dma"; \
	if [ "$$(id -u)" != 0 ]; then \
	    echo "missing test-only Debian packages:$$missing"; \
	    echo "run as root: make test-deps"; exit 1; \
	fi; \
	echo "installing the test-only packages:$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	printf '%s\n' 'request-tracker5 request-tracker5/dbconfig-install boolean false' \
	    'rt5-db-postgresql rt5-db-postgresql/dbconfig-install boolean false' | debconf-set-selections; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null

# ------------------------------------------------------------- install ---
# Plugins in LIBDIR/casehost/plugins, migrations in DATADIR/casehost/sql, the
# configuration in SYSCONFDIR/casehost (never overwritten; the example with
# its paths rewritten to this layout is in DATADIR/casehost/conf-example).
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(CH_PLUGINDIR) $(DESTDIR)$(INCLUDEDIR)/casehost \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(DATADIR)/casehost/conf-example $(DESTDIR)$(CH_CONFDIR)
	install -m 755 $(BUILD)/casehost $(DESTDIR)$(BINDIR)/casehost
	for so in $(PLUGIN_SO); do install -m 644 $$so $(DESTDIR)$(CH_PLUGINDIR)/; done
	install -m 644 core/include/casehost/plugin.h $(DESTDIR)$(INCLUDEDIR)/casehost/plugin.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|^includedir=.*|includedir=$(INCLUDEDIR)|' -e 's|^plugindir=.*|plugindir=$(CH_PLUGINDIR)|' \
	    casehost-plugin.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/casehost-plugin.pc
	cp -R sql $(DESTDIR)$(DATADIR)/casehost/
	cp -R conf/. $(DESTDIR)$(DATADIR)/casehost/conf-example/
	sed -e 's|^\(\s*plugin_dir\s*=\s*\).*|\1"$(CH_PLUGINDIR)";|' \
	    -e 's|^\(\s*sql_dir\s*=\s*\).*|\1"$(CH_SQLDIR)";|' \
	    -e '/^[[:space:]]*#/!s|"\.\./var/spool/|"$(CH_SPOOLDIR)/|g' conf/casehost.cfg \
	    > $(DESTDIR)$(DATADIR)/casehost/conf-example/casehost.cfg
	@# The demo's spool and secrets sit in the tree's var/ (relative to conf/trafficking/);
	@# installed, they would land under SYSCONFDIR: rewritten to LOCALSTATEDIR.
	sed -e '/^[[:space:]]*#/!s|"\.\./\.\./var/spool/|"$(CH_SPOOLDIR)/|g' \
	    -e '/^[[:space:]]*#/!s|"\.\./\.\./var/secrets/|"$(CH_STATEDIR)/secrets/|g' \
	    conf/trafficking/destinations.cfg \
	    > $(DESTDIR)$(DATADIR)/casehost/conf-example/trafficking/destinations.cfg
	@# Owned by the service user, writable by nobody else: the dispatcher refuses anything else.
	install -d -m 0700 $(DESTDIR)$(CH_SPOOLDIR)
	@if [ "$$(id -u)" != 0 ]; then \
	    echo "note: not root: chown $(SERVICE_USER): $(CH_SPOOLDIR) as root (INSTALL)"; \
	elif ! getent passwd $(SERVICE_USER) >/dev/null 2>&1; then \
	    echo "note: user '$(SERVICE_USER)' missing: create it, then chown it onto $(CH_SPOOLDIR) (INSTALL)"; \
	else \
	    chown $(SERVICE_USER): $(DESTDIR)$(CH_SPOOLDIR); \
	fi
	@if [ ! -e $(DESTDIR)$(CH_CONFDIR)/casehost.cfg ]; then \
	    cp -R $(DESTDIR)$(DATADIR)/casehost/conf-example/. $(DESTDIR)$(CH_CONFDIR)/; \
	fi
	@# Configuration: readable by root and the service group only (0640, folders 0750).
	find $(DESTDIR)$(CH_CONFDIR) -type d -exec chmod 0750 {} +
	find $(DESTDIR)$(CH_CONFDIR) -type f -exec chmod 0640 {} +
	@if [ "$$(id -u)" != 0 ]; then \
	    echo "note: not root: chgrp -R $(CONFIG_GROUP) $(CH_CONFDIR) as root (INSTALL)"; \
	elif ! getent group $(CONFIG_GROUP) >/dev/null 2>&1; then \
	    echo "note: group '$(CONFIG_GROUP)' missing: create it, then chgrp -R it onto $(CH_CONFDIR) (INSTALL)"; \
	else \
	    chgrp -R $(CONFIG_GROUP) $(DESTDIR)$(CH_CONFDIR); \
	fi

# The configuration in SYSCONFDIR/casehost is the admin's: it stays.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/casehost $(DESTDIR)$(PKGCONFIGDIR)/casehost-plugin.pc
	rm -rf $(DESTDIR)$(LIBDIR)/casehost $(DESTDIR)$(INCLUDEDIR)/casehost \
	    $(DESTDIR)$(DATADIR)/casehost

# Every C file, folders included (plugins have layer folders).
FORMAT_SRC = $(shell find core plugins tests bench -name '*.[ch]' -type f 2>/dev/null | LC_ALL=C sort)

format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf build

.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
