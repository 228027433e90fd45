/*
 * test_init() and the life cycle of a ZDTM test (upstream CRIU's protocol):
 * parse options, maybe build namespaces (ns.c), drop to the test uid, log to
 * <outfile>.inprogress, daemonize and publish the pid only once the test calls
 * test_daemon(), then run until SIGTERM.
 */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "zdtmtst.h"
#include "internal.h"

futex_t sig_received;

static char *outfile;
TEST_OPTION(outfile, string, "output file", 1);
char *pidfile;
TEST_OPTION(pidfile, string, "file to store pid", 1);

const char *zdtm_outfile(void)
{
	return outfile;
}

/* Shared between the launcher and the daemonized test: how far the test got. */
enum {
	TEST_INIT_STAGE = 0,
	TEST_RUNNING_STAGE, /* test_daemon() was called */
	TEST_FAIL_STAGE,    /* the test died before that */
};

static struct {
	futex_t stage;
} *test_shared_state;

/* Set only in the launcher, whose SIGCHLD means "the test died before getting ready". */
static volatile sig_atomic_t is_launcher;
/* The process that owns the outfile and pidfile (the pid C/R must preserve). */
static pid_t master_pid;
/* Kept open on the work dir for the whole test, so the atexit renames work even after chdir(). */
static int cwd_fd = -1;

static void sig_hand(int signo)
{
	if (is_launcher && signo == SIGCHLD)
		futex_set_and_wake(&test_shared_state->stage, TEST_FAIL_STAGE);
	futex_set_and_wake(&sig_received, signo);
	/* Unblocks a test sitting in test_wait_pre_dump(). */
	if (criu_status_in >= 0)
		close(criu_status_in);
}

int test_fork_id(int id)
{
	(void)id;
	return fork();
}

static void test_fini(void)
{
	char path[PATH_MAX];

	/* Children that exit() run this too; only the test itself may finish the files. */
	if (getpid() != master_pid)
		return;

	snprintf(path, sizeof(path), "%s%s", outfile, INPROGRESS);
	renameat(cwd_fd, path, cwd_fd, outfile);
	unlinkat(cwd_fd, pidfile, 0);
}

static void setup_outfile(void)
{
	/* The harness cleans outputs before a run; a leftover means a stale or concurrent test. */
	if (!access(outfile, F_OK) || errno != ENOENT) {
		fprintf(stderr, "Output file %s appears to exist, aborting\n", outfile);
		exit(1);
	}

	cwd_fd = open(".", O_RDONLY);
	if (cwd_fd < 0) {
		fprintf(stderr, "Unable to open the work dir: %m\n");
		exit(1);
	}
	if (atexit(test_fini)) {
		fprintf(stderr, "Can't register exit function\n");
		exit(1);
	}
	if (test_log_init(outfile, INPROGRESS))
		exit(1);
}

void zdtm_redir_stdin(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0) {
		pr_perror("Can't open /dev/null");
		exit(1);
	}
	if (dup2(fd, STDIN_FILENO) < 0) {
		pr_perror("Can't redirect stdin");
		exit(1);
	}
	if (fd > STDERR_FILENO)
		close(fd);
}

static void switch_creds(void)
{
	char *val;

	/* --rootless: the engine runs unprivileged and the test stays who it is. */
	if (getenv("ZDTM_ROOTLESS"))
		return;

	/* Groups first and uid last: each step needs the privileges the next one drops. */
	val = getenv("ZDTM_GROUPS");
	if (val) {
		gid_t groups[NGROUPS_MAX];
		char *copy = strdup(val), *tok, *save = NULL;
		size_t n = 0;

		for (tok = strtok_r(copy, " ", &save); tok && n < NGROUPS_MAX; tok = strtok_r(NULL, " ", &save))
			groups[n++] = (gid_t)atoi(tok);
		free(copy);
		if (setgroups(n, groups)) {
			fprintf(stderr, "Can't set groups: %m\n");
			exit(1);
		}
	}

	val = getenv("ZDTM_GID");
	if (val && setgid(atoi(val))) {
		fprintf(stderr, "Can't set gid: %m\n");
		exit(1);
	}

	val = getenv("ZDTM_UID");
	if (val && setuid(atoi(val))) {
		fprintf(stderr, "Can't set uid: %m\n");
		exit(1);
	}
}

static void set_handlers(void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGCHLD, &sa, NULL)) {
		fprintf(stderr, "Can't set signal handlers: %m\n");
		exit(1);
	}
}

static void map_shared_state(void)
{
	/* MAP_SHARED: the launcher and the forked test must see the same futex. */
	test_shared_state = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (test_shared_state == MAP_FAILED) {
		pr_perror("Unable to map a shared memory");
		exit(1);
	}
	futex_set(&test_shared_state->stage, TEST_INIT_STAGE);
}

/*
 * The launcher's side of daemonizing: wait until the test is ready (or dead),
 * publish its pid and leave, so that "make <t>.pid" returns only then.
 */
static void __attribute__((noreturn)) launcher_wait(pid_t pid)
{
	int status;

	futex_wait_while(&test_shared_state->stage, TEST_INIT_STAGE);

	if (futex_get(&test_shared_state->stage) == TEST_FAIL_STAGE) {
		if (waitpid(pid, &status, 0) != pid) {
			pr_perror("Unable to wait %d", pid);
			exit(1);
		}
		if (WIFEXITED(status))
			pr_err("Test exited unexpectedly with code %d\n", WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			pr_err("Test exited on unexpected signal %d\n", WTERMSIG(status));
		exit(1);
	}

	if (write_pidfile(pid))
		exit(1);
	/* _exit: no atexit hook and no stdio flush in the launcher */
	_exit(0);
}

/* The test's side: a session of its own, SIGCHLD back to default for the test's own children. */
static void become_test(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };

	is_launcher = 0;
	if (setsid() < 0) {
		pr_perror("Can't become session group leader");
		exit(1);
	}
	master_pid = getpid();

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL)) {
		pr_perror("Can't reset SIGCHLD handler");
		exit(1);
	}
	srand48(time(NULL));
}

void test_init(int argc, char **argv)
{
	char *val;
	pid_t pid;

	parseargs(argc, argv);

	val = getenv("ZDTM_NEWNS");
	if (val && !strcmp(val, "1")) {
		ns_create(argc, argv); /* never returns */
		exit(1);
	} else if (val && !strcmp(val, "2")) {
		/* We are the init of the new namespaces; only the forked test comes back. */
		if (test_log_init(outfile, "ns"))
			exit(1);
		zdtm_redir_stdin();
		ns_init(argc, argv);
	} else if (init_notify()) {
		fprintf(stderr, "Can't init pre-dump notification: %m\n");
		exit(1);
	}

	switch_creds();

	/* Dropping uids clears the dumpable flag; the engine must be able to ptrace us. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)) {
		fprintf(stderr, "Can't set the dumpable flag: %m\n");
		exit(1);
	}

	set_handlers(sig_hand);
	setup_outfile();
	zdtm_redir_stdin();
	map_shared_state();

	is_launcher = 1;
	pid = fork();
	if (pid < 0) {
		pr_perror("Daemonizing failed");
		exit(1);
	}
	if (pid)
		launcher_wait(pid);

	become_test();
}

void test_daemon(void)
{
	futex_set_and_wake(&test_shared_state->stage, TEST_RUNNING_STAGE);
}

int test_go(void)
{
	return !futex_get(&sig_received);
}

void test_waitsig(void)
{
	futex_wait_while(&sig_received, 0);
}

/* test_init_ns(): like test_init, but the test runs as @fn in a clone() with @clone_flags. */
struct ns_test_arg {
	int argc;
	char **argv;
	unsigned long clone_flags;
	int (*fn)(int, char **);
};

static int ns_test_main(void *_arg)
{
	struct ns_test_arg *a = _arg;

	become_test();
	/* The outfile belongs to the test's mount namespace when it has its own. */
	if (a->clone_flags & CLONE_NEWNS)
		setup_outfile();
	exit(a->fn(a->argc, a->argv) ? 1 : 0);
}

void test_init_ns(int argc, char **argv, unsigned long clone_flags, int (*fn)(int, char **))
{
	const size_t stack_size = 256 << 10;
	struct ns_test_arg arg = { argc, argv, clone_flags, fn };
	char *stack;
	pid_t pid;

	set_handlers(sig_hand);
	parseargs(argc, argv);
	if (!(clone_flags & CLONE_NEWNS))
		setup_outfile();
	zdtm_redir_stdin();
	map_shared_state();

	stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED) {
		pr_perror("Can't allocate a stack");
		exit(1);
	}

	is_launcher = 1;
	pid = clone(ns_test_main, stack + stack_size, clone_flags | SIGCHLD, &arg);
	if (pid < 0) {
		pr_perror("Daemonizing failed");
		exit(1);
	}
	launcher_wait(pid);
}

/*
 * pre-dump-notify: the harness writes an int to /proc/PID/fd/<FDIN> before each
 * pre-dump and reads the reply from /proc/PID/fd/<FDOUT>.  Both are pipes we create
 * at those fd numbers.
 */
int criu_status_in = -1, criu_status_in_peer = -1, criu_status_out = -1;

int init_notify(void)
{
	char *in = getenv("ZDTM_NOTIFY_FDIN"), *out = getenv("ZDTM_NOTIFY_FDOUT");
	int p[2];

	if (!in)
		return 0;
	if (!out)
		return -1;
	criu_status_in = atoi(in);
	criu_status_out = atoi(out);

	/* Keep the write end: the pipe must not see EOF while nobody from outside has it open. */
	if (pipe(p))
		return -1;
	criu_status_in_peer = p[1];
	if (dup2(p[0], criu_status_in) < 0)
		goto err_in;
	close(p[0]);

	if (pipe(p))
		goto err_in;
	close(p[0]);
	if (dup2(p[1], criu_status_out) < 0) {
		close(p[1]);
		goto err_in;
	}
	close(p[1]);
	return 0;
err_in:
	close(criu_status_in);
	close(criu_status_in_peer);
	criu_status_in = criu_status_in_peer = criu_status_out = -1;
	return -1;
}

int test_wait_pre_dump(void)
{
	int v;

	if (criu_status_in < 0) {
		pr_err("Fd criu_status_in is not initialized\n");
		return -1;
	}
	if (read(criu_status_in, &v, sizeof(v)) != sizeof(v)) {
		/* EBADF after SIGTERM closed it is the normal way out */
		if (errno != EBADF || !futex_get(&sig_received))
			pr_perror("Can't wait pre-dump");
		return -1;
	}
	pr_err("pre-dump\n");
	return 0;
}

int test_wait_pre_dump_ack(void)
{
	int v = 0;

	if (criu_status_out < 0) {
		pr_err("Fd criu_status_out is not initialized\n");
		return -1;
	}
	pr_err("pre-dump-ack\n");
	if (write(criu_status_out, &v, sizeof(v)) != sizeof(v)) {
		pr_perror("Can't reply to pre-dump notify");
		return -1;
	}
	return 0;
}
