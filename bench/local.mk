# bench/ — programs the benchmarks run beside the real ones (peers and ceilings).
noinst_PROGRAMS += bench/fcgi-hello
bench_fcgi_hello_SOURCES = bench/fcgi_hello.c
bench_fcgi_hello_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS)
bench_fcgi_hello_LDADD = $(FCGI_LIBS)
EXTRA_DIST += bench/rest.py bench/graphql.py bench/workers.py bench/benchlib.py bench/report.py \
	bench/tokens.lua bench/gql.lua bench/pct.lua \
	bench/peers/package.json bench/peers/package-lock.json bench/peers/common.js \
	bench/peers/rest-fastify.js bench/peers/gql-common.js bench/peers/gql-graphql-http.js \
	bench/peers/gql-mercurius.js
