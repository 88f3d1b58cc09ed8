# workers/ — agora-worker, the cron jobs (fanout, index, analytics, outbox).
bin_PROGRAMS += workers/agora-worker
workers_agora_worker_SOURCES = workers/worker.h workers/main.c workers/drain.c workers/bus.c \
	workers/event.c workers/fanout.c workers/index.c workers/analytics.c workers/outbox.c
workers_agora_worker_CFLAGS = $(AM_CFLAGS) $(NATS_CFLAGS)
workers_agora_worker_LDADD = $(AGORA_CONTENT_LIBS) $(AGORA_LIBS)
