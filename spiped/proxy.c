/*
 * The PROXY protocol header (see proxy.h).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "proxy.h"

/* The v2 signature: \r\n\r\n\0\r\nQUIT\n. */
static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static size_t
v2_local(uint8_t *buf)
{

	memcpy(buf, v2sig, 12);
	buf[12] = 0x20;		/* version 2, LOCAL */
	buf[13] = 0x00;		/* UNSPEC */
	buf[14] = 0;
	buf[15] = 0;
	return (16);
}

/**
 * proxy_header(version, s, buf, len):
 * Build the PROXY header of ${version} for the accepted socket ${s}.
 */
int
proxy_header(int version, int s, uint8_t *buf, size_t *len)
{
	struct sockaddr_storage src, dst;
	socklen_t sl = sizeof(src), dl = sizeof(dst);
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	const struct sockaddr_in *s4, *d4;
	const struct sockaddr_in6 *s6, *d6;
	int n;

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	if (getpeername(s, (struct sockaddr *)&src, &sl) ||
	    getsockname(s, (struct sockaddr *)&dst, &dl))
		return (-1);

	/* Anything but TCP over IP (or mixed families) is unknown. */
	if (src.ss_family != dst.ss_family ||
	    (src.ss_family != AF_INET && src.ss_family != AF_INET6)) {
		if (version == 1) {
			memcpy(buf, "PROXY UNKNOWN\r\n", 15);
			*len = 15;
		} else {
			*len = v2_local(buf);
		}
		return (0);
	}

	s4 = (const struct sockaddr_in *)&src;
	d4 = (const struct sockaddr_in *)&dst;
	s6 = (const struct sockaddr_in6 *)&src;
	d6 = (const struct sockaddr_in6 *)&dst;
	if (version == 1) {
		if (src.ss_family == AF_INET) {
			inet_ntop(AF_INET, &s4->sin_addr, sa, sizeof(sa));
			inet_ntop(AF_INET, &d4->sin_addr, da, sizeof(da));
			n = snprintf((char *)buf, PROXY_MAXLEN,
			    "PROXY TCP4 %s %s %u %u\r\n", sa, da,
			    ntohs(s4->sin_port), ntohs(d4->sin_port));
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, sa, sizeof(sa));
			inet_ntop(AF_INET6, &d6->sin6_addr, da, sizeof(da));
			n = snprintf((char *)buf, PROXY_MAXLEN,
			    "PROXY TCP6 %s %s %u %u\r\n", sa, da,
			    ntohs(s6->sin6_port), ntohs(d6->sin6_port));
		}
		if (n < 0 || n >= PROXY_MAXLEN)
			return (-1);
		*len = (size_t)n;
		return (0);
	}

	memcpy(buf, v2sig, 12);
	buf[12] = 0x21;		/* version 2, PROXY */
	if (src.ss_family == AF_INET) {
		buf[13] = 0x11;	/* TCP over IPv4 */
		buf[14] = 0;
		buf[15] = 12;
		memcpy(buf + 16, &s4->sin_addr, 4);
		memcpy(buf + 20, &d4->sin_addr, 4);
		memcpy(buf + 24, &s4->sin_port, 2);
		memcpy(buf + 26, &d4->sin_port, 2);
		*len = 28;
	} else {
		buf[13] = 0x21;	/* TCP over IPv6 */
		buf[14] = 0;
		buf[15] = 36;
		memcpy(buf + 16, &s6->sin6_addr, 16);
		memcpy(buf + 32, &d6->sin6_addr, 16);
		memcpy(buf + 48, &s6->sin6_port, 2);
		memcpy(buf + 50, &d6->sin6_port, 2);
		*len = 52;
	}
	return (0);
}
