# man/ — the manual pages. agora.conf(5)'s KEYS section is written at build
# time by gen-conf-man from lib/config/config_keys.h, so it cannot drift from
# the table the programs enforce; test_man.sh checks pages against --help.
noinst_PROGRAMS += man/gen-conf-man
man_gen_conf_man_SOURCES = man/gen_conf_man.c
# a build tool, not a product: none of the sanitizer flags
man_gen_conf_man_CFLAGS = -std=gnu11 $(WARN_CFLAGS)
man_gen_conf_man_LDFLAGS =

MAN_PROGRAM_PAGES = man/agora.fcgi.8 man/agora-wsd.8 man/agora-worker.8 man/agora-admin.8
man_MANS = man/agora.conf.5 $(MAN_PROGRAM_PAGES)
CLEANFILES += $(man_MANS) man/keys.roff
EXTRA_DIST += man/agora.conf.5.in man/agora.fcgi.8.in man/agora-wsd.8.in \
	man/agora-worker.8.in man/agora-admin.8.in man/test_man.sh

TESTS += man/test_man.sh

# the paths of this build in the pages (make's variables are expanded here,
# where configure's would still read ${prefix})
man_edit = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@PKGDATADIR@|$(pkgdatadir)|g' \
	-e 's|@BINDIR@|$(bindir)|g'

$(MAN_PROGRAM_PAGES): Makefile
	$(AM_V_GEN)mkdir -p man && $(man_edit) $(srcdir)/$@.in >$@-t && mv $@-t $@
man/agora.fcgi.8: $(srcdir)/man/agora.fcgi.8.in
man/agora-wsd.8: $(srcdir)/man/agora-wsd.8.in
man/agora-worker.8: $(srcdir)/man/agora-worker.8.in
man/agora-admin.8: $(srcdir)/man/agora-admin.8.in

man/keys.roff: man/gen-conf-man$(EXEEXT)
	$(AM_V_GEN)./man/gen-conf-man$(EXEEXT) >$@-t && mv $@-t $@
man/agora.conf.5: $(srcdir)/man/agora.conf.5.in man/keys.roff Makefile
	$(AM_V_GEN)$(man_edit) $(srcdir)/man/agora.conf.5.in \
	  | sed -e '/^@KEYS@$$/{r man/keys.roff' -e 'd;}' >$@-t && mv $@-t $@
