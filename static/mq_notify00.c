#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "zdtmtst.h"

const char *test_doc = "A POSIX message queue with a notification registered (mq_notify, SIGEV_SIGNAL with a "
		       "value): the kernel does not show the value, so the dump must be refused with the tree left "
		       "running; afterwards the registration still fires with its value, and the queue's message "
		       "is still there";
const char *test_author = "Stasis developers";

#define NAME "/zdtm-mq-notify00"

static volatile sig_atomic_t got, value;

static void handler(int sig, siginfo_t *si, void *uc)
{
	got = sig;
	value = si->si_value.sival_int;
}

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 32 }, a;
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };
	int ret = 1, i;
	char buf[32];
	mqd_t mq, wr;

	test_init(argc, argv);

	mq_unlink(NAME);
	mq = mq_open(NAME, O_CREAT | O_EXCL | O_RDONLY | O_NONBLOCK, 0600, &attr);
	wr = mq_open(NAME, O_WRONLY);
	sev.sigev_value.sival_int = 4242;
	if (mq == (mqd_t)-1 || wr == (mqd_t)-1 || sigaction(SIGUSR1, &sa, NULL) || mq_notify(mq, &sev)) {
		pr_perror("mq_open/mq_notify");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (mq_getattr(mq, &a) || a.mq_curmsgs != 0) {
		fail("the queue after the refused dump: %ld messages", a.mq_curmsgs);
		goto out;
	}
	if (mq_send(wr, "wake", 4, 1)) {
		fail("mq_send");
		goto out;
	}
	for (i = 0; i < 100 && !got; i++)
		usleep(10000);
	if (got != SIGUSR1 || value != 4242) {
		errno = 0;
		fail("the notification after the refused dump: signal %d value %d", (int)got, (int)value);
		goto out;
	}
	if (mq_receive(mq, buf, sizeof(buf), NULL) != 4 || memcmp(buf, "wake", 4)) {
		fail("the message");
		goto out;
	}
	pass();
	ret = 0;
out:
	mq_unlink(NAME);
	return ret;
}
