/*
 * lib/core/mem.c — how much memory the process holds, and giving it back.
 * A FastCGI worker serves requests one after another for days: a request
 * that needed hundreds of megabytes must neither take the worker down nor
 * leave it holding them afterwards. glibc keeps freed heap memory for reuse
 * and AddressSanitizer keeps it in quarantine, so both are asked explicitly.
 */
#include "core/core.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define AG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AG_ASAN 1
#endif
#endif

#ifdef AG_ASAN
/* libasan's allocator interface (gcc ships no header for it) */
size_t __sanitizer_get_current_allocated_bytes(void);
void   __sanitizer_purge_allocator(void);

size_t
ag_mem_in_use(void)
{
    /* resident size under ASan is mostly shadow and quarantine: live bytes say more */
    return __sanitizer_get_current_allocated_bytes();
}

void
ag_mem_release(void)
{
    __sanitizer_purge_allocator(); /* drains the quarantine, unmaps free memory */
}
#else
size_t
ag_mem_in_use(void)
{
    static int  fd = -2; /* kept open: one pread per reading */
    static long page;
    char        buf[96];
    ssize_t     n;
    long        size, resident;

    if (fd == -2) {
        fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
        page = sysconf(_SC_PAGESIZE);
    }
    if (fd < 0 || (n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
        return 0;
    buf[n] = '\0';
    char *end;
    size = strtol(buf, &end, 10);
    resident = strtol(end, NULL, 10);
    (void)size;
    return resident > 0 ? (size_t)resident * (size_t)page : 0;
}

void
ag_mem_release(void)
{
    malloc_trim(0); /* also returns free pages inside the heap, not only its top */
}
#endif

void
ag_mem_map_large(size_t bytes)
{
#ifndef AG_ASAN
    mallopt(M_MMAP_THRESHOLD, (int)bytes);
#else
    (void)bytes;
#endif
}
