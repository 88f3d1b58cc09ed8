# apache/ — what `make install` puts on an Apache host besides the programs:
# the systemd units of the FastCGI pool and of agora-wsd, the cron file of
# the workers, the Apache site, an example configuration and the web client.
# The files keep /usr/local/bin (the default prefix) so that they can be
# copied by hand as they are; the installed copies name this build's bindir.
systemdsystemunit_DATA = apache/inst/agora-fcgi.service apache/inst/agora-wsd.service
crond_DATA = apache/inst/agora
apache2sites_DATA = apache/inst/agora.conf
# the JSON error documents Apache serves when the FastCGI pool is down
errorsdir = $(pkgdatadir)/errors
dist_errors_DATA = apache/errors/api-unavailable.json apache/errors/graphql-unavailable.json
examplesdir = $(docdir)/examples
examples_DATA = admin/agora.conf
CLEANFILES += $(systemdsystemunit_DATA) $(crond_DATA) $(apache2sites_DATA) $(examples_DATA)
EXTRA_DIST += apache/agora-fcgi.service apache/agora-vhost.conf.in apache/agora-site-head.conf \
	apache/agora.cron apache/httpd.conf.in admin/agora.conf.in

unit_edit = sed -e 's|/usr/local/bin/|$(bindir)/|g'

apache/inst/agora-fcgi.service: $(srcdir)/apache/agora-fcgi.service Makefile
	$(AM_V_GEN)$(MKDIR_P) apache/inst && $(unit_edit) $(srcdir)/apache/agora-fcgi.service >$@-t && mv $@-t $@
apache/inst/agora-wsd.service: $(srcdir)/wsd/agora-wsd.service Makefile
	$(AM_V_GEN)$(MKDIR_P) apache/inst && $(unit_edit) \
	  -e '/^Description=/a Documentation=man:agora-wsd(8)' \
	  $(srcdir)/wsd/agora-wsd.service >$@-t && mv $@-t $@
apache/inst/agora: $(srcdir)/apache/agora.cron Makefile
	$(AM_V_GEN)$(MKDIR_P) apache/inst && $(unit_edit) -e 's|^PATH=/usr/local/bin:|PATH=$(bindir):|' \
	  $(srcdir)/apache/agora.cron >$@-t && mv $@-t $@
admin/agora.conf: $(srcdir)/admin/agora.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) admin && sed -e 's|@PKGDATADIR@|$(pkgdatadir)|g' \
	  $(srcdir)/admin/agora.conf.in >$@-t && mv $@-t $@

# The site: the head (its ports) and the vhost ./agora also renders, with the
# installed paths. A placeholder left over (one added to the template and not
# here) fails the build rather than Apache at reload.
apache/inst/agora.conf: $(srcdir)/apache/agora-site-head.conf $(srcdir)/apache/agora-vhost.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) apache/inst && cat $(srcdir)/apache/agora-site-head.conf \
	  $(srcdir)/apache/agora-vhost.conf.in | sed -e 's|@VHOST_ADDR@|*|g' \
	  -e 's|@HTTP_PORT@|$${AGORA_HTTP_PORT}|g' -e 's|@WS_PORT@|$${AGORA_WS_PORT}|g' \
	  -e 's|@RUN_DIR@|/run/agora|g' -e 's|@LOG_DIR@/apache-|$${APACHE_LOG_DIR}/agora-|g' \
	  -e 's|@WEB_ROOT@|$(pkgdatadir)/web|g' -e 's|@GRAPHIQL_DIR@|$(pkgdatadir)/graphiql|g' \
	  -e 's|@ERRORS_DIR@|$(errorsdir)|g' \
	  -e '/@SERVER_NAME@/d' >$@-t
	@if grep -n '@[A-Z_]*@' $@-t >&2; then \
	  echo "$@: a placeholder of apache/agora-vhost.conf.in is not rendered (apache/local.mk)" >&2; \
	  rm -f $@-t; exit 1; fi
	@mv $@-t $@

# The web client and GraphiQL are built by ./agora (npm ci, then Vite: the
# only steps that need the npm registry) into web/dist and web/graphiql/dist;
# install copies them when they are there. WEB_DIST=... names another build.
WEB_DIST = $(srcdir)/web/dist
GRAPHIQL_DIST = $(srcdir)/web/graphiql/dist
install-data-local:
	@for d in "$(WEB_DIST):web" "$(GRAPHIQL_DIST):graphiql"; do \
	  src=$${d%:*}; dst="$(DESTDIR)$(pkgdatadir)/$${d##*:}"; \
	  if test -f "$$src/index.html"; then \
	    echo " copying $$src to $$dst"; \
	    $(MKDIR_P) "$$dst" && cp -R "$$src/." "$$dst/" && rm -f "$$dst/.build-stamp" || exit 1; \
	  else \
	    echo "note: $$src is not built (./agora web builds it): not installed"; \
	  fi; \
	done
uninstall-local:
	rm -rf "$(DESTDIR)$(pkgdatadir)/web" "$(DESTDIR)$(pkgdatadir)/graphiql"
