#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "predump_mem.h"

const char *test_doc = "A process that keeps writing its pages; once the engine's dirty tracking shows (after a "
		       "pre-dump) it forks a child that keeps writing its copy-on-write copy: the child has no "
		       "tracking of its own and the parent's pages are shared with it. After C/R both check every "
		       "page against their own ledger";
const char *test_author = "Stasis developers";

#define PAGES 512

static struct pm_region reg;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	stop = 1;
}

/* write until told to stop, then check; returns the exit code */
static int run(const char *who, int forked, int (*go)(void))
{
	uint32_t seed = forked ? 0xc0ffee : 0xfeed;
	char why[256] = "";
	int ahead = 0, i;
	long n = 0;

	while (go()) {
		int page = pm_rand(&seed) % reg.pages;

		pm_fill(&reg, page, reg.ledger[page] + 1);
		if (++n % 8 == 0)
			usleep(500);
		if (!forked && n % 256 == 0)
			return -1; /* the parent looks at its tracking now and then */
	}
	for (i = 0; i < reg.pages; i++)
		if (pm_check_page(&reg, i, &ahead, why, sizeof(why)) || ahead > 1) {
			fail("%s: %s", who, why[0] ? why : "more than one page in flight");
			return 1;
		}
	return 0;
}

static int child_go(void)
{
	return !stop;
}

int main(int argc, char **argv)
{
	pid_t pid = 0;
	int i, status, ret;

	test_init(argc, argv);
	reg.pages = PAGES;
	reg.base = mmap(NULL, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg.ledger = mmap(NULL, PAGES * sizeof(uint32_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	if (reg.base == MAP_FAILED || reg.ledger == MAP_FAILED)
		return pr_perror("mmap");
	for (i = 0; i < PAGES; i++)
		pm_fill(&reg, i, 1);

	test_daemon();
	while ((ret = run("parent", 0, test_go)) == -1) {
		if (pid || !pm_tracked())
			continue;
		pid = fork();
		if (pid < 0)
			return pr_perror("fork");
		if (pid == 0) {
			signal(SIGTERM, on_term);
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			_exit(run("child", 1, child_go));
		}
		test_msg("tracking seen: child %d forked\n", pid);
	}
	test_waitsig();
	if (pid) {
		kill(pid, SIGTERM);
		if (waitpid(pid, &status, 0) != pid)
			return pr_perror("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fail("child %d: status %x (its page check failed, see above)", pid, status);
			return 1;
		}
	}
	if (ret)
		return 1;
	pass();
	return 0;
}
