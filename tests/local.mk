# tests/ — every C test program of the tree, registered here and nowhere else.
#
# UNIT_TESTS: TAP programs that need no server, run by `make check` (automake's
# TESTS) and by ./agora test before the stack starts. One directory per module
# under tests/unit/, as under lib/.
#
# INTEGRATION_TESTS: TAP programs that need the stack's servers. Built with
# everything else but not in TESTS, so that `make check` stays server-free; a
# Python test of the integration phase runs each against the throw-away stack
# (tests/integration/test_content_store.py, test_model_c.py).
#
# End-to-end, chaos and fuzz tests live in tests/e2e, tests/chaos and
# tests/fuzz (fuzz/local.mk: built only with --enable-fuzzing).
UNIT_TESTS = \
	tests/unit/core/test_status \
	tests/unit/core/test_arena \
	tests/unit/core/test_array \
	tests/unit/core/test_sha256 \
	tests/unit/config/test_config \
	tests/unit/json/test_json \
	tests/unit/events/test_events \
	tests/unit/db/test_db \
	tests/unit/cache/test_cache \
	tests/unit/http/test_router \
	tests/unit/auth/test_auth \
	tests/unit/model/test_access \
	tests/unit/model/test_mentions \
	tests/unit/content/test_content \
	tests/unit/media/test_tus \
	tests/unit/graphql/test_graphql_parse \
	tests/unit/graphql/test_graphql_validate \
	tests/unit/graphql/test_graphql_execute \
	tests/unit/graphql/test_graphql_introspection \
	tests/unit/graphql/test_graphql_doc_cache \
	tests/unit/graphql/test_graphql_limits \
	tests/unit/graphql/test_graphql_overlap \
	tests/unit/graphql/test_graphql_oneof \
	tests/unit/wsd/test_protocol
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

INTEGRATION_TESTS = \
	tests/integration/content/conformance \
	tests/integration/model/test_model
noinst_PROGRAMS += $(INTEGRATION_TESTS)

AM_CPPFLAGS += -I$(top_srcdir)/tests/unit

# lib/core, lib/config, lib/json, lib/events, lib/db, lib/cache, lib/http, lib/auth, lib/model
tests_unit_core_test_status_SOURCES = tests/unit/tap.h tests/unit/core/test_status.c
tests_unit_core_test_status_LDADD = $(AGORA_LIBS)
tests_unit_core_test_arena_SOURCES = tests/unit/tap.h tests/unit/core/test_arena.c
tests_unit_core_test_arena_LDADD = $(AGORA_LIBS)
tests_unit_core_test_array_SOURCES = tests/unit/tap.h tests/unit/core/test_array.c
tests_unit_core_test_array_LDADD = $(AGORA_LIBS)
tests_unit_core_test_sha256_SOURCES = tests/unit/tap.h tests/unit/core/test_sha256.c
tests_unit_core_test_sha256_LDADD = $(AGORA_LIBS)
tests_unit_config_test_config_SOURCES = tests/unit/tap.h tests/unit/config/test_config.c
tests_unit_config_test_config_LDADD = $(AGORA_LIBS)
tests_unit_json_test_json_SOURCES = tests/unit/tap.h tests/unit/json/test_json.c
tests_unit_json_test_json_LDADD = $(AGORA_LIBS)
tests_unit_events_test_events_SOURCES = tests/unit/tap.h tests/unit/events/test_events.c
tests_unit_events_test_events_LDADD = $(AGORA_LIBS)
tests_unit_db_test_db_SOURCES = tests/unit/tap.h tests/unit/db/test_db.c
tests_unit_db_test_db_LDADD = $(AGORA_LIBS)
tests_unit_cache_test_cache_SOURCES = tests/unit/tap.h tests/unit/cache/test_cache.c
tests_unit_cache_test_cache_LDADD = $(AGORA_LIBS)
tests_unit_http_test_router_SOURCES = tests/unit/tap.h tests/unit/http/test_router.c
tests_unit_http_test_router_LDADD = $(AGORA_LIBS)
tests_unit_auth_test_auth_SOURCES = tests/unit/tap.h tests/unit/auth/test_auth.c
tests_unit_auth_test_auth_CFLAGS = $(AM_CFLAGS) $(JWT_CFLAGS)
tests_unit_auth_test_auth_LDADD = $(AGORA_LIBS)
tests_unit_model_test_access_SOURCES = tests/unit/tap.h tests/unit/model/test_access.c
tests_unit_model_test_access_LDADD = $(AGORA_LIBS)
tests_unit_model_test_mentions_SOURCES = tests/unit/tap.h tests/unit/model/test_mentions.c
tests_unit_model_test_mentions_LDADD = $(AGORA_LIBS)

# lib/content (the store's pure parts; the backends: tests/integration/content)
tests_unit_content_test_content_SOURCES = tests/unit/tap.h tests/unit/content/test_content.c
tests_unit_content_test_content_LDADD = $(AGORA_CONTENT_LIBS) $(AGORA_LIBS)

# lib/media (the tus header parsers)
tests_unit_media_test_tus_SOURCES = tests/unit/tap.h tests/unit/media/test_tus.c
tests_unit_media_test_tus_LDADD = $(AGORA_MEDIA_LIBS) $(AGORA_LIBS)

# lib/graphql, the engine; gql_fixture.h is their schema
tests_unit_graphql_test_graphql_parse_SOURCES = tests/unit/tap.h \
	tests/unit/graphql/test_graphql_parse.c
tests_unit_graphql_test_graphql_parse_LDADD = $(AGORA_GRAPHQL_LIBS) $(AGORA_LIBS)
tests_unit_graphql_test_graphql_validate_SOURCES = tests/unit/tap.h \
	tests/unit/graphql/gql_fixture.h tests/unit/graphql/test_graphql_validate.c
tests_unit_graphql_test_graphql_validate_LDADD = $(AGORA_GRAPHQL_LIBS) $(AGORA_LIBS)
tests_unit_graphql_test_graphql_execute_SOURCES = tests/unit/tap.h \
	tests/unit/graphql/gql_fixture.h tests/unit/graphql/test_graphql_execute.c
tests_unit_graphql_test_graphql_execute_LDADD = $(AGORA_GRAPHQL_LIBS) $(AGORA_LIBS)
tests_unit_graphql_test_graphql_introspection_SOURCES = tests/unit/tap.h \
	tests/unit/graphql/gql_fixture.h tests/unit/graphql/test_graphql_introspection.c
tests_unit_graphql_test_graphql_introspection_LDADD = $(AGORA_GRAPHQL_LIBS) $(AGORA_LIBS)
tests_unit_graphql_test_graphql_doc_cache_SOURCES = tests/unit/tap.h \
	tests/unit/graphql/gql_fixture.h tests/unit/graphql/test_graphql_doc_cache.c
tests_unit_graphql_test_graphql_doc_cache_LDADD = $(AGORA_GRAPHQL_LIBS) $(AGORA_LIBS)
tests_unit_graphql_test_graphql_limits_SOURCES = tests/unit/tap.h \
	tests/unit/graphql/gql_fixture.h tests/unit/graphql/introspection_queries.h \
	tests/unit/graphql/test_graphql_limits.c
tests_unit_graphql_test_graphql_limits_LDADD = $(AGORA_GRAPHQL_LIBS) $(AGORA_LIBS)
tests_unit_graphql_test_graphql_overlap_SOURCES = tests/unit/tap.h \
	tests/unit/graphql/test_graphql_overlap.c
tests_unit_graphql_test_graphql_overlap_CPPFLAGS = $(AM_CPPFLAGS) \
	-DOVERLAP_CASES='"$(top_srcdir)/tests/unit/graphql/overlap/cases.txt"'
tests_unit_graphql_test_graphql_overlap_LDADD = $(AGORA_GRAPHQL_LIBS) $(AGORA_LIBS)
tests_unit_graphql_test_graphql_oneof_SOURCES = tests/unit/tap.h \
	tests/unit/graphql/test_graphql_oneof.c
tests_unit_graphql_test_graphql_oneof_LDADD = $(AGORA_GRAPHQL_LIBS) $(AGORA_LIBS)
# the conformance cases and the tools that made them (graphql-js is the reference)
EXTRA_DIST += tests/unit/graphql/overlap

# agora-wsd's pure parsers (wsd/protocol.c, compiled in as the fuzz target does)
tests_unit_wsd_test_protocol_SOURCES = tests/unit/tap.h tests/unit/wsd/test_protocol.c \
	wsd/protocol.c wsd/protocol.h
tests_unit_wsd_test_protocol_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/wsd
tests_unit_wsd_test_protocol_LDADD = $(AGORA_LIBS)

# integration programs
tests_integration_content_conformance_SOURCES = tests/integration/content/conformance.c
tests_integration_content_conformance_LDADD = $(AGORA_CONTENT_LIBS) $(AGORA_LIBS)
tests_integration_model_test_model_SOURCES = tests/unit/tap.h tests/integration/model/test_model.c
tests_integration_model_test_model_CFLAGS = $(AM_CFLAGS) $(NATS_CFLAGS)
tests_integration_model_test_model_LDADD = $(AGORA_LIBS)

EXTRA_DIST += tests/integration tests/run_integration.py
# tests/integration/js/gqlws/node_modules is what its setup.sh installed (npm ci
# from the lockfile), not a source: a tarball carries the lockfile only
dist-hook:
	rm -rf $(distdir)/tests/integration/js/gqlws/node_modules
