#ifndef OUT_H_
#define OUT_H_

struct evbuffer;

/**
 * out_write(buf):
 * Write (blocking) and drain everything in the evbuffer ${buf} to
 * standard output.  Return 0, or -1 after printing why (silently if
 * the reader went away: EPIPE).
 */
int out_write(struct evbuffer *);

#endif /* !OUT_H_ */
