# wsd/ — agora-wsd, the realtime WebSocket daemon (CONTRACT §4).
bin_PROGRAMS += wsd/agora-wsd
wsd_agora_wsd_SOURCES = wsd/wsd.h wsd/protocol.h wsd/protocol.c wsd/main.c wsd/conn.c wsd/status.c \
	wsd/inbox.c wsd/live.c wsd/channels.c wsd/replay.c wsd/users.c wsd/sessions.c wsd/jobs.c \
	wsd/store.c wsd/bus.c wsd/map.c wsd/frame.c wsd/listen.c \
	wsd/gqlws.h wsd/gqlws.c wsd/gqlws_events.c wsd/gqlws_run.c
wsd_agora_wsd_CFLAGS = $(AM_CFLAGS) $(LWS_CFLAGS) $(NATS_CFLAGS) $(JSONC_CFLAGS)
# libev: the loop is ours, handed to lws as a foreign loop (main.c)
wsd_agora_wsd_LDADD = $(AGORA_GQL_LIBS) $(AGORA_GRAPHQL_LIBS) $(AGORA_CONTENT_LIBS) $(AGORA_LIBS) $(LWS_LIBS) $(EV_LIBS) -lpthread
EXTRA_DIST += wsd/agora-wsd.service
