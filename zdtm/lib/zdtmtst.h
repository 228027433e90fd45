/*
 * The ZDTM test library: the contract between a test program and the harness.
 * Same API and protocol as upstream CRIU's test/zdtm/lib, so programs move both ways unchanged.
 */
#ifndef ZDTM_ZDTMTST_H
#define ZDTM_ZDTMTST_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define INPROGRESS ".inprogress"

#ifndef PAGE_SIZE
#define PAGE_SIZE 4096
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#endif

#define __stringify_1(x) #x
#define __stringify(x) __stringify_1(x)

/* Stacks handed to clone() must be 16-byte aligned on aarch64 (and x86-64 ABI). */
#define __stack_aligned__ __attribute__((aligned(16)))

#ifndef PR_SET_CHILD_SUBREAPER
#define PR_SET_CHILD_SUBREAPER 36
#endif

#define TEST_MSG_BUFFER_SIZE 2048

/* Life cycle */
extern void test_init(int argc, char **argv);
extern void test_ext_init(int argc, char **argv);
extern int test_fork_id(int id);
#define test_fork() test_fork_id(-1)
extern void test_daemon(void);
extern void test_waitsig(void);
extern int test_go(void);
extern void test_init_ns(int argc, char **argv, unsigned long clone_flags, int (*fn)(int, char **));

/* pre-dump-notify handshake (fds 100/101) */
extern int test_wait_pre_dump(void);
extern int test_wait_pre_dump_ack(void);

extern int write_pidfile(int pid);

/* Parse the command line against the TEST_OPTIONs (test_init does this itself). */
extern void parseargs(int argc, char **argv);
/* Point stdout and stderr at <outfile><suffix> (O_EXCL|O_APPEND), unbuffered. */
extern int test_log_init(const char *outfile, const char *suffix);

extern pid_t sys_clone_unified(unsigned long flags, void *child_stack, void *parent_tid, void *child_tid,
			       unsigned long newtls);

/* Messages: every line is "HH:MM:SS.mmm: <pid>: ..." on stderr (the outfile). */
extern void test_msg(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Set by seccomp tests: test_msg then skips the time/pid prefix (no gettimeofday/getpid). */
extern int zdtm_seccomp;

#define pr_err(format, arg...) ({ test_msg("ERR: %s:%d: " format, __FILE__, __LINE__, ##arg); 1; })
#define pr_perror(format, arg...) \
	({ test_msg("ERR: %s:%d: " format " (errno = %d (%s))\n", __FILE__, __LINE__, ##arg, errno, strerror(errno)); 1; })
#define pr_info(format, arg...) test_msg(format, ##arg)

#define fail(format, arg...) \
	test_msg("FAIL: %s:%d: " format " (errno = %d (%s))\n", __FILE__, __LINE__, ##arg, errno, strerror(errno))
#define skip(format, arg...) test_msg("SKIP: " format "\n", ##arg)
#define pass() test_msg("PASS\n")

/* Documentation printed by --help */
extern const char *test_doc;
extern const char *test_author;

/* Options: TEST_OPTION(name, type, doc, required); type is bool, int, uint, long, ulong or string. */
struct long_opt {
	const char *name;
	const char *type;
	const char *doc;
	int is_required;
	int (*parse_opt)(char *arg, void *value);
	void *value;
	struct long_opt *next;
};

extern void __push_opt(struct long_opt *opt);

extern int parse_opt_bool(char *param, void *arg);
#define __check_bool(name) _Static_assert(sizeof(name) == sizeof(int), "bool option must be an int")
extern int parse_opt_int(char *param, void *arg);
#define __check_int(name) _Static_assert(sizeof(name) == sizeof(int), "int option must be an int")
extern int parse_opt_uint(char *param, void *arg);
#define __check_uint(name) _Static_assert(sizeof(name) == sizeof(unsigned int), "uint option")
extern int parse_opt_long(char *param, void *arg);
#define __check_long(name) _Static_assert(sizeof(name) == sizeof(long), "long option")
extern int parse_opt_ulong(char *param, void *arg);
#define __check_ulong(name) _Static_assert(sizeof(name) == sizeof(unsigned long), "ulong option")
extern int parse_opt_string(char *param, void *arg);
#define __check_string(name) _Static_assert(sizeof(name) == sizeof(char *), "string option")

#define TEST_OPTION(name, type, doc, is_required)                                                     \
	__check_##type(name);                                                                         \
	static struct long_opt __long_opt_##name = { #name, #type, doc, is_required, parse_opt_##type, \
						     &name, NULL };                                   \
	static void __init_opt_##name(void) __attribute__((constructor));                             \
	static void __init_opt_##name(void)                                                           \
	{                                                                                             \
		__push_opt(&__long_opt_##name);                                                       \
	}

/* Data generation and checking: mrand48 fill, CRC32 in the last 4 bytes (datagen) */
extern void datagen(uint8_t *buffer, unsigned length, uint32_t *crc);
extern void datagen2(uint8_t *buffer, unsigned length, uint32_t *crc);
extern int datachk(const uint8_t *buffer, unsigned length, uint32_t *crc);
extern int datasum(const uint8_t *buffer, unsigned length, uint32_t *crc);

/* Cross-process barrier over a pipe */
typedef struct {
	unsigned long seq;
	int pipes[2];
} task_waiter_t;

extern void task_waiter_init(task_waiter_t *t);
extern void task_waiter_fini(task_waiter_t *t);
extern void task_waiter_wait4(task_waiter_t *t, unsigned int lockid);
extern void task_waiter_complete(task_waiter_t *t, unsigned int lockid);
extern void task_waiter_complete_current(task_waiter_t *t);

/* Stream helpers */
extern int set_nonblock(int fd, int on);
extern int pipe_in2out(int infd, int outfd, uint8_t *buffer, int length);
extern int read_data(int fd, unsigned char *buf, int len);
extern int write_data(int fd, const unsigned char *buf, int len);

/* Misc */
extern int read_value(const char *name, char *buf, size_t len);
extern int write_value(const char *name, const char *val);
extern int get_cwd_check_perm(char **result);

/* sockets (net.c): TCP server on the wildcard address from *port on (the port it got is written back),
 * its accept, a client; a unix socket name for a file of the test's directory */
#include <stdbool.h>
struct zdtm_tcp_opts {
	bool reuseaddr;
	bool reuseport;
	int flags; /* SOCK_NONBLOCK, SOCK_CLOEXEC */
};
extern int tcp_init_server(int family, int *port);
extern int tcp_init_server_with_opts(int family, int *port, struct zdtm_tcp_opts *opts);
extern int tcp_accept_server(int sock);
extern int tcp_init_client(int family, char *servIP, unsigned short servPort);
extern int tcp_init_client_with_fd(int sock, int family, char *servIP, unsigned short servPort);
struct sockaddr_un;
extern int unix_fill_sock_name(struct sockaddr_un *name, char *relFilename);

#define ssprintf(s, fmt, ...)                                                        \
	({                                                                           \
		int ___ret;                                                          \
		___ret = snprintf(s, sizeof(s), fmt, ##__VA_ARGS__);                 \
		if (___ret >= (int)sizeof(s))                                        \
			abort();                                                     \
		___ret;                                                              \
	})

#endif /* ZDTM_ZDTMTST_H */
