# lib/ — libagora.a, the library every program links.
noinst_LIBRARIES += lib/libagora.a
lib_libagora_a_SOURCES = \
	lib/core/core.h lib/core/arena.c lib/core/array.c lib/core/buf.c lib/core/mem.c lib/core/status.c \
	lib/core/sha256.c lib/core/util.c \
	lib/log/log.h lib/log/log.c \
	lib/config/config.h lib/config/config_keys.h lib/config/config.c \
	lib/json/json.h lib/json/json.c \
	lib/db/db.h lib/db/db.c \
	lib/cache/cache.h lib/cache/cache.c \
	lib/events/events.h lib/events/events_nats.h lib/events/events.c \
	lib/events/jetstream.c lib/events/vocab.h lib/events/vocab.c \
	lib/http/http.h lib/http/http_int.h lib/http/http.c lib/http/router.c lib/http/request.c \
	lib/auth/auth.h lib/auth/auth.c \
	lib/model/model.h lib/model/model_int.h lib/model/model.c lib/model/access.c \
	lib/model/users.c lib/model/accounts.c lib/model/channels.c lib/model/members.c \
	lib/model/follows.c lib/model/subs.c lib/model/notify.c lib/model/stats.c lib/model/media.c \
	lib/model/attention.c
lib_libagora_a_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS) $(JSONC_CFLAGS) $(HIREDIS_CFLAGS) \
	$(NATS_CFLAGS) $(FCGI_CFLAGS) $(JWT_CFLAGS) $(ARGON2_CFLAGS) $(MONGOC_CFLAGS)

# what a program linking libagora.a needs
AGORA_LIBS = lib/libagora.a $(PQ_LIBS) $(JSONC_LIBS) $(HIREDIS_LIBS) $(NATS_LIBS) \
	$(FCGI_LIBS) $(JWT_LIBS) $(ARGON2_LIBS) $(MONGOC_LIBS)
