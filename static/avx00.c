#include <cpuid.h>
#include <signal.h>

#include "zdtmtst.h"

const char *test_doc = "Live AVX state survives C/R: distinct patterns in ymm0-15 (plus zmm0-31 and k1-k7 with "
		       "AVX-512F) and a non-default MXCSR, held in registers while spinning on the SIGTERM flag";
const char *test_author = "Stasis developers";

#define MXCSR_SET 0x5f80 /* all exceptions masked, round up (default 0x1f80) */

static volatile int stop;
static struct sigaction old_term;

static void term(int sig, siginfo_t *info, void *ctx)
{
	stop = 1;
	if (old_term.sa_flags & SA_SIGINFO)
		old_term.sa_sigaction(sig, info, ctx);
	else if (old_term.sa_handler != SIG_DFL && old_term.sa_handler != SIG_IGN)
		old_term.sa_handler(sig);
}

static uint8_t vin[32][64] __attribute__((aligned(64))), vout[32][64] __attribute__((aligned(64)));
static uint16_t kin[8], kout[8];
static uint32_t mxcsr_out;

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

#define LD(n, off) "vmovdqa " #off "(%[in]), %%ymm" #n "\n\t"
#define ST(n, off) "vmovdqa %%ymm" #n ", " #off "(%[out])\n\t"

/* ymm registers are 32 bytes, but the buffers keep a 64-byte stride per register. */
static void __attribute__((target("avx"), noinline)) hold_ymm(void)
{
	uint32_t mxcsr_orig;

	asm volatile("stmxcsr %[orig]\n\t"
		     "ldmxcsr %[set]\n\t"
		     LD(0, 0x000) LD(1, 0x040) LD(2, 0x080) LD(3, 0x0c0) LD(4, 0x100) LD(5, 0x140) LD(6, 0x180)
		     LD(7, 0x1c0) LD(8, 0x200) LD(9, 0x240) LD(10, 0x280) LD(11, 0x2c0) LD(12, 0x300) LD(13, 0x340)
		     LD(14, 0x380) LD(15, 0x3c0)
		     "1: pause\n\t"
		     "cmpl $0, %[stop]\n\t"
		     "je 1b\n\t"
		     "stmxcsr %[mx_out]\n\t"
		     ST(0, 0x000) ST(1, 0x040) ST(2, 0x080) ST(3, 0x0c0) ST(4, 0x100) ST(5, 0x140) ST(6, 0x180)
		     ST(7, 0x1c0) ST(8, 0x200) ST(9, 0x240) ST(10, 0x280) ST(11, 0x2c0) ST(12, 0x300) ST(13, 0x340)
		     ST(14, 0x380) ST(15, 0x3c0)
		     "vzeroupper\n\t"
		     "ldmxcsr %[orig]\n\t"
		     : [orig] "=m"(mxcsr_orig), [mx_out] "=m"(mxcsr_out)
		     : [set] "m"((uint32_t){ MXCSR_SET }), [in] "r"(vin), [out] "r"(vout), [stop] "m"(stop)
		     : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
		       "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

#define ZLD(n) "vmovdqa64 " #n "*64(%[in]), %%zmm" #n "\n\t"
#define ZST(n) "vmovdqa64 %%zmm" #n ", " #n "*64(%[out])\n\t"
#define KLD(n) "kmovw " #n "*2(%[kin]), %%k" #n "\n\t"
#define KST(n) "kmovw %%k" #n ", " #n "*2(%[kout])\n\t"

static void __attribute__((target("avx512f"), noinline)) hold_zmm(void)
{
	uint32_t mxcsr_orig;

	asm volatile("stmxcsr %[orig]\n\t"
		     "ldmxcsr %[set]\n\t"
		     ZLD(0) ZLD(1) ZLD(2) ZLD(3) ZLD(4) ZLD(5) ZLD(6) ZLD(7) ZLD(8) ZLD(9) ZLD(10) ZLD(11) ZLD(12)
		     ZLD(13) ZLD(14) ZLD(15) ZLD(16) ZLD(17) ZLD(18) ZLD(19) ZLD(20) ZLD(21) ZLD(22) ZLD(23) ZLD(24)
		     ZLD(25) ZLD(26) ZLD(27) ZLD(28) ZLD(29) ZLD(30) ZLD(31)
		     KLD(1) KLD(2) KLD(3) KLD(4) KLD(5) KLD(6) KLD(7)
		     "1: pause\n\t"
		     "cmpl $0, %[stop]\n\t"
		     "je 1b\n\t"
		     "stmxcsr %[mx_out]\n\t"
		     ZST(0) ZST(1) ZST(2) ZST(3) ZST(4) ZST(5) ZST(6) ZST(7) ZST(8) ZST(9) ZST(10) ZST(11) ZST(12)
		     ZST(13) ZST(14) ZST(15) ZST(16) ZST(17) ZST(18) ZST(19) ZST(20) ZST(21) ZST(22) ZST(23) ZST(24)
		     ZST(25) ZST(26) ZST(27) ZST(28) ZST(29) ZST(30) ZST(31)
		     KST(1) KST(2) KST(3) KST(4) KST(5) KST(6) KST(7)
		     "vzeroupper\n\t"
		     "ldmxcsr %[orig]\n\t"
		     : [orig] "=m"(mxcsr_orig), [mx_out] "=m"(mxcsr_out)
		     : [set] "m"((uint32_t){ MXCSR_SET }), [in] "r"(vin), [out] "r"(vout), [kin] "r"(kin),
		       [kout] "r"(kout), [stop] "m"(stop)
		     : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
		       "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19",
		       "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29",
		       "xmm30", "xmm31", "k1", "k2", "k3", "k4", "k5", "k6", "k7");
}

int main(int argc, char **argv)
{
	unsigned a, b, c, d, i, j, nregs, width;
	struct sigaction sa = {};
	int avx512 = 0;
	uint64_t xcr0;

	test_init(argc, argv);

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX)) {
		skip("the CPU (or the OS) has no AVX");
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}
	xcr0 = xgetbv0();
	if ((xcr0 & 0x6) != 0x6) {
		skip("the OS does not enable the ymm state (XCR0 %#llx)", (unsigned long long)xcr0);
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX512F) && (xcr0 & 0xe0) == 0xe0)
		avx512 = 1;
	nregs = avx512 ? 32 : 16;
	width = avx512 ? 64 : 32;
	test_msg("checking %s\n", avx512 ? "zmm0-31, k1-k7 and MXCSR" : "ymm0-15 and MXCSR");

	sa.sa_sigaction = term;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigaction(SIGTERM, &sa, &old_term)) {
		pr_perror("sigaction");
		return 1;
	}
	for (i = 0; i < 32; i++)
		for (j = 0; j < 64; j++)
			vin[i][j] = (uint8_t)((i + 1) * 0x3b + j * 0x0d) ^ (uint8_t)(j << 3) ^ 0xa5;
	for (i = 1; i < 8; i++)
		kin[i] = 0x1111 * i ^ 0x8421;
	memset(vout, 0, sizeof(vout));

	test_daemon();
	if (avx512)
		hold_zmm();
	else
		hold_ymm();
	test_waitsig();

	if (mxcsr_out != MXCSR_SET) {
		fail("MXCSR is %#x, expected %#x", mxcsr_out, MXCSR_SET);
		return 1;
	}
	for (i = 0; i < nregs; i++)
		if (memcmp(vout[i], vin[i], width)) {
			for (j = 0; j < width && vout[i][j] == vin[i][j]; j++)
				;
			fail("%cmm%u differs from byte %u (%s half)", avx512 ? 'z' : 'y', i, j,
			     j < 16 ? "xmm" : "upper");
			return 1;
		}
	if (avx512)
		for (i = 1; i < 8; i++)
			if (kout[i] != kin[i]) {
				fail("k%u is %#x, expected %#x", i, kout[i], kin[i]);
				return 1;
			}

	pass();
	return 0;
}
