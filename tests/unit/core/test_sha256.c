/* tests/unit/core/test_sha256.c — ag_sha256 against FIPS 180-4's and sha256sum's vectors,
 * at every length around the padding boundaries. */
#include "core/core.h"
#include "tap.h"

#include <stdlib.h>

int
main(void)
{
    char hex[65];

    ag_sha256_hex("", 0, hex);
    is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty");
    ag_sha256_hex("abc", 3, hex);
    is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ag_sha256_hex(two, strlen(two), hex);
    is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
           "448 bits: the padding takes a second block");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    ag_sha256_hex(million, 1000000, hex);
    is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
           "a million a's");
    free(million);
    char buf[130];
    memset(buf, 'x', sizeof(buf));
    /* around the padding boundaries, against coreutils' sha256sum */
    FILE  *p = popen("for n in 55 56 63 64 65 119 120 128; do head -c $n /dev/zero | tr '\\0' x "
                      "| sha256sum | cut -c1-64; done",
                     "r");
    size_t lens[] = {55, 56, 63, 64, 65, 119, 120, 128};
    for (size_t i = 0; p && i < sizeof(lens) / sizeof(lens[0]); i++) {
        char want[80] = "";
        if (fgets(want, sizeof(want), p) == NULL)
            break;
        want[64] = '\0';
        ag_sha256_hex(buf, lens[i], hex);
        is_str(hex, want, "%zu bytes, as sha256sum", lens[i]);
    }
    if (p)
        pclose(p);
    return done_testing();
}
