#include <stddef.h>
#include <stdint.h>

#include <openssl/crypto.h>

#include "keyfile/keyfile.h"
#include "kvclient/kvclient.h"

#include "conn.h"

/**
 * conn_open(addr, keypath, kopts):
 * Connect to ${addr}, encrypted with the key file ${keypath} if non-NULL.
 * Return the client, or NULL (printed).
 */
struct kvclient *
conn_open(const char *addr, const char *keypath,
    const struct keyfile_opts *kopts)
{
	struct kvclient_opts copts = { .key = NULL };
	struct kvclient *K;
	uint8_t key[32];

	if (keypath != NULL) {
		if (keyfile_load(keypath, kopts, key))
			return (NULL);
		copts.key = key;
	}
	K = kvclient_open(NULL, addr, &copts);
	OPENSSL_cleanse(key, sizeof(key));
	return (K);
}
