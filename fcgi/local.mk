# fcgi/ — agora.fcgi, the REST API behind Apache.
bin_PROGRAMS += fcgi/agora.fcgi
fcgi_agora_fcgi_SOURCES = fcgi/app.h fcgi/main.c fcgi/dispatch.c fcgi/routes/health.c
fcgi_agora_fcgi_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/fcgi
fcgi_agora_fcgi_LDADD = $(AGORA_LIBS)
