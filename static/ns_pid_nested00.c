#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "zdtmtst.h"
#include "ns_ready.h"

const char *test_doc = "Pid namespaces nested in the test's: the test unshares CLONE_NEWPID and forks the "
		       "namespace's init and a second member; the init forks a member with a thread, a zombie "
		       "and a child that nests one more pid namespace. After C/R every process has its pids on "
		       "every level (getpid, gettid, NSpid, NSpgid, NSsid), the zombie its status, the test's "
		       "pid_for_children is the nested namespace and a new child lands in it";
const char *test_author = "Stasis developers";

/* the last n fields of a /proc status line, e.g. NSpid */
static int nsfield(pid_t pid, const char *key, int *out, int max)
{
	char path[64], line[256];
	FILE *f;
	int n = 0;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strlen(key);

		if (strncmp(line, key, strlen(key)) || *p != ':')
			continue;
		p++;
		while (n < max) {
			char *end;
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			out[n++] = v;
			p = end;
		}
	}
	fclose(f);
	return n;
}

static volatile int thread_tid;

static void *thread_fn(void *arg)
{
	thread_tid = syscall(SYS_gettid);
	for (;;)
		pause();
	return arg;
}

/* what a process sees of its pids at set-up, compared after C/R */
struct ids {
	pid_t pid;
	char lines[3][256];
};

static const char *keys[3] = { "NSpid:", "NSpgid:", "NSsid:" };

static int read_ids(struct ids *x)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int i, n = 0;

	if (!f)
		return -1;
	x->pid = getpid();
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < 3; i++)
			if (!strncmp(line, keys[i], strlen(keys[i]))) {
				snprintf(x->lines[i], sizeof(x->lines[i]), "%s", line);
				n++;
			}
	fclose(f);
	return n == 3 ? 0 : -1;
}

static int check_ids(const struct ids *before, pid_t want_pid, int want_levels, const char *who)
{
	struct ids now;
	int i, v[8];

	if (read_ids(&now) || now.pid != before->pid || (want_pid && now.pid != want_pid)) {
		fprintf(stderr, "%s: getpid %d, was %d\n", who, now.pid, before->pid);
		return 1;
	}
	for (i = 0; i < 3; i++)
		if (strcmp(now.lines[i], before->lines[i])) {
			fprintf(stderr, "%s: %s was %s", who, now.lines[i], before->lines[i]);
			return 1;
		}
	if (nsfield(0, "NSpid", v, 8) != want_levels || v[want_levels - 1] != now.pid) {
		fprintf(stderr, "%s: not %d pid namespaces deep: %s", who, want_levels, now.lines[0]);
		return 1;
	}
	return 0;
}

static int levels;	/* the test's own NSpid levels */

/* pid 3 of the nested namespace: a thread whose tid must stay */
static int member_with_thread(void)
{
	pthread_t th;
	struct ids me;
	int tid;

	if (pthread_create(&th, NULL, thread_fn, NULL))
		return 80;
	while (!thread_tid)
		usleep(1000);
	tid = thread_tid;
	if (read_ids(&me))
		return 83;
	ns_say_ready();
	ns_wait_go();
	if (check_ids(&me, 0, levels + 1, "a member with a thread"))
		return 81;
	if (thread_tid != tid || syscall(SYS_tgkill, getpid(), tid, 0)) {
		fprintf(stderr, "member 3: its thread %d is gone\n", tid);
		return 82;
	}
	return 0;
}

/* pid 5 of the nested namespace, which unshares one more and forks its init */
static int nester(void)
{
	struct ids me;
	pid_t inner;
	int st, p[2];
	char c;

	if (pipe(p) || unshare(CLONE_NEWPID))
		return 70;
	inner = fork();
	if (inner < 0)
		return 71;
	if (inner == 0) {
		struct ids in;

		close(p[1]);
		if (read_ids(&in) || read(p[0], &c, 1) != 1)
			_exit(72);
		_exit(check_ids(&in, 1, levels + 2, "the innermost init") ? 73 : 0);
	}
	close(p[0]);
	if (read_ids(&me))
		return 76;
	ns_say_ready();
	ns_wait_go();
	if (check_ids(&me, 0, levels + 1, "the nester"))
		return 74;
	if (write(p[1], "g", 1) != 1 || waitpid(inner, &st, 0) != inner || !WIFEXITED(st) ||
	    WEXITSTATUS(st)) {
		fprintf(stderr, "the innermost init: status %#x\n", st);
		return 75;
	}
	return 0;
}

static int second_made[2];	/* the test forks member 2 before the init forks anything: its pid is 2 */
static int second_done[2];	/* EOF once the test reaped member 2: the init's exit would kill it */

/* pid 1 of the nested namespace */
static int init_fn(void)
{
	pid_t member, zombie, nest;
	struct ids me;
	int st;
	char c;

	close(second_made[1]);
	close(second_done[1]);
	if (read(second_made[0], &c, 1) != 1)
		return 65;
	close(second_made[0]);
	member = fork();
	if (member == 0)
		_exit(member_with_thread());
	zombie = fork();
	if (zombie == 0)
		_exit(42);
	nest = fork();
	if (nest == 0)
		_exit(nester());
	if (member < 0 || zombie < 0 || nest < 0 || read_ids(&me))
		return 60;
	{	/* the zombie stays one until after C/R */
		siginfo_t si = {};

		if (waitid(P_PID, zombie, &si, WEXITED | WNOWAIT))
			return 64;
	}
	ns_say_ready();
	ns_wait_go();
	if (check_ids(&me, 1, levels + 1, "init"))
		return 61;
	if (waitpid(zombie, &st, 0) != zombie || !WIFEXITED(st) || WEXITSTATUS(st) != 42) {
		fprintf(stderr, "init: the zombie's status %#x\n", st);
		return 62;
	}
	if (waitpid(member, &st, 0) != member || !WIFEXITED(st) || WEXITSTATUS(st) ||
	    waitpid(nest, &st, 0) != nest || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "init: a child's status %#x\n", st);
		return 63;
	}
	if (read(second_done[0], &c, 1) != 0)	/* the namespace dies with its init: member 2 first */
		return 66;
	return 0;
}

static ino_t ns_ino(pid_t pid, const char *kind)
{
	char path[64];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, kind);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", kind);
	return stat(path, &st) ? 0 : st.st_ino;
}

int main(int argc, char **argv)
{
	pid_t init, second, late;
	int depth_self, depth_init, v[8], st, i;
	ino_t nested;

	test_init(argc, argv);

	levels = nsfield(0, "NSpid", v, 8);
	if (ns_ready_init() || pipe(second_made) || pipe(second_done) ||
	    unshare(CLONE_NEWPID)) {
		pr_perror("pipe/unshare(CLONE_NEWPID)");
		return 1;
	}
	init = fork();
	if (init < 0) {
		pr_perror("fork");
		return 1;
	}
	if (init == 0)
		_exit(init_fn());
	second = fork();
	if (second == 0) {
		struct ids me;

		close(second_made[0]);
		close(second_made[1]);
		close(second_done[0]);
		close(second_done[1]);
		if (read_ids(&me))
			_exit(50);
		ns_say_ready();
		ns_wait_go();
		_exit(check_ids(&me, 2, levels + 1, "member 2"));
	}
	close(second_made[0]);
	close(second_done[0]);
	if (second < 0 || write(second_made[1], "s", 1) != 1) {
		pr_perror("fork/write");
		return 1;
	}
	close(second_made[1]);
	if (ns_wait_ready(4))	/* init, member 3, the nester, member 2 */
		return 1;
	nested = ns_ino(init, "pid");
	if (!nested || nested == ns_ino(0, "pid") || ns_ino(0, "pid_for_children") != nested) {
		pr_err("the nested pid namespace is not as set up\n");
		return 1;
	}

	test_daemon();
	test_waitsig();

	depth_self = nsfield(0, "NSpid", v, 8);
	depth_init = nsfield(init, "NSpid", v, 8);
	if (depth_init != depth_self + 1 || v[depth_init - 1] != 1) {
		fail("init: NSpid has %d levels (the test %d), the last %d", depth_init, depth_self,
		     depth_init > 0 ? v[depth_init - 1] : -1);
		return 1;
	}
	if (nsfield(init, "NSsid", v, 8) != depth_init || nsfield(second, "NSpgid", v, 8) != depth_init) {
		fail("NSsid/NSpgid levels");
		return 1;
	}
	if (ns_ino(init, "pid") != ns_ino(second, "pid") || ns_ino(0, "pid_for_children") !=
	    ns_ino(init, "pid") || ns_ino(0, "pid") == ns_ino(init, "pid")) {
		fail("the nested pid namespace is not shared as before (or pid_for_children changed)");
		return 1;
	}
	late = fork();	/* lands in the nested namespace */
	if (late == 0)
		_exit(nsfield(0, "NSpid", v, 8) == levels + 1 && getpid() > 2 ? 0 : 1);
	if (late < 0 || waitpid(late, &st, 0) != late || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fail("a new child in the nested namespace (status %#x)", st);
		return 1;
	}
	if (ns_go(4))
		return 1;
	for (i = 0; i < 2; i++) {
		pid_t p = i ? init : second;	/* init last: it waits for member 2's end (second_done) */

		if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fail("child %d found its pids changed (status %#x)", p, st);
			return 1;
		}
		if (p == second)
			close(second_done[1]);	/* the init may end now */
	}
	pass();
	return 0;
}
