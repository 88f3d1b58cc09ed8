# tests/fuzz/ — libFuzzer targets, built only with --enable-fuzzing (CC=clang).
# ./agora test runs each for AGORA_FUZZ_SECONDS (30 s) from its seed corpus in
# tests/fuzz/corpus/<target>/; ./agora bench fuzz runs them longer.
EXTRA_DIST += tests/fuzz
if FUZZING
FUZZ_TARGETS = tests/fuzz/fuzz_config tests/fuzz/fuzz_rest_body tests/fuzz/fuzz_graphql \
	tests/fuzz/fuzz_ws_frame tests/fuzz/fuzz_upload
noinst_PROGRAMS += $(FUZZ_TARGETS)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c
tests_fuzz_fuzz_config_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_config_LDADD = $(AGORA_LIBS)
tests_fuzz_fuzz_rest_body_SOURCES = tests/fuzz/fuzz_rest_body.c
tests_fuzz_fuzz_rest_body_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_rest_body_LDADD = $(AGORA_LIBS)
tests_fuzz_fuzz_graphql_SOURCES = tests/fuzz/fuzz_graphql.c
tests_fuzz_fuzz_graphql_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_graphql_LDADD = $(AGORA_GRAPHQL_LIBS) $(AGORA_LIBS)
tests_fuzz_fuzz_ws_frame_SOURCES = tests/fuzz/fuzz_ws_frame.c wsd/protocol.c wsd/protocol.h
tests_fuzz_fuzz_ws_frame_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/wsd
tests_fuzz_fuzz_ws_frame_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ws_frame_LDADD = $(AGORA_LIBS)
tests_fuzz_fuzz_upload_SOURCES = tests/fuzz/fuzz_upload.c lib/media/tus.c lib/media/media.h
tests_fuzz_fuzz_upload_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_upload_LDADD = $(AGORA_LIBS)
fuzz: $(FUZZ_TARGETS)
endif
