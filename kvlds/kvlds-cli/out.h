#ifndef OUT_H_
#define OUT_H_

struct evbuffer;

/**
 * out_write(buf):
 * Write (blocking) and drain everything in the evbuffer ${buf} to
 * standard output.  Return 0, or -1 after printing why (EPIPE: the
 * reader went away).
 */
int out_write(struct evbuffer *);

#endif /* !OUT_H_ */
