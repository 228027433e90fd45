#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>

#include "zdtmtst.h"

const char *test_doc = "A task with AMX permission (ARCH_REQ_XCOMP_PERM) that holds no tile state at the dump: after "
		       "C/R ARCH_GET_XCOMP_PERM still has XTILEDATA and the tile instructions work (without the "
		       "permission they raise SIGILL)";
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

static unsigned long xcomp_perm(void)
{
	unsigned long bits = 0;

	if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &bits))
		return 0;
	return bits;
}

/* Load tile_in into tmm0 and store it back; the signal number if an instruction faulted, else 0 */
static int use_tiles(void)
{
	struct tilecfg cfg;
	int i;

	for (i = 0; i < ROWS * COLSB; i++)
		tile_in[i] = (uint8_t)(i * 7 + 3);
	memset(tile_out, 0, sizeof(tile_out));
	memset(&cfg, 0, sizeof(cfg));
	cfg.palette_id = 1;
	cfg.rows[0] = ROWS;
	cfg.colsb[0] = COLSB;
	faultsig = 0;
	if (sigsetjmp(jb, 1) == 0) {
		asm volatile("ldtilecfg %0" : : "m"(cfg));
		asm volatile("tileloadd (%0,%1,1), %%tmm0" : : "r"(tile_in), "r"((long)COLSB) : "memory");
		asm volatile("tilestored %%tmm0, (%0,%1,1)" : : "r"(tile_out), "r"((long)COLSB) : "memory");
		asm volatile("tilerelease");
		return memcmp(tile_in, tile_out, sizeof(tile_in)) ? -1 : 0;
	}
	return faultsig;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_fault };
	unsigned long perm;
	int ret;

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
	/* The tiles work, and are released again: no tile state at the dump */
	ret = use_tiles();
	if (ret) {
		pr_err("the tile instructions fail right after the request (%d)\n", ret);
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
	ret = use_tiles();
	if (ret) {
		fail("the tile instructions fail after C/R (%s %d)", ret > 0 ? "signal" : "data differs", ret);
		return 1;
	}
	pass();
	return 0;
}
