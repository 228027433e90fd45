#include <signal.h>

#include "zdtmtst.h"

const char *test_doc = "Live x87 stack registers, x87 control word, xmm0-15 and MXCSR survive C/R: they are loaded "
		       "before the wait and compared after it, with no function call in between";
const char *test_author = "Stasis developers";

#define FCW_SET 0x0f7f	  /* all exceptions masked, 64-bit precision, round toward zero (default 0x037f) */
#define MXCSR_SET 0x7f80  /* all exceptions masked, round toward zero (default 0x1f80) */

static volatile int stop;
static struct sigaction old_term;

/* Set our own flag, then let the library's SIGTERM handler do its work too. */
static void term(int sig, siginfo_t *info, void *ctx)
{
	stop = 1;
	if (old_term.sa_flags & SA_SIGINFO)
		old_term.sa_sigaction(sig, info, ctx);
	else if (old_term.sa_handler != SIG_DFL && old_term.sa_handler != SIG_IGN)
		old_term.sa_handler(sig);
}

struct regs {
	long double st[8];		 /* st[0] is loaded first, so it ends up in st(7) */
	uint8_t xmm[16][16] __attribute__((aligned(16)));
	uint16_t fcw, fsw;
	uint32_t mxcsr;
};

static struct regs in, out;

int main(int argc, char **argv)
{
	struct sigaction sa = {};
	uint16_t fcw_orig, fsw_before = 0;
	uint32_t mxcsr_orig;
	int i, j;

	test_init(argc, argv);

	sa.sa_sigaction = term;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigaction(SIGTERM, &sa, &old_term)) {
		pr_perror("sigaction");
		return 1;
	}

	/* Values that need the full 64-bit mantissa of the 80-bit format. */
	for (i = 0; i < 8; i++)
		in.st[i] = (i + 1) / 3.0L * 1e7L - (long double)(i * 7) / 11.0L;
	in.st[5] = -in.st[5];
	for (i = 0; i < 16; i++)
		for (j = 0; j < 16; j++)
			in.xmm[i][j] = (uint8_t)(i * 37 + j * 11 + 0x5a) ^ (j >> 2);
	memset(&out, 0, sizeof(out));

	test_daemon();

	asm volatile(
		"fnstcw %[fcw_orig]\n\t"
		"stmxcsr %[mxcsr_orig]\n\t"
		"fldcw %[fcw_set]\n\t"
		"ldmxcsr %[mxcsr_set]\n\t"
		"fldt 0x00(%[st])\n\t"
		"fldt 0x10(%[st])\n\t"
		"fldt 0x20(%[st])\n\t"
		"fldt 0x30(%[st])\n\t"
		"fldt 0x40(%[st])\n\t"
		"fldt 0x50(%[st])\n\t"
		"fldt 0x60(%[st])\n\t"
		"fldt 0x70(%[st])\n\t"
		"fnstsw %[fsw_before]\n\t"
		"movdqa 0x00(%[xi]), %%xmm0\n\t"
		"movdqa 0x10(%[xi]), %%xmm1\n\t"
		"movdqa 0x20(%[xi]), %%xmm2\n\t"
		"movdqa 0x30(%[xi]), %%xmm3\n\t"
		"movdqa 0x40(%[xi]), %%xmm4\n\t"
		"movdqa 0x50(%[xi]), %%xmm5\n\t"
		"movdqa 0x60(%[xi]), %%xmm6\n\t"
		"movdqa 0x70(%[xi]), %%xmm7\n\t"
		"movdqa 0x80(%[xi]), %%xmm8\n\t"
		"movdqa 0x90(%[xi]), %%xmm9\n\t"
		"movdqa 0xa0(%[xi]), %%xmm10\n\t"
		"movdqa 0xb0(%[xi]), %%xmm11\n\t"
		"movdqa 0xc0(%[xi]), %%xmm12\n\t"
		"movdqa 0xd0(%[xi]), %%xmm13\n\t"
		"movdqa 0xe0(%[xi]), %%xmm14\n\t"
		"movdqa 0xf0(%[xi]), %%xmm15\n\t"
		/* Wait for SIGTERM without touching any FPU/SSE state. */
		"1: pause\n\t"
		"cmpl $0, %[stop]\n\t"
		"je 1b\n\t"
		"fnstsw 0(%[fsw])\n\t"
		"fnstcw 0(%[fcw])\n\t"
		"stmxcsr 0(%[mxcsr])\n\t"
		"movdqa %%xmm0, 0x00(%[xo])\n\t"
		"movdqa %%xmm1, 0x10(%[xo])\n\t"
		"movdqa %%xmm2, 0x20(%[xo])\n\t"
		"movdqa %%xmm3, 0x30(%[xo])\n\t"
		"movdqa %%xmm4, 0x40(%[xo])\n\t"
		"movdqa %%xmm5, 0x50(%[xo])\n\t"
		"movdqa %%xmm6, 0x60(%[xo])\n\t"
		"movdqa %%xmm7, 0x70(%[xo])\n\t"
		"movdqa %%xmm8, 0x80(%[xo])\n\t"
		"movdqa %%xmm9, 0x90(%[xo])\n\t"
		"movdqa %%xmm10, 0xa0(%[xo])\n\t"
		"movdqa %%xmm11, 0xb0(%[xo])\n\t"
		"movdqa %%xmm12, 0xc0(%[xo])\n\t"
		"movdqa %%xmm13, 0xd0(%[xo])\n\t"
		"movdqa %%xmm14, 0xe0(%[xo])\n\t"
		"movdqa %%xmm15, 0xf0(%[xo])\n\t"
		"fstpt 0x70(%[so])\n\t"
		"fstpt 0x60(%[so])\n\t"
		"fstpt 0x50(%[so])\n\t"
		"fstpt 0x40(%[so])\n\t"
		"fstpt 0x30(%[so])\n\t"
		"fstpt 0x20(%[so])\n\t"
		"fstpt 0x10(%[so])\n\t"
		"fstpt 0x00(%[so])\n\t"
		"fldcw %[fcw_orig]\n\t"
		"ldmxcsr %[mxcsr_orig]\n\t"
		: [fcw_orig] "=m"(fcw_orig), [mxcsr_orig] "=m"(mxcsr_orig), [fsw_before] "=m"(fsw_before)
		: [fcw_set] "m"((uint16_t){ FCW_SET }), [mxcsr_set] "m"((uint32_t){ MXCSR_SET }), [st] "r"(in.st),
		  [xi] "r"(in.xmm), [xo] "r"(out.xmm), [so] "r"(out.st), [fsw] "r"(&out.fsw), [fcw] "r"(&out.fcw),
		  [mxcsr] "r"(&out.mxcsr), [stop] "m"(stop)
		: "memory", "cc", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)", "xmm0", "xmm1",
		  "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
		  "xmm14", "xmm15");

	test_waitsig(); /* returns at once: SIGTERM has been received */

	if (out.fcw != FCW_SET) {
		fail("x87 control word %#x, expected %#x", out.fcw, FCW_SET);
		return 1;
	}
	if (out.mxcsr != MXCSR_SET) {
		fail("MXCSR %#x, expected %#x", out.mxcsr, MXCSR_SET);
		return 1;
	}
	if (out.fsw != fsw_before) {
		fail("x87 status word %#x, expected %#x (stack top/flags changed)", out.fsw, fsw_before);
		return 1;
	}
	for (i = 0; i < 8; i++)
		if (memcmp(&out.st[i], &in.st[i], 10)) {
			fail("x87 register loaded from value %d differs: %.20Lg, expected %.20Lg", i, out.st[i], in.st[i]);
			return 1;
		}
	for (i = 0; i < 16; i++)
		if (memcmp(out.xmm[i], in.xmm[i], 16)) {
			fail("xmm%d differs", i);
			return 1;
		}

	pass();
	return 0;
}
