/* packet.c - the few helpers a struct packet needs outside the framing code. */
#include "packet.h"

#include <arpa/inet.h>
#include <sys/socket.h>

const char *packet_addr_str(const struct packet *p, int which_src, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    buf[0] = '\0';
    if (p->af != 4 && p->af != 6)
        return buf; /* a packet frame_decode never filled: nothing to show */
    /* A short buffer yields "" (inet_ntop fails with ENOSPC), never a
     * half-written address. */
    socklen_t n = cap > INET6_ADDRSTRLEN ? INET6_ADDRSTRLEN : (socklen_t)cap;
    if (inet_ntop(p->af == 6 ? AF_INET6 : AF_INET, which_src ? p->src : p->dst, buf, n) == NULL)
        buf[0] = '\0';
    return buf;
}
