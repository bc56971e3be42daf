// SOURCES: lib/keyfile/scryptfile.c lib/keyfile/params.c lib/keyfile/secmem.c lib/keyfile/keyfile.c lib/keyfile/passphrase.c lib/log/log.c
// LIBS: -lscrypt -lcrypto
/*
 * Fuzz target: the scrypt-format key file parser and decryptor
 * (keyfile_scrypt_parse, keyfile_scrypt_decrypt) on arbitrary bytes.
 *
 * scrypt only runs when the header asks for tiny parameters (at most
 * 1 MiB and 2^16 operations), so each input costs at most a few
 * milliseconds; larger ones stop after the header checks, as a loader
 * under --max-memory would.  The passphrase is the one of the corpus
 * seeds, so mutations of a valid file reach the HMAC and decryption code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile/keyfile.h"

#define FUZZ_MAX_MEMORY	(1 << 20)
#define FUZZ_MAX_OPS	(1 << 16)

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char pass[] = "correct horse battery staple";
	struct keyfile_params pr;
	enum keyfile_err err;
	uint8_t *out;
	size_t outlen;

	(void)keyfile_scrypt_detect(data, size);
	err = keyfile_scrypt_parse(data, size, &pr);
	if (err != KEYFILE_OK)
		return (0);
	if (keyfile_params_memory(&pr) > FUZZ_MAX_MEMORY ||
	    keyfile_params_ops(&pr) > FUZZ_MAX_OPS)
		return (0);
	err = keyfile_scrypt_decrypt(data, size, (const uint8_t *)pass,
	    strlen(pass), FUZZ_MAX_MEMORY, 0, &out, &outlen);
	if (err == KEYFILE_OK) {
		/* The plaintext is exactly the body. */
		if (outlen != size - KEYFILE_SCRYPT_OVERHEAD)
			abort();
		keyfile_secmem_free(out);
	} else if (err != KEYFILE_EPASS && err != KEYFILE_EBODY) {
		abort();
	}
	return (0);
}
