# fcgi/ — agora.fcgi, the REST API behind Apache.
bin_PROGRAMS += fcgi/agora.fcgi
fcgi_agora_fcgi_SOURCES = fcgi/app.h fcgi/main.c fcgi/dispatch.c fcgi/middleware.c \
	fcgi/render.c fcgi/validate.h fcgi/validate.c \
	fcgi/routes/health.c fcgi/routes/openapi.c fcgi/routes/auth.c fcgi/routes/users.c \
	fcgi/routes/channels.c fcgi/routes/members.c fcgi/routes/notifications.c \
	fcgi/routes/graphql.c fcgi/routes/stats.c fcgi/routes/uploads.c fcgi/routes/attention.c
nodist_fcgi_agora_fcgi_SOURCES = fcgi/openapi_doc.c
fcgi_agora_fcgi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/fcgi
fcgi_agora_fcgi_LDADD = $(AGORA_GQL_LIBS) $(AGORA_GRAPHQL_LIBS) $(AGORA_CONTENT_LIBS) $(AGORA_MEDIA_LIBS) $(AGORA_LIBS)
CLEANFILES = fcgi/openapi_doc.c
EXTRA_DIST += fcgi/openapi.json

# the OpenAPI document as one C string (no xxd needed: sed escapes it)
fcgi/openapi_doc.c: $(srcdir)/fcgi/openapi.json
	$(AM_V_GEN)mkdir -p fcgi && { \
	  echo '/* generated from fcgi/openapi.json — do not edit */'; \
	  echo 'extern const char fcgi_openapi_doc[];'; \
	  echo 'const char fcgi_openapi_doc[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $(srcdir)/fcgi/openapi.json; \
	  echo ';'; } > $@-t && mv $@-t $@
