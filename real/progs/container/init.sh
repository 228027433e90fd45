# The container's init, run by busybox sh as pid 1 of the namespaces unshare(1) made (user, pid, mount,
# uts, ipc, net, time): it moves into its root (a directory of busybox-static's Debian package), mounts
# its own proc and tmpfs, lets go of the old root and of the harness's files, and becomes the work.
set -e
R="$1"
mount --make-rprivate /
mount --bind "$R" "$R"
cd "$R"
mkdir -p old proc tmp data
pivot_root . old
cd /
mount -t proc proc /proc
mount -t tmpfs -o size=8m,mode=1777 tmpfs /tmp
umount -l /old
rmdir /old
hostname stasis-ctr
ip link set lo up
exec 0<&- 1>/data/stdout 2>&1
exec setsid /bin/sh /work.sh
