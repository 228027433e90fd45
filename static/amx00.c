#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "A task with AMX permission (ARCH_REQ_XCOMP_PERM) and a configured tile holding data: after C/R "
		       "ARCH_GET_XCOMP_PERM still has XTILEDATA and tmm0 holds the data";
const char *test_author = "Stasis developers";

#define ARCH_GET_XCOMP_PERM 0x1022
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

#define ROWS 16
#define COLSB 64

struct tilecfg {
	uint8_t palette_id;
	uint8_t start_row;
	uint8_t reserved[14];
	uint16_t colsb[16];
	uint8_t rows[16];
} __attribute__((packed, aligned(64)));

static uint8_t tile_in[ROWS * COLSB] __attribute__((aligned(64)));
static uint8_t tile_out[ROWS * COLSB] __attribute__((aligned(64)));
static sigjmp_buf jb;
static volatile int faultsig;

static void on_fault(int sig)
{
	faultsig = sig;
	siglongjmp(jb, 1);
}

static int have_amx(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return !!(d & (1U << 24)); /* AMX-TILE */
}

/* Store tmm0 into tile_out; the signal number if the instruction faulted (no tile config), else 0 */
static int store_tile(void)
{
	faultsig = 0;
	memset(tile_out, 0, sizeof(tile_out));
	if (sigsetjmp(jb, 1) == 0) {
		asm volatile("tilestored %%tmm0, (%0,%1,1)" : : "r"(tile_out), "r"((long)COLSB) : "memory");
		return 0;
	}
	return faultsig;
}

static unsigned long xcomp_perm(void)
{
	unsigned long bits = 0;

	if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &bits))
		return 0;
	return bits;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_fault };
	struct tilecfg cfg;
	unsigned long perm;
	int i, sig;

	test_init(argc, argv);

	if (!have_amx() || syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)) {
		skip("no AMX (cpuid %d, errno %d)", have_amx(), errno);
		test_daemon();
		test_waitsig();
		pass();
		return 0;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGILL, &sa, NULL) || sigaction(SIGSEGV, &sa, NULL)) {
		pr_perror("sigaction");
		return 1;
	}
	perm = xcomp_perm();
	if (!(perm & (1UL << XFEATURE_XTILEDATA))) {
		pr_err("ARCH_GET_XCOMP_PERM %#lx lacks XTILEDATA right after the request\n", perm);
		return 1;
	}
	for (i = 0; i < ROWS * COLSB; i++)
		tile_in[i] = (uint8_t)(i * 13 + 5);
	memset(&cfg, 0, sizeof(cfg));
	cfg.palette_id = 1;
	cfg.rows[0] = ROWS;
	cfg.colsb[0] = COLSB;
	asm volatile("ldtilecfg %0" : : "m"(cfg));
	asm volatile("tileloadd (%0,%1,1), %%tmm0" : : "r"(tile_in), "r"((long)COLSB) : "memory");
	sig = store_tile();
	if (sig || memcmp(tile_in, tile_out, sizeof(tile_in))) {
		pr_err("tmm0 does not hold the data right after loading it (signal %d)\n", sig);
		return 1;
	}
	test_msg("xcomp perm %#lx\n", perm);

	test_daemon();
	test_waitsig();

	perm = xcomp_perm();
	if (!(perm & (1UL << XFEATURE_XTILEDATA))) {
		fail("ARCH_GET_XCOMP_PERM %#lx lacks XTILEDATA (bit %d)", perm, XFEATURE_XTILEDATA);
		return 1;
	}
	sig = store_tile();
	if (sig) {
		fail("tilestored raised signal %d: the tile configuration is lost", sig);
		return 1;
	}
	if (memcmp(tile_in, tile_out, sizeof(tile_in))) {
		for (i = 0; i < ROWS * COLSB && tile_in[i] == tile_out[i]; i++)
			;
		fail("tmm0 differs at byte %d: %#x, expected %#x", i, tile_out[i], tile_in[i]);
		return 1;
	}
	asm volatile("tilerelease");
	pass();
	return 0;
}
