#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "kvclient/kvclient.h"
#include "log/log.h"

#include "cmd.h"
#include "out.h"

/* RANGE max bytes per request (the server may cap it lower). */
#define RANGE_MAXBYTES	(256 * 1024)

/* CMD_PLAIN RANGE: write the output once this much is waiting. */
#define RANGE_FLUSH	(64 * 1024)

/* The commands, their argument counts and argument roles. */
static const struct cmdinfo {
	const char *name;
	enum cmd_op op;
	size_t minargs;
	size_t maxargs;
	const char *usage;
} cmds[] = {
	{ "get", CMD_GET, 1, 1, "get KEY" },
	{ "set", CMD_SET, 2, 2, "set KEY VALUE" },
	{ "add", CMD_ADD, 2, 2, "add KEY VALUE" },
	{ "modify", CMD_MODIFY, 2, 2, "modify KEY VALUE" },
	{ "cas", CMD_CAS, 3, 3, "cas KEY OLD NEW" },
	{ "delete", CMD_DELETE, 1, 1, "delete KEY" },
	{ "cad", CMD_CAD, 2, 2, "cad KEY OLD" },
	{ "range", CMD_RANGE, 0, 2, "range [START [END]]" },
	{ "params", CMD_PARAMS, 0, 0, "params" }
};

/* One command in flight. */
struct exec {
	enum cmd_op op;
	enum enc_mode mode;
	int style;
	struct evbuffer *out;
	struct evbuffer *pairs;	/* CMD_BATCH RANGE output, before the
				   header; CMD_PLAIN: ${out} itself. */
	uint32_t count;		/* RANGE pairs seen. */
	int failed;		/* RANGE: memory ran out while printing. */
	cmd_done_cb *cb;
	void *cookie;
};

/* Decode ${w} into ${buf} (256 bytes) as argument ${what} of ${ci}. */
static int
decode(enum enc_mode mode, const struct cmd_word *w, uint8_t *buf,
    size_t *len, const char *what, char *err, size_t errlen)
{
	const char *why;

	if (enc_decode(mode, w->s, w->len, buf, 255, len,
	    &why)) {
		snprintf(err, errlen, "%s \"%.*s\": %s", what,
		    (int)(w->len > 64 ? 64 : w->len), w->s, why);
		return (-1);
	}
	return (0);
}

/**
 * cmd_parse(mode, words, nwords, cmd, err, errlen):
 * Parse the command ${words} into ${cmd}.  Return 0, or -1 with a
 * message in ${err}.
 */
int
cmd_parse(enum enc_mode mode, const struct cmd_word *words, size_t nwords,
    struct cmd *cmd, char *err, size_t errlen)
{
	const struct cmdinfo *ci = NULL;
	size_t i, nargs;

	if (nwords == 0) {
		snprintf(err, errlen, "no command");
		return (-1);
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if ((strlen(cmds[i].name) == words[0].len) &&
		    (memcmp(cmds[i].name, words[0].s, words[0].len) == 0)) {
			ci = &cmds[i];
			break;
		}
	}
	if (ci == NULL) {
		snprintf(err, errlen, "unknown command \"%.*s\"",
		    (int)(words[0].len > 32 ? 32 : words[0].len), words[0].s);
		return (-1);
	}
	nargs = nwords - 1;
	if ((nargs < ci->minargs) || (nargs > ci->maxargs)) {
		snprintf(err, errlen, "usage: %s", ci->usage);
		return (-1);
	}

	memset(cmd, 0, sizeof(*cmd));
	cmd->op = ci->op;
	words++;
	switch (ci->op) {
	case CMD_PARAMS:
		break;
	case CMD_RANGE:
		if ((nargs >= 1) && decode(mode, &words[0], cmd->key,
		    &cmd->keylen, "START", err, errlen))
			return (-1);
		if ((nargs >= 2) && decode(mode, &words[1], cmd->end,
		    &cmd->endlen, "END", err, errlen))
			return (-1);
		break;
	case CMD_CAS:
		if (decode(mode, &words[1], cmd->old, &cmd->oldlen, "OLD",
		    err, errlen) ||
		    decode(mode, &words[2], cmd->val, &cmd->vallen, "NEW",
		    err, errlen))
			return (-1);
		/* FALLTHROUGH */
	case CMD_GET:
	case CMD_DELETE:
		if (decode(mode, &words[0], cmd->key, &cmd->keylen, "KEY",
		    err, errlen))
			return (-1);
		break;
	case CMD_CAD:
		if (decode(mode, &words[1], cmd->old, &cmd->oldlen, "OLD",
		    err, errlen))
			return (-1);
		if (decode(mode, &words[0], cmd->key, &cmd->keylen, "KEY",
		    err, errlen))
			return (-1);
		break;
	case CMD_SET:
	case CMD_ADD:
	case CMD_MODIFY:
		if (decode(mode, &words[0], cmd->key, &cmd->keylen, "KEY",
		    err, errlen) ||
		    decode(mode, &words[1], cmd->val, &cmd->vallen, "VALUE",
		    err, errlen))
			return (-1);
		break;
	}
	return (0);
}

/**
 * cmd_ismodifying(cmd):
 * Return non-zero if ${cmd} modifies the store.
 */
int
cmd_ismodifying(const struct cmd *cmd)
{

	switch (cmd->op) {
	case CMD_GET:
	case CMD_RANGE:
	case CMD_PARAMS:
		return (0);
	default:
		return (1);
	}
}

/* Map a kvclient status to an exit status. */
static int
exitstatus(int status)
{

	if (status == KVCLIENT_OK)
		return (0);
	if (status == KVCLIENT_NO)
		return (1);
	return (2);
}

/* Finish ${E} with ${status} (an exit status) and free it. */
static void
finish(struct exec *E, int status)
{
	cmd_done_cb *cb = E->cb;
	void *cookie = E->cookie;

	if ((E->pairs != NULL) && (E->pairs != E->out))
		evbuffer_free(E->pairs);
	free(E);
	cb(cookie, status);
}

/* Add the batch status line start: the status digit. */
static int
batch_status(struct exec *E, int status)
{

	return (evbuffer_add_printf(E->out, "%d", status) < 0);
}

/* Status callback of SET, ADD, MODIFY, CAS, DELETE, CAD. */
static void
status_cb(void *cookie, int status)
{
	struct exec *E = cookie;
	int st = exitstatus(status);

	if (E->style == CMD_BATCH)
		if (batch_status(E, st) || evbuffer_add(E->out, "\n", 1))
			st = 2;
	finish(E, st);
}

/* GET callback. */
static void
get_cb(void *cookie, int status, const uint8_t *value, size_t valuelen)
{
	struct exec *E = cookie;
	int st = exitstatus(status);
	int bad = 0;

	if (E->style == CMD_BATCH) {
		bad |= batch_status(E, st);
		if (st == 0)
			bad |= (evbuffer_add(E->out, "\t", 1) ||
			    enc_encode(E->mode, E->out, value, valuelen));
		bad |= evbuffer_add(E->out, "\n", 1);
	} else if (st == 0) {
		bad |= (enc_encode(E->mode, E->out, value, valuelen) ||
		    evbuffer_add(E->out, "\n", 1));
	}
	if (bad) {
		warn0("out of memory");
		st = 2;
	}
	finish(E, st);
}

/* RANGE per-pair callback. */
static int
pair_cb(void *cookie, const uint8_t *key, size_t keylen,
    const uint8_t *value, size_t valuelen)
{
	struct exec *E = cookie;

	if (enc_encode(E->mode, E->pairs, key, keylen) ||
	    evbuffer_add(E->pairs, "\t", 1) ||
	    enc_encode(E->mode, E->pairs, value, valuelen) ||
	    evbuffer_add(E->pairs, "\n", 1)) {
		warn0("out of memory");
		E->failed = 1;
		return (1);
	}
	E->count++;

	/* One command per run: stream a long listing instead of keeping it. */
	if ((E->style == CMD_PLAIN) &&
	    (evbuffer_get_length(E->pairs) > RANGE_FLUSH) &&
	    out_write(E->pairs)) {
		E->failed = 1;
		return (1);
	}
	return (0);
}

/* RANGE completion callback. */
static void
range_cb(void *cookie, int status)
{
	struct exec *E = cookie;
	int st = exitstatus(status);

	/* A RANGE is never "not found": only done or failed. */
	if (E->failed || (st != 0))
		st = 2;
	if (E->style == CMD_BATCH) {
		if (batch_status(E, st))
			st = 2;
		else if (st == 0)
			evbuffer_add_printf(E->out, "\t%u", E->count);
		evbuffer_add(E->out, "\n", 1);
	}
	if ((st == 0) && (E->pairs != E->out))
		evbuffer_add_buffer(E->out, E->pairs);
	finish(E, st);
}

/**
 * cmd_start(K, cmd, mode, style, out, cb, cookie):
 * Send ${cmd} on ${K}; on completion append its output to ${out} and call
 * ${cb}(${cookie}, exit status).  Return 0, or -1 if memory ran out.
 */
int
cmd_start(struct kvclient *K, const struct cmd *cmd, enum enc_mode mode,
    int style, struct evbuffer *out, cmd_done_cb *cb, void *cookie)
{
	struct exec *E;
	int rc = -1;

	if ((E = calloc(1, sizeof(*E))) == NULL) {
		warnp("calloc");
		return (-1);
	}
	E->op = cmd->op;
	E->mode = mode;
	E->style = style;
	E->out = out;
	E->cb = cb;
	E->cookie = cookie;

	switch (cmd->op) {
	case CMD_PARAMS:
		if (style == CMD_BATCH)
			evbuffer_add_printf(out, "0\t%zu\t%zu\n",
			    kvclient_maxkey(K), kvclient_maxval(K));
		else
			evbuffer_add_printf(out, "maxkey %zu\nmaxval %zu\n",
			    kvclient_maxkey(K), kvclient_maxval(K));
		finish(E, 0);
		return (0);
	case CMD_GET:
		rc = kvclient_get(K, cmd->key, cmd->keylen, get_cb, E);
		break;
	case CMD_SET:
		rc = kvclient_set(K, cmd->key, cmd->keylen, cmd->val,
		    cmd->vallen, status_cb, E);
		break;
	case CMD_ADD:
		rc = kvclient_add(K, cmd->key, cmd->keylen, cmd->val,
		    cmd->vallen, status_cb, E);
		break;
	case CMD_MODIFY:
		rc = kvclient_modify(K, cmd->key, cmd->keylen, cmd->val,
		    cmd->vallen, status_cb, E);
		break;
	case CMD_CAS:
		rc = kvclient_cas(K, cmd->key, cmd->keylen, cmd->old,
		    cmd->oldlen, cmd->val, cmd->vallen, status_cb, E);
		break;
	case CMD_DELETE:
		rc = kvclient_delete(K, cmd->key, cmd->keylen, status_cb, E);
		break;
	case CMD_CAD:
		rc = kvclient_cad(K, cmd->key, cmd->keylen, cmd->old,
		    cmd->oldlen, status_cb, E);
		break;
	case CMD_RANGE:
		if (style == CMD_PLAIN)
			E->pairs = out;
		else if ((E->pairs = evbuffer_new()) == NULL) {
			warn0("evbuffer_new failed");
			free(E);
			return (-1);
		}
		rc = kvclient_range_all(K, cmd->key, cmd->keylen, cmd->end,
		    cmd->endlen, RANGE_MAXBYTES, pair_cb, range_cb, E);
		break;
	}
	if (rc) {
		/* The client printed why (over a limit, connection lost). */
		if (style == CMD_BATCH)
			evbuffer_add(out, "2\n", 2);
		finish(E, 2);
	}
	return (0);
}
