# tests/ — unit tests (TAP, no servers) run by `make check`. Integration and
# end-to-end tests need the stack and are run by `./agora test`.
UNIT_TESTS = \
	tests/unit/core/test_status \
	tests/unit/core/test_arena \
	tests/unit/config/test_config \
	tests/unit/json/test_json \
	tests/unit/auth/test_auth \
	tests/unit/model/test_mentions
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
tests_unit_core_test_status_SOURCES = tests/unit/tap.h tests/unit/core/test_status.c
tests_unit_core_test_status_LDADD = $(AGORA_LIBS)
tests_unit_core_test_arena_SOURCES = tests/unit/tap.h tests/unit/core/test_arena.c
tests_unit_core_test_arena_LDADD = $(AGORA_LIBS)
tests_unit_config_test_config_SOURCES = tests/unit/tap.h tests/unit/config/test_config.c
tests_unit_config_test_config_LDADD = $(AGORA_LIBS)
tests_unit_json_test_json_SOURCES = tests/unit/tap.h tests/unit/json/test_json.c
tests_unit_json_test_json_LDADD = $(AGORA_LIBS)
tests_unit_auth_test_auth_SOURCES = tests/unit/tap.h tests/unit/auth/test_auth.c
tests_unit_auth_test_auth_CFLAGS = $(AM_CFLAGS) $(JWT_CFLAGS)
tests_unit_auth_test_auth_LDADD = $(AGORA_LIBS)
tests_unit_model_test_mentions_SOURCES = tests/unit/tap.h tests/unit/model/test_mentions.c
tests_unit_model_test_mentions_LDADD = $(AGORA_LIBS)
AM_CPPFLAGS += -I$(top_srcdir)/tests/unit

EXTRA_DIST += tests/integration tests/run_integration.py
