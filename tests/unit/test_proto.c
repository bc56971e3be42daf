/*
 * Unit tests for lib/proto: the known-answer session recorded from
 * Debian's spiped 1.6.2 (fast mode), reproduced byte for byte in both
 * roles and both directions, then the failure cases (tampered, replayed,
 * bad length, wrong key, y >= p, refused non-PFS peer) and PFS sessions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "pcrypt/pcrypt.h"
#include "proto/proto_crypt.h"
#include "proto/proto_handshake.h"

#include "unit.h"

/* The spiped 1.6.2 fast-mode (-f) session, recorded on the wire. */

static const char kat_key_file[] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static const char kat_K[] =
	"630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd";

static const char kat_nonce_C[] =
	"50f72b18ea5073634910a9b7809072da9956be948ec147c67fa896a528bb4329";

static const char kat_nonce_S[] =
	"ac906b0e34f3cc115f6a85c099916b99ae4f3caf2ddccce352ed42a5ae7befa6";

static const char kat_dhmac_C[] =
	"7e2a0378d1e87d586c8df98d14db69f530d118b5a9e14c92678258c8d6da71f8";

static const char kat_dhmac_S[] =
	"45de0e8ead980eb484aa5d18e6e55922a09b2769b4dc47abb5b145d11e0dcaad";

static const char kat_h_C[] =
	"065a88f8383f4f1b2e7453b113e427eaf42d2bdb422473950f2780e82e11b0d2";

static const char kat_h_S[] =
	"cbbb02af26bd00719fa6055a636b7bff920a7c3230fc60960965de51eccfc6f7";

static const char kat_E_C[] =
	"9b53268966188bf075395613d0c71a85cd58f7e1b2b7a7bf4735c8b8c59f18ed";

static const char kat_H_C[] =
	"9ef76285eaa3792422ddfba4f2ffdddb43e9180558c10e914650544ca6d335bf";

static const char kat_E_S[] =
	"b15f6216f6e6150ad122ba80437ee27cbffccc52d583feaa38cd13dc089cec40";

static const char kat_H_S[] =
	"7dc9a39d933e921663fb33c22f43d7b7b27f53073144ccdaf548c4d0fbf58780";

static const char kat_c2s_pt_0[] =
	"70696e672031";

static const char kat_c2s_pkt_0[] =
	"fdd331e0a9e9319add1170f0a98ac668d60a53b86e5c00a5de38b4307cdbec45"
	"73664424aa73d27891a6f9ee22a5e6c916ddf7125259b45a4aa2a78280917c2f"
	"31ebc1cf02282352f08448d52299f98edcb76237ad1c21eec4aaac741bcae805"
	"0f529b4cc270b6c846df64b671f3b3469f1a88fc6ee97fef420d8b088bba5330"
	"ecc38fadfcc7bb7d4e933ab743039db68f7a3ec1b5f54b2a8bc4b501eaa6435e"
	"dff90aa62c158cf488bc37f0ee9fa62c496d73fd03ef446217344ddf459a9605"
	"3a98f1363c4ca7cd48ec0ab9e9a73378f9fb222b8cfca767332eb13fd0bef0ad"
	"042da76f7aba77408f0c3838dd27742cc7ba77139b0cf544bbb6b2c6feb1579c"
	"4984e099586cbb5b3ecd0826b8ec86659d62b7711662be5d668697954c0feaec"
	"5f1136ad3d0f0ae0553c83bd9c0510c3d20a258610e28d32b34d49c384097c26"
	"d33114229b01e5bc7c955ef8f633e7fb617d053ec9a5c42da61337771d042a38"
	"d61b05d2721513b466a8fb77d135535172a79de1ad68a9cc93c3ba441af7462c"
	"e2bba59d4279d9cad642a93263e9d78adaa1e418f4cde5d30dc7534630f2c3bf"
	"f8b773bdd72704dfdb6d79b29460868750febae488df9f035cec618dacb1a383"
	"221f6fe3f03325281e72e24e84fce895ff9b32677e2f7c049e6caca5ec955136"
	"a104e7186c9e82f96742322f7575d35fef86105ecc8680a68dab8f37571c9c7a"
	"7a5f11fb7d58a4ee4d9d1ce33f90dd2a664a90a053ef2bbff0e036331ddf3a0f"
	"01cec9cb6d66e4b58f6476ceae0f7b33f62f25a08bc3ca35d4d393e9b955106d"
	"f7263f61882084cdd2a58a3c9115319fd42d29e0128865764e0b9f21aa2b33b2"
	"66c219fad8c5dc43059a2736dab80ff971ecc531da2404a01f65a91551f73576"
	"c93214ef874aa9d8d2116291f46535be41cfe7eef65a59afbbd991658b24e9c3"
	"dfcdb75a45e3340fe9dfb0c5bf8aaf12dae047c907db5b2936f12665287adfcb"
	"95030082d3fd99f72601d4585fc4767d3a74fae4d5d45ff1bc77344be45ae7b4"
	"f3b9c124ec7b5387178f3937c2a89560e49b3414d35158a83c9db0b6a95f7374"
	"f326e9e94901f62f56cce7c9e63ba9b4a6bffeefb92437b9b540af6937ded13c"
	"04bf419a5f8eb8016d1eb64898b11d4e604e4b12cc3cbfe53c2adbeb92cf03ff"
	"d49de42a9527f9add4deaaab40a080a19e9dd16578d00493cb3eff3847fef729"
	"bb38016bd5480963d94a2f511ea7acdd19086854d9e7b3555c4b694a4c927dcf"
	"65d2764dd93bdd5f7aa41b5c200576faa2c8b73d546bc5aa82e29d3c3008226a"
	"356d79248939bf43738983ed50e6c091e083e0d8ff6d1687489b746ca1588e47"
	"97892d00ce8505adb23267b9d631477c477828eb809051a73866149ca3430d6a"
	"62cd8ac6475a6fae5434b15765a95bd53a551c435a98b1b2cc542eec6488ca17"
	"99ca851a020924034883c129fb13a6ca263ee9d5d7e6edc646c6916aa40323c5"
	"b6188f8b";

static const char kat_c2s_pt_1[] =
	"70696e672032";

static const char kat_c2s_pkt_1[] =
	"1c8a7a6c2021cf4ad103fdcbb5d169d1e606e954b11632ca2b2dbe8a1dbaaa4b"
	"ccb2c254deb4a0364a58f38378c858fb5144b152119b12d26ccbd3f5a1f645e8"
	"6c9435f43fd331365fc5ba0be77b05646e1c54ffd97a1f2958990e93653570ac"
	"b1558f8cb21175358aeb9dda1d26bb847d801b8718f24fdf689091bee5ca4078"
	"4d73d1ac3dc851ef91f0fb5806e29e5c0d7bf1a44942a1c9550af163c3fa6380"
	"1bc350aff8797cf32f963414822daa1fafc9a881bd81bf2d18079b95cccec440"
	"38ff898a39d0a6f39332a997f769cd152c7aa2736eaf6881ad1e2a3ba79727f5"
	"96e0b89afa52a4f47d880ef573c8ef50a6409bca5fae2eeaf8e4f786f2609f0c"
	"8d81950b4f30be77fb76de1e3608e90ca0fd5bdbcea417ac0126ddb22e1dac52"
	"5ff5daf4276d5e5e6615efeeb0d93876eeb16e62d8fda4ca83379c33d005e1ac"
	"200d9737ffe86228babcc26cdd4c53a4fbeb9b191d939586d4b4bdfc9440edd0"
	"60bae6cbb909242e9e9a662ddfd9ee0edce93a86c5e8995421e8ca178a0fa372"
	"0be2631ad0b40f2df690a8ef63685c7a4886f2f21d9b01e5d16255b0d12e1513"
	"c1c408428deff907c599d76c70dea6c5eb9dfb8669fc33a1b4df11dc674e18e1"
	"5a9542b3a429b645218d9339324e93938b3850abcda59f3b9d2c5108a4b614e2"
	"ca67687d635580e22d93cced6a5095319baa146af36699434894d24e81e404ad"
	"668c23a8f0add14a6274f54c1380b983d2dc459fc83f1fdd2323c84e76c9e538"
	"510dc8640ddc5723e7aebb5895859616f65c35838ae7ca097eaaf3095e6bb4f6"
	"db9560f65d834f3934a1c2d770a608da8f9b05f39fc911e53b06f95a4047a40c"
	"da5b333a19842c41906d61ac12a78bbcd37b375a1b777b7577a30019eb2d21d6"
	"2618749e12aa6e75ebba39c49eeed224464520b6940e31b4bb138a1ce8fbf279"
	"b5be9a8014ccd67e2f1229dded9b75b1f1f948b95c19aa333938e98c213841b8"
	"fb09cfe99ac9ac37e8ac3859594916a55477c267ef1eecda963d7f7132c4ec84"
	"7db63c8555763ace16d1263cc7938081b6d4e53bc73c7322f74f69432252b37e"
	"271fe4722682c03995ba77546c853893f7cb689209ec5ce261d3b9dd118f97ef"
	"cbb81cd4033c836c3d55045cb8289b58a507f6608f8c523a5508a834ed263867"
	"70b68271397ab25e6e0c3d863a7876823638ddfe9fd6cfde4d91ec2449e35e75"
	"67d05a56eb54f1fd5ba8ea585d858207919f076b0f67610abafc6989eb32b943"
	"375ebbc89ca29fd4ee7b6e20886cca7d263efe2805d163320a24772183e3cc31"
	"64760761c32442ae47cc6d6e2647072652d47fefff6cd004f942c038a3888df2"
	"265fd44213fc9c538bd2d888c5cba313c1c051471ee70a2b087ba153e2a6dba7"
	"45e3109a93872e2a732fb6d676443ffb9c955afb6d77dfe464a55b4186587b19"
	"95fe8eb77b4ba18f6cfb6fef956d5e048f0537f05aed4f33dc6cc205369d7dc1"
	"fd38b8ee";

static const char kat_s2c_pt_0[] =
	"706f6e672031";

static const char kat_s2c_pkt_0[] =
	"b42457d7265bb6a927ccc0673135a95376d5e876200f0819c241ea183d387049"
	"74822edf885001f33f69a835e50e9de6363c4d1452dec05409c07e0881b8583f"
	"dcf1923bdcbf638e619c414feb4430a6d2e845d632d60aeaf372ff4d264485be"
	"a26b1cdffae8a4f9a15906fc2950595dd05f973cd3d5b8eecd2e2c8dc6918b74"
	"7f0f8b15a33925e0612e8cb2cfaf36a135b8e2121cd4b377a5c0c820fe63a22c"
	"5b6877018bf2e86267b25809621e7fb04fa5d1216c170a64f87be69dc472b66e"
	"feab53a270599210f75f6b06fbc3075a76c78b6b9f6a4f825a980711fbed0a53"
	"67f0e3fb2418079f8dbb187cffe21ebb55b548bba45ac1b51af994163ccc029e"
	"000b52f24a23e32c5d4bcf5237924010973f667d72cd240e67e9555d3be2cb18"
	"48e198913a993a0e7e3a73a1ca278949d0071409de205655ae73edb21730f66b"
	"6f08f4211cd3a31549e03c7dd2b25cce2bf75ac9fa08742204442d519d58a8b0"
	"e9e696db064f1dc75e9ea2aba7778246fdff54c961a49060111f9591da14a788"
	"9603da90fb61b43043e6ea716436e502c7694734b3aedd34a333d348c7c86dfa"
	"8d22e28d8e46f856349ee61464071dde157dc0d829f1b015cfde9c0bad8f3d80"
	"56fefa0ab8165e6fb226329fe719cf9bcbcbda23db770b5a66e646cc33a1d071"
	"e36c456de3c07f2f7191ac91e1fa26e0c4e50fdf2ff5b1de0ae49a066fb5d6d1"
	"11316bb2154f658c14ac85040ad755b9a97557a61a13e34f3f170a66f5b1a173"
	"4c09ba56667effa2c07a40c8c0b32d32b4772ca66ce859ed5c4003600f8bc77f"
	"167aac09c193f503a40b2d444d1ba9c03f9c3ffabac2e341c87f27b89c754356"
	"fd1240eeabaa19e4be87c0de008b3185d548ae1dd43b56094e224cd3046657f1"
	"1ff6adb0923da7e0a881f8644267f3e92fa224c2017f4c4614cb1b72cea38b80"
	"1608cf6f2aeb7ccfe19a8cfdae7d7daf3fd986c3e71ca511ab20aeb27fe05487"
	"8a0328bab169f8584ef265dfbb3d3f6cf26be8f39f31a4f6800732b26a913295"
	"1d6cf504e882deee229c83feb3ef0e2202f4eea0538107c5894a1abc5ca84c08"
	"961ba6685ff1ed6e26176b3dcebb31d029a3fba9c236a951a5be6601dfe16553"
	"97d507ad5a787378467c7e7c07d8e91fa759670ee9f2ccdd81e3dc555f1b979d"
	"5e0d9998ae439957141f787163c7f7f660dc3a21dc70615597bd5d1a63dfc816"
	"de581072a9222e1786cab2fce4bd6bd3f40b3120ed133f7550467c7a5cbc6869"
	"9f0b5f276075edb41d92feb4472907958cd00a24d8ce707aeb95b49eabe09092"
	"eb4cd05625cae546111354767c069b992346d72fa1a1c4054e7c40e993a9e8eb"
	"c876bf93535b5fcf580b390251ee5e2b04d24edb86a0cb464bde446481db576d"
	"e68ec1be81e5eb653b2c252014fd38ae46de1aa649dfa658b9dcb0e42609512d"
	"c075f2c4316a27b848906dee7aa088045fdb77641f183bb738c1d9fb29a9fc75"
	"f74c2c1b";

static const char kat_s2c_pt_1[] =
	"706f6e672032";

static const char kat_s2c_pkt_1[] =
	"f972e3320466184fe3273cb3ca1de1da39414fa6466eae70b0f0b0eabe5408ac"
	"9618707a5764942109a76f56603c268efab8e4230041e70c2eb17f4d4d207a29"
	"6a926cf544d4018631c4df818502e658a638fbd604486d1139d976463bb647ea"
	"f3410ed112d0358607e2d59937edf1c52701d3d2cc2a77f6932881a992728ce6"
	"593c4ce559bd6ddbfd312ca9b0fb806bddc22c402cd4ab6c910974f5c87c7a28"
	"1b1019a42c0e648037067733201075951a9bebc0e6dcf15e4c239931eb32f971"
	"5c965c878e7e1cbd6a71a073abb08a6161fdd7f6d291f797907dce99937b78e6"
	"d0b4aa1a866cf1c99cfb525e1d22cc5eaa265801ea4ccd76012fb3b7a4e39c9f"
	"0fe9f9fee7ed727543e3cbb83f67454ac41064002437eb857c2a32ed7c62c036"
	"940d5f4e58d8df328bf0e2966a1c0356de2fe54d9cdae5d9ce0756503650c4aa"
	"487a33240c35363ad2230fcd522ef90af61709a1194e87da920f27b75ec523ef"
	"086cdf3a14e0e80ad1a0bf865b9b0f09dd146fc043d36be899cf3e06da174754"
	"9957adb9be0be58b18a15f8de98bdcffe0d124dcea814ec36add6db52f9a2ed1"
	"3da9f50c1558ef9d01b4f44115701b3c9658e6caf0c7f1107caa228e8f488d27"
	"89595274a8f9d3c9cabd70ccc67995c71c10dbc78b7a3cb2693a6512d0375838"
	"ccb98cd7590044ca601e02ed9482666120ece034c087037bbc7d2d19b96edaf7"
	"c558ccb22d0a26ecaf6a1a95b3ef8295fb09848b83e2ca3dc5d8b618c5b41ffc"
	"3fa7995e7cb3a67297a4bd088ae75989cdb3e055ba4c0d30710741d6a290b142"
	"e7056f45f94e351f20f2bf934e643b3aa5a7b446ef570d5f4b551ce49bc1f628"
	"6f72e2eab2f79ec294d59d1932b0d0c1e29e80147c6bb9e9ec479f7826065181"
	"987b8592a3378b6ac32320f4a5ee2c219da0b699b60b0aa28502dd6566b8f69a"
	"844f3a4b38e23a6a3e558a038d743721013cdf5f40689a773ee66b9ddd29d727"
	"c28fa66f79cf0dbf7565ea313d1dcb123e5c08c497f1dc0eeadc90499cedebda"
	"d4f2fe36fd30570583901c3c0abb112fb10a3da6eafd5c2638ffa156dc7fac3b"
	"b25fdc5ebe10c5fd09136ab24ab17579f57caf7d2af206c460e0a0eb966bc4bd"
	"fb74474dab406b6ac7dfafff20939e7cedd1a0921196712b274fc8b1bbe24cb5"
	"38cd40ab622c927e1544370ff724f0056a2df6552d88e5b6a00bd17b0f491046"
	"df096ca7e588c8c5790f4b9d8b04ecfc4caf3967f677a1c82fc90a509dfbdb93"
	"29e7b40dfa86a17a01ee9ec22f813355bad2b49528124df5a5af4424ecdb804d"
	"202c150647006696abf80230e13ed59986e3f718536339c19443341db2cd87c0"
	"e818e1d225f5bdd14914fe87de376ab83ae4099f55ace2677ff0561ef1d8932a"
	"09e0ca1ca716e7b00c9b8ca38d68e5723424a8ab3a5c5f4a6171c762205eda5d"
	"682fb4cdbe6667f64a48393a4662f2e0c4d25b5ac093de4486d46aba83548c8b"
	"5034b633";

/* Decode ${s}, which must be exactly ${len} bytes of hex, into ${out}. */
static void
unhex(const char *s, uint8_t *out, size_t len)
{

	CU_ASSERT_FATAL(strlen(s) == 2 * len);
	(void)unit_unhex(s, out);
}

/* Decode hex ${s} into a fresh buffer; its length in ${len}. */
static uint8_t *
unhexa(const char *s, size_t *len)
{
	uint8_t *p;

	*len = strlen(s) / 2;
	CU_ASSERT_FATAL((p = malloc(*len + 1)) != NULL);
	unhex(s, p, *len);
	return (p);
}

static int
eqhex(const uint8_t *buf, size_t len, const char *hex)
{
	uint8_t *want;
	size_t wlen;
	int eq;

	want = unhexa(hex, &wlen);
	eq = (wlen == len) && memcmp(buf, want, len) == 0;
	free(want);
	return (eq);
}

static void
kat_key(uint8_t K[32])
{
	uint8_t kf[32];

	unhex(kat_key_file, kf, 32);
	CU_ASSERT_FATAL(pcrypt_sha256(kf, 32, K) == 0);
	CU_ASSERT(eqhex(K, 32, kat_K));
}

/*
 * Move every queued byte of ${from} into ${to}, as far as ${to} wants
 * them; store what ${from} sent in ${log} (if not NULL) at ${*loglen}.
 */
static int
shuttle(struct proto_hs *from, struct proto_hs *to, uint8_t *log,
    size_t *loglen)
{
	const uint8_t *p;
	size_t len, n;

	for (;;) {
		p = proto_hs_output(from, &len);
		if (len == 0)
			return (0);
		if ((n = proto_hs_need(to)) == 0)
			return (0);
		if (n > len)
			n = len;
		if (log != NULL) {
			memcpy(log + *loglen, p, n);
			*loglen += n;
		}
		if (proto_hs_input(to, p, n))
			return (-1);
		proto_hs_consumed(from, n);
	}
}

/* Run a whole handshake between two machines; 0 if both completed. */
static int
run_hs(struct proto_hs *c, struct proto_hs *s, uint8_t *clog,
    size_t *clen, uint8_t *slog, size_t *slen)
{
	int i;

	for (i = 0; i < 10; i++) {
		if (shuttle(c, s, clog, clen) || shuttle(s, c, slog, slen))
			return (-1);
		if (proto_hs_done(c) && proto_hs_done(s))
			return (0);
	}
	return (-1);
}

static void
test_kat_kdf(void)
{
	uint8_t K[32], nc[32], ns[32], dhmac[64], dk[128], one[256];

	kat_key(K);
	unhex(kat_nonce_C, nc, 32);
	unhex(kat_nonce_S, ns, 32);
	CU_ASSERT(proto_crypt_dhmac(K, nc, ns, dhmac) == 0);
	CU_ASSERT(eqhex(dhmac, 32, kat_dhmac_C));
	CU_ASSERT(eqhex(dhmac + 32, 32, kat_dhmac_S));

	/* Fast mode: y_SC = 1. */
	memset(one, 0, sizeof(one));
	one[255] = 1;
	CU_ASSERT(proto_crypt_keys(K, nc, ns, one, dk) == 0);
	CU_ASSERT(eqhex(dk, 32, kat_E_C));
	CU_ASSERT(eqhex(dk + 32, 32, kat_H_C));
	CU_ASSERT(eqhex(dk + 64, 32, kat_E_S));
	CU_ASSERT(eqhex(dk + 96, 32, kat_H_S));
}

/* KAT handshake; returns the client and server sessions. */
static void
kat_handshake(struct proto_session **cs, struct proto_session **ss)
{
	uint8_t K[32], nc[32], ns[32];
	uint8_t clog[320], slog[320];
	size_t clen = 0, slen = 0;
	struct proto_hs *c, *s;

	kat_key(K);
	unhex(kat_nonce_C, nc, 32);
	unhex(kat_nonce_S, ns, 32);
	CU_ASSERT_FATAL((c = proto_hs_new(K, PROTO_HS_NOPFS)) != NULL);
	CU_ASSERT_FATAL((s = proto_hs_new(K,
	    PROTO_HS_SERVER | PROTO_HS_NOPFS)) != NULL);
	proto_hs_set_nonce(c, nc);
	proto_hs_set_nonce(s, ns);
	CU_ASSERT(proto_hs_need(c) == 32);
	CU_ASSERT(proto_hs_done(c) == 0);
	CU_ASSERT_FATAL(run_hs(c, s, clog, &clen, slog, &slen) == 0);

	/* On the wire: nonce, then y = 1 (255 zeros, 01) and its MAC. */
	CU_ASSERT_FATAL(clen == 320 && slen == 320);
	CU_ASSERT(eqhex(clog, 32, kat_nonce_C));
	CU_ASSERT(eqhex(slog, 32, kat_nonce_S));
	CU_ASSERT(clog[32 + 255] == 1 && slog[32 + 255] == 1);
	CU_ASSERT(eqhex(clog + 32 + 256, 32, kat_h_C));
	CU_ASSERT(eqhex(slog + 32 + 256, 32, kat_h_S));
	CU_ASSERT(proto_hs_need(c) == 0 && proto_hs_need(s) == 0);

	CU_ASSERT_FATAL((*cs = proto_hs_session(c)) != NULL);
	CU_ASSERT_FATAL((*ss = proto_hs_session(s)) != NULL);
	CU_ASSERT(proto_hs_session(c) == NULL);
	proto_hs_free(c);
	proto_hs_free(s);
	proto_hs_free(NULL);
}

/* Encrypt ${pthex} with ${s}; compare with ${pkthex}; decrypt by ${r}. */
static void
kat_packet(struct proto_session *s, struct proto_session *r,
    const char *pthex, const char *pkthex)
{
	uint8_t *pt, pkt[PROTO_PKT_LEN], out[PROTO_DECRYPT_ROOM(1)];
	size_t ptlen;

	pt = unhexa(pthex, &ptlen);
	CU_ASSERT(proto_session_encrypt(s, pt, ptlen, pkt) == PROTO_PKT_LEN);
	CU_ASSERT(eqhex(pkt, PROTO_PKT_LEN, pkthex));
	free(pt);

	/* Decrypt the recorded packet, not ours. */
	unhex(pkthex, pkt, PROTO_PKT_LEN);
	CU_ASSERT(proto_session_decrypt(r, pkt, 1, out) == (ssize_t)ptlen);
	CU_ASSERT(eqhex(out, ptlen, pthex));
}

static void
test_kat_session(void)
{
	struct proto_session *cs, *ss;

	kat_handshake(&cs, &ss);
	kat_packet(cs, ss, kat_c2s_pt_0, kat_c2s_pkt_0);
	kat_packet(ss, cs, kat_s2c_pt_0, kat_s2c_pkt_0);
	kat_packet(cs, ss, kat_c2s_pt_1, kat_c2s_pkt_1);
	kat_packet(ss, cs, kat_s2c_pt_1, kat_s2c_pkt_1);
	proto_session_free(cs);
	proto_session_free(ss);
	proto_session_free(NULL);
}

/* Decrypting packet ${i} of the KAT c2s stream fails after ${prep}. */
static void
test_kat_reject(void)
{
	struct proto_session *cs, *ss;
	uint8_t p0[PROTO_PKT_LEN], p1[PROTO_PKT_LEN], bad[PROTO_PKT_LEN];
	uint8_t out[PROTO_DECRYPT_ROOM(2)];
	size_t i;

	unhex(kat_c2s_pkt_0, p0, PROTO_PKT_LEN);
	unhex(kat_c2s_pkt_1, p1, PROTO_PKT_LEN);

	/* A flipped bit anywhere (ciphertext, length, MAC) is refused. */
	for (i = 0; i < PROTO_PKT_LEN; i += 97) {
		kat_handshake(&cs, &ss);
		memcpy(bad, p0, PROTO_PKT_LEN);
		bad[i] ^= 0x10;
		CU_ASSERT(proto_session_decrypt(ss, bad, 1, out) == -1);
		proto_session_free(cs);
		proto_session_free(ss);
	}

	/* Replayed: packet 0 twice. */
	kat_handshake(&cs, &ss);
	CU_ASSERT(proto_session_decrypt(ss, p0, 1, out) == 6);
	CU_ASSERT(proto_session_decrypt(ss, p0, 1, out) == -1);
	proto_session_free(cs);
	proto_session_free(ss);

	/* Reordered: packet 1 first. */
	kat_handshake(&cs, &ss);
	CU_ASSERT(proto_session_decrypt(ss, p1, 1, out) == -1);
	proto_session_free(cs);
	proto_session_free(ss);

	/* Both in one call, in order. */
	kat_handshake(&cs, &ss);
	memcpy(bad, p0, PROTO_PKT_LEN);
	{
		uint8_t two[2 * PROTO_PKT_LEN];

		memcpy(two, p0, PROTO_PKT_LEN);
		memcpy(two + PROTO_PKT_LEN, p1, PROTO_PKT_LEN);
		CU_ASSERT(proto_session_decrypt(ss, two, 2, out) == 12);
		CU_ASSERT(memcmp(out, "ping 1ping 2", 12) == 0);
	}
	proto_session_free(cs);
	proto_session_free(ss);
}

/* A packet 0 with a valid MAC but the length field ${len}. */
static void
forge(uint32_t len, uint8_t pkt[PROTO_PKT_LEN])
{
	uint8_t E[32], H[32], iv[16];
	struct pcrypt_aesctr *a;

	unhex(kat_E_C, E, 32);
	unhex(kat_H_C, H, 32);
	memset(pkt, 'x', 1024);
	pkt[1024] = (uint8_t)(len >> 24);
	pkt[1025] = (uint8_t)(len >> 16);
	pkt[1026] = (uint8_t)(len >> 8);
	pkt[1027] = (uint8_t)len;
	memset(iv, 0, 16);
	CU_ASSERT_FATAL((a = pcrypt_aesctr_new(E)) != NULL);
	CU_ASSERT_FATAL(pcrypt_aesctr_crypt(a, iv, pkt, pkt, 1028) == 0);
	pcrypt_aesctr_free(a);
	{
		uint8_t m[1036];

		memcpy(m, pkt, 1028);
		memset(m + 1028, 0, 8);
		CU_ASSERT_FATAL(pcrypt_hmac_sha256(H, 32, m, 1036,
		    pkt + 1028) == 0);
	}
}

static void
test_bad_length(void)
{
	struct proto_session *cs, *ss;
	uint8_t pkt[PROTO_PKT_LEN], out[PROTO_DECRYPT_ROOM(1)];
	static const uint32_t bad[] = { 0, 1025, 65536, 0xffffffff };
	size_t i;

	/* The forger is right: length 1024 and 1 are accepted. */
	kat_handshake(&cs, &ss);
	forge(1024, pkt);
	CU_ASSERT(proto_session_decrypt(ss, pkt, 1, out) == 1024);
	proto_session_free(cs);
	proto_session_free(ss);
	kat_handshake(&cs, &ss);
	forge(1, pkt);
	CU_ASSERT(proto_session_decrypt(ss, pkt, 1, out) == 1);
	proto_session_free(cs);
	proto_session_free(ss);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kat_handshake(&cs, &ss);
		forge(bad[i], pkt);
		CU_ASSERT(proto_session_decrypt(ss, pkt, 1, out) == -1);
		proto_session_free(cs);
		proto_session_free(ss);
	}
}

static void
random_key(uint8_t K[32])
{

	CU_ASSERT_FATAL(pcrypt_rand(K, 32) == 0);
}

/* Handshake with the given flags; 0 if both sides completed. */
static int
try_hs(const uint8_t Kc[32], const uint8_t Ks[32], int cflags, int sflags,
    struct proto_session **cs, struct proto_session **ss)
{
	struct proto_hs *c, *s;
	int rc;

	CU_ASSERT_FATAL((c = proto_hs_new(Kc, cflags)) != NULL);
	CU_ASSERT_FATAL((s = proto_hs_new(Ks, sflags | PROTO_HS_SERVER))
	    != NULL);
	rc = run_hs(c, s, NULL, NULL, NULL, NULL);
	if (rc == 0 && cs != NULL) {
		*cs = proto_hs_session(c);
		*ss = proto_hs_session(s);
	}
	proto_hs_free(c);
	proto_hs_free(s);
	return (rc);
}

/*
 * Handshake with the given flags, which must fail: return the reason the
 * failing side gives (the other side has none: it only saw no answer).
 */
static int
hs_error(const uint8_t Kc[32], const uint8_t Ks[32], int cflags,
    int sflags)
{
	struct proto_hs *c, *s;
	int ce, se;

	CU_ASSERT_FATAL((c = proto_hs_new(Kc, cflags)) != NULL);
	CU_ASSERT_FATAL((s = proto_hs_new(Ks, sflags | PROTO_HS_SERVER))
	    != NULL);
	CU_ASSERT(run_hs(c, s, NULL, NULL, NULL, NULL) == -1);
	ce = proto_hs_error(c);
	se = proto_hs_error(s);
	CU_ASSERT((ce == PROTO_HS_OK) != (se == PROTO_HS_OK));
	proto_hs_free(c);
	proto_hs_free(s);
	return (ce != PROTO_HS_OK ? ce : se);
}

static void
roundtrip(struct proto_session *a, struct proto_session *b, size_t len)
{
	uint8_t *pt, *wire, *out;
	ssize_t w;

	CU_ASSERT_FATAL((pt = malloc(len + 1)) != NULL);
	CU_ASSERT_FATAL((wire = malloc(PROTO_WIRELEN(len) + 1)) != NULL);
	CU_ASSERT_FATAL((out = malloc(PROTO_DECRYPT_ROOM(
	    PROTO_WIRELEN(len) / PROTO_PKT_LEN))) != NULL);
	CU_ASSERT_FATAL(pcrypt_rand(pt, len + 1) == 0);
	w = proto_session_encrypt(a, pt, len, wire);
	CU_ASSERT(w == (ssize_t)PROTO_WIRELEN(len));
	CU_ASSERT(proto_session_decrypt(b, wire, (size_t)w / PROTO_PKT_LEN,
	    out) == (ssize_t)len);
	CU_ASSERT(memcmp(pt, out, len) == 0);
	free(pt);
	free(wire);
	free(out);
}

static void
test_pfs_modes(void)
{
	uint8_t K[32], K2[32];
	struct proto_session *cs, *ss;
	int cf, sf;

	random_key(K);

	/* Every pairing of PFS and -f works; PFS sessions round-trip. */
	for (cf = 0; cf <= PROTO_HS_NOPFS; cf += PROTO_HS_NOPFS) {
		for (sf = 0; sf <= PROTO_HS_NOPFS; sf += PROTO_HS_NOPFS) {
			CU_ASSERT_FATAL(try_hs(K, K, cf, sf, &cs, &ss) == 0);
			roundtrip(cs, ss, 5000);
			roundtrip(ss, cs, 1);
			roundtrip(cs, ss, 65536);
			proto_session_free(cs);
			proto_session_free(ss);
		}
	}

	/* -g refuses a -f peer, either way round; accepts a PFS peer. */
	CU_ASSERT(try_hs(K, K, PROTO_HS_NOPFS, PROTO_HS_REQPFS, NULL,
	    NULL) == -1);
	CU_ASSERT(try_hs(K, K, PROTO_HS_REQPFS, PROTO_HS_NOPFS, NULL,
	    NULL) == -1);
	CU_ASSERT(try_hs(K, K, PROTO_HS_REQPFS, PROTO_HS_REQPFS, &cs,
	    &ss) == 0);
	proto_session_free(cs);
	proto_session_free(ss);

	/* A wrong key fails the DH MAC. */
	random_key(K2);
	CU_ASSERT(try_hs(K, K2, 0, 0, NULL, NULL) == -1);
	CU_ASSERT(try_hs(K, K2, PROTO_HS_NOPFS, PROTO_HS_NOPFS, NULL,
	    NULL) == -1);

	/* The failing side says why. */
	CU_ASSERT(hs_error(K, K2, 0, 0) == PROTO_HS_EMAC);
	CU_ASSERT(hs_error(K, K, PROTO_HS_NOPFS, PROTO_HS_REQPFS) ==
	    PROTO_HS_EPFS);
	CU_ASSERT(hs_error(K, K, PROTO_HS_REQPFS, PROTO_HS_NOPFS) ==
	    PROTO_HS_EPFS);
}

/* Every reason has its own sentence, which says the handshake failed. */
static void
test_strerror(void)
{
	const char *m[PROTO_HS_EINTERNAL + 1];
	int i, j;

	CU_ASSERT_STRING_EQUAL(proto_handshake_strerror(PROTO_HS_OK),
	    "handshake succeeded");
	for (i = PROTO_HS_EMAC; i <= PROTO_HS_EINTERNAL; i++) {
		m[i] = proto_handshake_strerror(i);
		CU_ASSERT_FATAL(m[i] != NULL);
		CU_ASSERT(strncmp(m[i], "handshake failed: ", 18) == 0);
		for (j = PROTO_HS_EMAC; j < i; j++)
			CU_ASSERT(strcmp(m[i], m[j]) != 0);
	}
	CU_ASSERT(strstr(proto_handshake_strerror(PROTO_HS_EMAC),
	    "wrong key") != NULL);
	CU_ASSERT(strstr(proto_handshake_strerror(PROTO_HS_ECLOSED),
	    "wrong key?") != NULL);
	CU_ASSERT_STRING_EQUAL(proto_handshake_strerror(-1),
	    "handshake failed");
}

/* A client that sends y = ${y} with a valid MAC is refused if y >= p. */
static void
test_y_range(void)
{
	uint8_t K[32], nc[32], dhmac[64], msg[288];
	const uint8_t *p;
	struct proto_hs *s;
	size_t len;
	uint8_t ns[32];

	random_key(K);
	memset(nc, 7, 32);
	CU_ASSERT_FATAL((s = proto_hs_new(K, PROTO_HS_SERVER)) != NULL);
	p = proto_hs_output(s, &len);
	CU_ASSERT_FATAL(len == 32);
	memcpy(ns, p, 32);
	proto_hs_consumed(s, 32);
	CU_ASSERT(proto_hs_input(s, nc, 32) == 0);
	CU_ASSERT(proto_hs_need(s) == 288);

	/* y = 2^2048 - 1 > p. */
	CU_ASSERT_FATAL(proto_crypt_dhmac(K, nc, ns, dhmac) == 0);
	memset(msg, 0xff, 256);
	CU_ASSERT_FATAL(pcrypt_hmac_sha256(dhmac, 32, msg, 256, msg + 256)
	    == 0);
	CU_ASSERT(proto_hs_input(s, msg, 288) == -1);
	CU_ASSERT(proto_hs_error(s) == PROTO_HS_EGARBAGE);
	CU_ASSERT(proto_hs_done(s) == 0);
	CU_ASSERT(proto_hs_need(s) == 0);

	/* Nothing was queued for the client. */
	proto_hs_output(s, &len);
	CU_ASSERT(len == 0);
	proto_hs_free(s);
}

/* The split machine: answers go out before the exponentiation. */
static void
test_split(void)
{
	uint8_t K[32];
	struct proto_hs *c, *s;
	struct proto_session *cs, *ss;
	const uint8_t *p;
	size_t len;
	int i;

	random_key(K);
	CU_ASSERT_FATAL((c = proto_hs_new(K, 0)) != NULL);
	CU_ASSERT_FATAL((s = proto_hs_new(K, PROTO_HS_SERVER)) != NULL);
	proto_hs_split(c);
	proto_hs_split(s);
	for (i = 0; i < 10 && !(proto_hs_done(c) && proto_hs_done(s)); i++) {
		CU_ASSERT_FATAL(shuttle(c, s, NULL, NULL) == 0);

		/* A stopped server has its answer queued already. */
		if (proto_hs_need(s) == 0 && !proto_hs_done(s)) {
			p = proto_hs_output(s, &len);
			CU_ASSERT(len == 288 && p != NULL);
		}
		CU_ASSERT_FATAL(shuttle(s, c, NULL, NULL) == 0);
		CU_ASSERT(proto_hs_derive(c) == 0);
		CU_ASSERT(proto_hs_derive(s) == 0);
	}
	CU_ASSERT_FATAL(proto_hs_done(c) && proto_hs_done(s));
	cs = proto_hs_session(c);
	ss = proto_hs_session(s);
	CU_ASSERT_FATAL(cs != NULL && ss != NULL);
	roundtrip(cs, ss, 3000);
	roundtrip(ss, cs, 3000);
	proto_session_free(cs);
	proto_session_free(ss);
	proto_hs_free(c);
	proto_hs_free(s);
}

static void
test_evbuf(void)
{
	uint8_t K[32], *pt, *back;
	struct proto_session *cs, *ss;
	struct evbuffer *plain, *wire, *out;
	size_t len = 300000;

	random_key(K);
	CU_ASSERT_FATAL(try_hs(K, K, 0, 0, &cs, &ss) == 0);
	CU_ASSERT_FATAL((pt = malloc(len)) != NULL);
	CU_ASSERT_FATAL((back = malloc(len)) != NULL);
	CU_ASSERT_FATAL(pcrypt_rand(pt, len) == 0);
	plain = evbuffer_new();
	wire = evbuffer_new();
	out = evbuffer_new();

	/* In two pieces, the second delivered a byte short at first. */
	evbuffer_add(plain, pt, 100000);
	CU_ASSERT(proto_session_encrypt_evbuf(cs, plain, wire) == 0);
	CU_ASSERT(evbuffer_get_length(plain) == 0);
	evbuffer_add(plain, pt + 100000, len - 100000);
	CU_ASSERT(proto_session_encrypt_evbuf(cs, plain, wire) == 0);
	CU_ASSERT(evbuffer_get_length(wire) ==
	    PROTO_WIRELEN(100000) + PROTO_WIRELEN(len - 100000));
	CU_ASSERT(proto_session_decrypt_evbuf(ss, wire, out) > 0);
	CU_ASSERT(evbuffer_get_length(wire) == 0);
	CU_ASSERT(evbuffer_get_length(out) == len);
	evbuffer_remove(out, back, len);
	CU_ASSERT(memcmp(pt, back, len) == 0);

	/* A partial packet waits; a bad one fails. */
	evbuffer_add(plain, "hello", 5);
	CU_ASSERT(proto_session_encrypt_evbuf(cs, plain, wire) == 0);
	{
		uint8_t pkt[PROTO_PKT_LEN];

		evbuffer_remove(wire, pkt, PROTO_PKT_LEN);
		evbuffer_add(wire, pkt, 1000);
		CU_ASSERT(proto_session_decrypt_evbuf(ss, wire, out) == 0);
		evbuffer_drain(wire, 1000);
		pkt[5] ^= 1;
		evbuffer_add(wire, pkt, PROTO_PKT_LEN);
		CU_ASSERT(proto_session_decrypt_evbuf(ss, wire, out) == -1);
	}
	evbuffer_free(plain);
	evbuffer_free(wire);
	evbuffer_free(out);
	free(pt);
	free(back);
	proto_session_free(cs);
	proto_session_free(ss);
}

UNIT_MAIN("proto",
    { "KAT key derivation", test_kat_kdf },
    { "KAT handshake and packets", test_kat_session },
    { "tampered, replayed, reordered packets", test_kat_reject },
    { "length 0 and over 1024", test_bad_length },
    { "PFS, -f, -g, wrong key", test_pfs_modes },
    { "failure reasons", test_strerror },
    { "y >= p", test_y_range },
    { "split handshake", test_split },
    { "evbuffer API", test_evbuf })
