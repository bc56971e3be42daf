/*
 * Unit tests for lib/pcrypt against published vectors (FIPS 180-2,
 * RFC 4231, RFC 7914 for PBKDF2-HMAC-SHA256, NIST SP 800-38A) and the
 * spiped known-answer session.
 */
#include <stdint.h>
#include <string.h>

#include "pcrypt/pcrypt.h"

#include "unit.h"

/* Decode ${s}, which must be exactly ${len} bytes of hex, into ${out}. */
static void
unhex(const char *s, uint8_t *out, size_t len)
{

	CU_ASSERT_FATAL(strlen(s) == 2 * len);
	(void)unit_unhex(s, out);
}

static int
eqhex(const uint8_t *buf, const char *hex)
{
	uint8_t want[512];
	size_t len = strlen(hex) / 2;

	unhex(hex, want, len);
	return (memcmp(buf, want, len) == 0);
}

static void
test_sha256(void)
{
	uint8_t h[32], kf[32];

	CU_ASSERT(pcrypt_sha256("abc", 3, h) == 0);
	CU_ASSERT(eqhex(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad"));

	/* The spiped KAT key file: K = SHA256(file bytes). */
	unhex("000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f", kf, 32);
	CU_ASSERT(pcrypt_sha256(kf, 32, h) == 0);
	CU_ASSERT(eqhex(h, "630dcd2966c4336691125448bbb25b4f"
	    "f412a49c732db2c8abc1b8581bd710dd"));
}

static void
test_hmac(void)
{
	uint8_t mac[32], key[131], data[200];
	struct pcrypt_hmac *h;

	/* RFC 4231 test case 2. */
	CU_ASSERT(pcrypt_hmac_sha256((const uint8_t *)"Jefe", 4,
	    "what do ya want for nothing?", 28, mac) == 0);
	CU_ASSERT(eqhex(mac, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843"));

	/* The same through a reused keyed state, message split in two. */
	CU_ASSERT_FATAL((h = pcrypt_hmac_new((const uint8_t *)"Jefe", 4))
	    != NULL);
	pcrypt_hmac_2(h, "what do ya ", 11, "want for nothing?", 17, mac);
	CU_ASSERT(eqhex(mac, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843"));
	pcrypt_hmac_2(h, "what do ya want for nothing?", 28, NULL, 0, mac);
	CU_ASSERT(eqhex(mac, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843"));
	pcrypt_hmac_free(h);
	pcrypt_hmac_free(NULL);

	/* RFC 4231 test case 6: a key longer than a block. */
	memset(key, 0xaa, sizeof(key));
	memcpy(data, "Test Using Larger Than Block-Size Key - Hash Key First",
	    54);
	CU_ASSERT(pcrypt_hmac_sha256(key, 131, data, 54, mac) == 0);
	CU_ASSERT(eqhex(mac, "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54"));
}

static void
test_pbkdf2(void)
{
	uint8_t out[64];

	/* RFC 7914 section 11, first PBKDF2-HMAC-SHA256 vector. */
	CU_ASSERT(pcrypt_pbkdf2_sha256((const uint8_t *)"passwd", 6,
	    (const uint8_t *)"salt", 4, 1, out, 64) == 0);
	CU_ASSERT(eqhex(out, "55ac046e56e3089fec1691c22544b605"
	    "f94185216dde0465e68b9d57c20dacbc"
	    "49ca9cccf179b645991664b39d77ef31"
	    "7c71b845b1e30bd509112041d3a19783"));
}

static void
test_aesctr(void)
{
	uint8_t key[32], iv[16], pt[64], ct[64];
	struct pcrypt_aesctr *a;

	/* NIST SP 800-38A F.5.5, CTR-AES256.Encrypt. */
	unhex("603deb1015ca71be2b73aef0857d7781"
	    "1f352c073b6108d72d9810a30914dff4", key, 32);
	unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", iv, 16);
	unhex("6bc1bee22e409f96e93d7e117393172a"
	    "ae2d8a571e03ac9c9eb76fac45af8e51"
	    "30c81c46a35ce411e5fbc1191a0a52ef"
	    "f69f2445df4f9b17ad2b417be66c3710", pt, 64);
	CU_ASSERT_FATAL((a = pcrypt_aesctr_new(key)) != NULL);
	CU_ASSERT(pcrypt_aesctr_crypt(a, iv, pt, ct, 64) == 0);
	CU_ASSERT(eqhex(ct, "601ec313775789a5b7a7f504bbf3d228"
	    "f443e3ca4d62b59aca84e990cacaf5c5"
	    "2b0930daa23de94ce87017ba2d84988d"
	    "dfc9c58db67aada613c2dd08457941a6"));

	/* Each call restarts at the given counter; in place works. */
	CU_ASSERT(pcrypt_aesctr_crypt(a, iv, ct, ct, 64) == 0);
	CU_ASSERT(memcmp(ct, pt, 64) == 0);
	pcrypt_aesctr_free(a);
	pcrypt_aesctr_free(NULL);
}

static void
test_dh(void)
{
	uint8_t x1[32], x2[32], y1[256], y2[256], k1[256], k2[256];
	uint8_t p[256];

	/* 2^0 = 1, 2^1 = 2, 2^256 = 1 followed by 32 zero bytes. */
	memset(x1, 0, 32);
	CU_ASSERT(pcrypt_dh_pub(x1, y1) == 0);
	memset(y2, 0, 256);
	y2[255] = 1;
	CU_ASSERT(memcmp(y1, y2, 256) == 0);
	x1[31] = 1;
	CU_ASSERT(pcrypt_dh_pub(x1, y1) == 0);
	y2[255] = 2;
	CU_ASSERT(memcmp(y1, y2, 256) == 0);

	/* Agreement. */
	CU_ASSERT(pcrypt_dh_generate(x1, y1) == 0);
	CU_ASSERT(pcrypt_dh_generate(x2, y2) == 0);
	CU_ASSERT(memcmp(x1, x2, 32) != 0);
	CU_ASSERT(pcrypt_dh_check(y1) == 0);
	CU_ASSERT(pcrypt_dh_compute(y2, x1, k1) == 0);
	CU_ASSERT(pcrypt_dh_compute(y1, x2, k2) == 0);
	CU_ASSERT(memcmp(k1, k2, 256) == 0);

	/* y >= p is refused; p - 1 is accepted.  p ends in ...ffffffff. */
	unhex("ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd1"
	    "29024e088a67cc74020bbea63b139b22514a08798e3404dd"
	    "ef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245"
	    "e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed"
	    "ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3d"
	    "c2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f"
	    "83655d23dca3ad961c62f356208552bb9ed529077096966d"
	    "670c354e4abc9804f1746c08ca18217c32905e462e36ce3b"
	    "e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9"
	    "de2bcbf6955817183995497cea956ae515d2261898fa0510"
	    "15728e5a8aacaa68ffffffffffffffff", p, 256);
	CU_ASSERT(pcrypt_dh_check(p) == 1);
	memset(y1, 0xff, 256);
	CU_ASSERT(pcrypt_dh_check(y1) == 1);
	p[255] = 0xfe;
	CU_ASSERT(pcrypt_dh_check(p) == 0);
}

static void
test_misc(void)
{
	uint8_t a[64], b[64];

	CU_ASSERT(pcrypt_rand(a, sizeof(a)) == 0);
	CU_ASSERT(pcrypt_rand(b, sizeof(b)) == 0);
	CU_ASSERT(pcrypt_memcmp(a, b, sizeof(a)) != 0);
	CU_ASSERT(pcrypt_memcmp(a, a, sizeof(a)) == 0);
	pcrypt_cleanse(a, sizeof(a));
	memset(b, 0, sizeof(b));
	CU_ASSERT(memcmp(a, b, sizeof(a)) == 0);
}

UNIT_MAIN("pcrypt",
    { "sha256", test_sha256 },
    { "hmac", test_hmac },
    { "pbkdf2", test_pbkdf2 },
    { "aesctr", test_aesctr },
    { "dh", test_dh },
    { "misc", test_misc })
