/*
 * tests/fuzz/fuzz_config.c — libFuzzer target: arbitrary bytes as a config
 * file. Loading must either succeed with every key readable or fail with a
 * message that names what is wrong; never crash, leak or read out of bounds.
 */
#include "config/config.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    ag_config_t *cfg = NULL;
    char         err[512] = "";

    if (ag_config_load_text((const char *)data, size, "fuzz.conf", &cfg, err, sizeof(err)) ==
        AG_OK) {
        for (int k = 0; k < AG_CFG__COUNT; k++)
            if (ag_config_str(cfg, (ag_cfg_key_t)k) == NULL)
                abort();  /* every key has a value after a successful load */
        ag_config_free(cfg);
    } else if (err[0] == '\0' || strncmp(err, "config: ", 8) != 0) {
        abort();  /* a failure always explains itself */
    }
    return 0;
}
