/*
 * bench/fcgi_hello.c — the FastCGI ceiling: the smallest libfcgi program,
 * served by the same Apache and mod_proxy_fcgi as agora.fcgi, so that
 * `./agora bench rest` can say what fraction of it the real API reaches.
 */
#include <fcgiapp.h>

int
main(void)
{
    FCGX_Request r;
    FCGX_Init();
    FCGX_InitRequest(&r, 0, FCGI_FAIL_ACCEPT_ON_INTR);
    while (FCGX_Accept_r(&r) >= 0) {
        FCGX_PutS("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"hello\":\"world\"}",
                  r.out);
        FCGX_Finish_r(&r);
    }
    FCGX_Free(&r, 1);
    return 0;
}
