#ifndef KEYGEN_H_
#define KEYGEN_H_

#include <stdint.h>

struct keyfile_opts;

/**
 * keygen_make(path, pass_method, target_time, target_memory):
 * Create the new file ${path} (mode 0600, never overwriting) holding 32
 * random bytes, or, if ${pass_method} is not NULL, those bytes encrypted
 * in the scrypt format under a passphrase read as ${pass_method} says
 * (confirmed twice from a terminal), with parameters chosen for
 * ${target_time} seconds and ${target_memory} bytes.  Prints the chosen
 * parameters on standard error.  Returns the exit status: 0, or 1 after
 * printing an error (the file is then removed).
 */
int keygen_make(const char *, const char *, double, uint64_t);

/**
 * keygen_info(path):
 * Print the format of the key file ${path} and, for a scrypt-encrypted
 * one, its parameters, memory and estimated decryption time on standard
 * output.  Returns the exit status: 0, or 1 if the file is unreadable or
 * unusable as a key (error printed).
 */
int keygen_info(const char *);

/**
 * keygen_check(path, opts):
 * Load the key file ${path} as every key-taking program does
 * (keyfile_load with ${opts}: decrypting it if it is encrypted) and print
 * its fingerprint, the hex SHA256 of the protocol key K (not K itself),
 * on standard output: two files with the same fingerprint make the same
 * pipe key.  Returns the exit status: 0, or 1 (error printed).
 */
int keygen_check(const char *, const struct keyfile_opts *);

#endif /* !KEYGEN_H_ */
