#ifndef PROXY_H_
#define PROXY_H_

/*
 * proxy: the PROXY protocol header (HAProxy's proxy-protocol.txt, v1 text
 * and v2 binary) that spiped -d -P sends to its target before any data,
 * so that the service behind learns the address of the real client.
 */

#include <stddef.h>
#include <stdint.h>

/* The longest header built: a v1 TCP6 line. */
#define PROXY_MAXLEN	108

/**
 * proxy_header(version, s, buf, len):
 * Build in ${buf} (PROXY_MAXLEN bytes) the header of the given ${version}
 * (1: text, 2: binary) describing the accepted socket ${s}: its peer is
 * the source and its local address the destination.  A socket that is
 * not TCP over IPv4 or IPv6 is described as "PROXY UNKNOWN" (v1) or with
 * the LOCAL command (v2).  Stores the length in ${len}.  Returns 0, or -1
 * with errno set if the addresses cannot be read.
 */
int proxy_header(int, int, uint8_t *, size_t *);

#endif /* !PROXY_H_ */
