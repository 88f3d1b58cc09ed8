# lib/graphql/ — the GraphQL engine, a library of its own above libagora.a.
noinst_LIBRARIES += lib/libagora_graphql.a
lib_libagora_graphql_a_SOURCES = \
	lib/graphql/graphql.h lib/graphql/graphql_int.h \
	lib/graphql/lexer.c lib/graphql/parser.c \
	lib/graphql/schema.c lib/graphql/introspection.c lib/graphql/print_sdl.c \
	lib/graphql/coerce.c lib/graphql/validate_int.h lib/graphql/validate.c \
	lib/graphql/validate_overlap.c lib/graphql/collect.c lib/graphql/limits.c \
	lib/graphql/execute.c lib/graphql/request.c lib/graphql/doc_cache.c
lib_libagora_graphql_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)

# what a program using the engine links (before $(AGORA_LIBS))
AGORA_GRAPHQL_LIBS = lib/libagora_graphql.a

# its unit tests (tests/unit/graphql/) are registered in tests/local.mk

# bench/graphql_engine_bench — parse+validate+execute of a channel page, in ns/op
noinst_PROGRAMS += bench/graphql_engine_bench
bench_graphql_engine_bench_SOURCES = bench/graphql_engine_bench.c
bench_graphql_engine_bench_LDADD = $(AGORA_GRAPHQL_LIBS) $(AGORA_LIBS)

# libFuzzer target and seeds; built by hand (see the file's header)
EXTRA_DIST += tests/fuzz/fuzz_graphql.c tests/fuzz/corpus/graphql
