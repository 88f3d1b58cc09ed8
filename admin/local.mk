# admin/ — agora-admin, the operator's tool (setup, migrations, streams, subs, outbox).
bin_PROGRAMS += admin/agora-admin
admin_agora_admin_SOURCES = admin/admin.h admin/main.c admin/migrate.c admin/streams.c admin/subs.c admin/outbox.c \
	admin/setup.c
admin_agora_admin_LDADD = $(AGORA_CONTENT_LIBS) $(AGORA_LIBS)
