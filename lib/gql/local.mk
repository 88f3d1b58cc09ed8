# lib/gql/ — Agora's GraphQL API (schema, resolvers, persisted documents) over
# the engine of lib/graphql, shared by agora.fcgi (queries and mutations over
# HTTP) and agora-wsd (subscriptions over graphql-transport-ws). Programs link
# $(AGORA_GQL_LIBS) before the engine, the content store and $(AGORA_LIBS).
noinst_LIBRARIES += lib/libagora_gql.a
lib_libagora_gql_a_SOURCES = \
	lib/gql/gql.h lib/gql/agora_schema.c lib/gql/resolve_common.c lib/gql/resolve_query.c \
	lib/gql/resolve_mutation.c lib/gql/resolve_nested.c lib/gql/resolve_social.c \
	lib/gql/resolve_subscription.c lib/gql/persisted.c
lib_libagora_gql_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(HIREDIS_CFLAGS) $(NATS_CFLAGS) \
	$(MONGOC_CFLAGS) $(PQ_CFLAGS)
AGORA_GQL_LIBS = lib/libagora_gql.a
