/*
 * Passphrase sources, named as scrypt(1)'s --passphrase method:arg.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "keyfile.h"
#include "keyfile_priv.h"

/* Longest passphrase read from a terminal, stream or file. */
#define PASS_MAX	4096

/**
 * keyfile_passphrase_check(method):
 * Return 0 if ${method} is a valid "method:arg", else -1 (error printed).
 */
int
keyfile_passphrase_check(const char *m)
{

	if (strcmp(m, "dev:tty-stdin") == 0 ||
	    strcmp(m, "dev:stdin-once") == 0 ||
	    strcmp(m, "dev:tty-once") == 0)
		return (0);
	if (strncmp(m, "env:", 4) == 0 && m[4] != '\0')
		return (0);
	if (strncmp(m, "file:", 5) == 0 && m[5] != '\0')
		return (0);
	keyfile_warnx("--passphrase: invalid method \"%s\"; use dev:tty-stdin, "
	    "dev:stdin-once, dev:tty-once, env:VAR or file:PATH", m);
	return (-1);
}

/*
 * Read one line (at most PASS_MAX bytes, newline and a CR before it
 * removed) from ${fd} into a new secmem string.  Reads byte by byte so
 * nothing after the line is consumed.  ${what} names the source.
 */
static int
read_line(int fd, const char *what, char **pass, size_t *passlen)
{
	char *buf;
	size_t n;
	ssize_t r;
	char c;

	if ((buf = keyfile_secmem_alloc(PASS_MAX + 1)) == NULL)
		return (-1);
	for (n = 0;;) {
		r = read(fd, &c, 1);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			keyfile_warnx("cannot read passphrase from %s: %s",
			    what, strerror(errno));
			goto err1;
		}
		if (r == 0) {
			if (n == 0) {
				keyfile_warnx("cannot read passphrase from "
				    "%s: end of input", what);
				goto err1;
			}
			break;
		}
		if (c == '\n')
			break;
		if (n == PASS_MAX) {
			keyfile_warnx("passphrase from %s is longer than %d "
			    "bytes", what, PASS_MAX);
			goto err1;
		}
		buf[n++] = c;
	}
	c = 0;
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	*pass = buf;
	*passlen = n;
	return (0);

err1:
	keyfile_secmem_free(buf);
	return (-1);
}

/*
 * Prompt with ${prompt} on the terminal ${fd} and read a line with echo
 * turned off.
 */
static int
read_tty(int fd, const char *prompt, char **pass, size_t *passlen)
{
	struct termios old, noecho;
	int restore, rc;

	restore = 0;
	if (tcgetattr(fd, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		noecho.c_lflag |= ECHONL;
		if (tcsetattr(fd, TCSAFLUSH, &noecho) == 0)
			restore = 1;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* Nowhere to show the prompt; still try to read. */
	}
	rc = read_line(fd, "the terminal", pass, passlen);
	if (restore)
		(void)tcsetattr(fd, TCSAFLUSH, &old);
	return (rc);
}

/*
 * Check the second reading ${again} (${againlen} bytes; NULL if reading it
 * failed) against *${pass}, and free it.  Return 0 if they match; if not,
 * free *${pass}, set it to NULL and return -1 (printed).
 */
static int
confirm_pass(char *again, size_t againlen, char **pass, size_t passlen)
{

	if (again == NULL)
		goto err0;
	if (againlen != passlen || CRYPTO_memcmp(again, *pass, againlen)) {
		keyfile_warnx("passphrases do not match");
		goto err1;
	}
	keyfile_secmem_free(again);
	return (0);

err1:
	keyfile_secmem_free(again);
err0:
	keyfile_secmem_free(*pass);
	*pass = NULL;
	return (-1);
}

/* Read from the terminal ${fd} (asking twice if ${confirm}). */
static int
tty_pass(int fd, int confirm, char **pass, size_t *passlen)
{
	char *again;
	size_t againlen = 0;

	if (read_tty(fd, "Please enter passphrase: ", pass, passlen))
		return (-1);
	if (!confirm)
		return (0);
	if (read_tty(fd, "Please confirm passphrase: ", &again, &againlen))
		again = NULL;
	return (confirm_pass(again, againlen, pass, *passlen));
}

/* Read from standard input (twice, must match, if ${confirm}). */
static int
stdin_pass(int stdin_busy, int confirm, char **pass, size_t *passlen)
{
	char *again;
	size_t againlen = 0;

	if (stdin_busy) {
		keyfile_warnx("cannot read the passphrase from standard input: "
		    "it holds the key file; use --passphrase env:VAR or "
		    "file:PATH");
		return (-1);
	}
	if (read_line(STDIN_FILENO, "standard input", pass, passlen))
		return (-1);
	if (!confirm)
		return (0);
	if (read_line(STDIN_FILENO, "standard input", &again, &againlen))
		again = NULL;
	return (confirm_pass(again, againlen, pass, *passlen));
}

/**
 * keyfile_passphrase_read(method, confirm, stdin_busy, pass, passlen):
 * Read a passphrase as ${method} says (NULL = "dev:tty-stdin") into a
 * secmem NUL-terminated string.  Returns 0, or -1 (error printed).
 */
int
keyfile_passphrase_read(const char *method, int confirm, int stdin_busy,
    char **pass, size_t *passlen)
{
	const char *v;
	size_t len;
	int fd, rc;

	if (method == NULL)
		method = "dev:tty-stdin";
	if (keyfile_passphrase_check(method))
		return (-1);

	if (strncmp(method, "env:", 4) == 0) {
		if ((v = getenv(method + 4)) == NULL) {
			keyfile_warnx("--passphrase %s: environment variable "
			    "%s is not set", method, method + 4);
			return (-1);
		}
		len = strlen(v);
		if ((*pass = keyfile_secmem_alloc(len + 1)) == NULL)
			return (-1);
		memcpy(*pass, v, len);
		*passlen = len;
		return (0);
	}
	if (strncmp(method, "file:", 5) == 0) {
		if ((fd = open(method + 5, O_RDONLY | O_CLOEXEC)) == -1) {
			keyfile_warnx("--passphrase %s: cannot open %s: %s",
			    method, method + 5, strerror(errno));
			return (-1);
		}
		rc = read_line(fd, method + 5, pass, passlen);
		close(fd);
		return (rc);
	}
	if (strcmp(method, "dev:stdin-once") == 0)
		return (stdin_pass(stdin_busy, 0, pass, passlen));

	/* dev:tty-once or dev:tty-stdin. */
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (strcmp(method, "dev:tty-once") == 0) {
			keyfile_warnx("--passphrase dev:tty-once: cannot open "
			    "the terminal: %s", strerror(errno));
			return (-1);
		}
		return (stdin_pass(stdin_busy, confirm, pass, passlen));
	}
	rc = tty_pass(fd, strcmp(method, "dev:tty-stdin") == 0 && confirm,
	    pass, passlen);
	close(fd);
	return (rc);
}
