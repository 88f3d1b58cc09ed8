# lib/graphql/ — the GraphQL engine, a library of its own above libagora.a.
noinst_LIBRARIES += lib/libagora_graphql.a
lib_libagora_graphql_a_SOURCES = \
	lib/graphql/graphql.h lib/graphql/graphql_int.h \
	lib/graphql/lexer.c lib/graphql/parser.c \
	lib/graphql/schema.c lib/graphql/introspection.c lib/graphql/print_sdl.c \
	lib/graphql/coerce.c lib/graphql/validate.c lib/graphql/collect.c lib/graphql/limits.c \
	lib/graphql/execute.c lib/graphql/request.c lib/graphql/doc_cache.c
lib_libagora_graphql_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)

# what a program using the engine links (before $(AGORA_LIBS))
AGORA_GRAPHQL_LIBS = lib/libagora_graphql.a

# tests/unit/graphql/ — TAP unit tests of the engine; gql_fixture.h is their schema
GRAPHQL_TESTS = \
	tests/unit/graphql/test_graphql_parse \
	tests/unit/graphql/test_graphql_validate \
	tests/unit/graphql/test_graphql_execute \
	tests/unit/graphql/test_graphql_introspection \
	tests/unit/graphql/test_graphql_doc_cache \
	tests/unit/graphql/test_graphql_limits \
	tests/unit/graphql/test_graphql_overlap
check_PROGRAMS += $(GRAPHQL_TESTS)
TESTS += $(GRAPHQL_TESTS)
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
# the conformance cases and the tools that made them (graphql-js is the reference)
EXTRA_DIST += tests/unit/graphql/overlap

# bench/graphql_engine_bench — parse+validate+execute of a channel page, in ns/op
noinst_PROGRAMS += bench/graphql_engine_bench
bench_graphql_engine_bench_SOURCES = bench/graphql_engine_bench.c
bench_graphql_engine_bench_LDADD = $(AGORA_GRAPHQL_LIBS) $(AGORA_LIBS)

# libFuzzer target and seeds; built by hand (see the file's header)
EXTRA_DIST += tests/fuzz/fuzz_graphql.c tests/fuzz/corpus/graphql
