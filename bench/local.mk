# bench/ — programs the benchmarks run beside the real ones (peers and ceilings).
noinst_PROGRAMS += bench/fcgi-hello
bench_fcgi_hello_SOURCES = bench/fcgi_hello.c
bench_fcgi_hello_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS)
bench_fcgi_hello_LDADD = $(FCGI_LIBS)
# the WebSocket load generator of the fanout and connections benchmarks (no library)
noinst_PROGRAMS += bench/loadgen
bench_loadgen_SOURCES = bench/loadgen.c
EXTRA_DIST += bench/fanout.py bench/connections.py bench/peers/nchan/nginx.conf.in
EXTRA_DIST += bench/rest.py bench/graphql.py bench/workers.py bench/replay.py bench/benchlib.py bench/report.py \
	bench/tokens.lua bench/gql.lua bench/pct.lua \
	bench/peers/package.json bench/peers/package-lock.json bench/peers/common.js \
	bench/peers/rest-fastify.js bench/peers/gql-common.js bench/peers/gql-graphql-http.js \
	bench/peers/gql-mercurius.js
