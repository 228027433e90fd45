#ifndef ZDTM_OFD_LOCK_UTIL_H
#define ZDTM_OFD_LOCK_UTIL_H

#include <fcntl.h>
#include <sys/types.h>

/* open file description locks (F_OFD_*): compiled into the programs that include this (upstream's AUX_SRC) */

/* F_OFD_SETLK of type on [start, start+len) of fd; 0 or -1 with errno */
extern int ofd_lock(int fd, short type, off_t start, off_t len);

/*
 * What a new description of path sees on [start, start+len) when it asks for a write lock (F_OFD_GETLK):
 * fills *fl; 0 or -1. An OFD lock shows l_pid -1.
 */
extern int ofd_probe(const char *path, off_t start, off_t len, struct flock *fl);

/* 1 if /proc/locks has an OFDLCK of type ("READ"/"WRITE") on the inode of fd from start to end, 0 if not */
extern int ofd_in_proc_locks(int fd, const char *type, off_t start, off_t end);

#endif
