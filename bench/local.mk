# bench/ — programs the benchmarks run beside the real ones (peers and ceilings).
noinst_PROGRAMS += bench/fcgi-hello
bench_fcgi_hello_SOURCES = bench/fcgi_hello.c
bench_fcgi_hello_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS)
bench_fcgi_hello_LDADD = $(FCGI_LIBS)
EXTRA_DIST += bench/rest.py bench/benchlib.py bench/tokens.lua
