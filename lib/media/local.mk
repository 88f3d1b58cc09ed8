# lib/media/ — uploaded files: libmagic (types), libvips (images), libsodium
# (hashes). Programs that store files link $(AGORA_MEDIA_LIBS) before $(AGORA_LIBS).
noinst_LIBRARIES += lib/libagora_media.a
lib_libagora_media_a_SOURCES = lib/media/media.h lib/media/media.c lib/media/tus.c
lib_libagora_media_a_CFLAGS = $(AM_CFLAGS) $(VIPS_CFLAGS) $(SODIUM_CFLAGS)
AGORA_MEDIA_LIBS = lib/libagora_media.a $(VIPS_LIBS) $(SODIUM_LIBS) $(MAGIC_LIBS)

# its unit tests (tests/unit/media/) are registered in tests/local.mk
