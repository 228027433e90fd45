/*
 * Helpers for the ns_net programs: configuration made with iproute2's ip (and nft), a link read back over
 * rtnetlink (ifindex, flags, MTU, MAC, peer or lower link, master, kind), an IPv4/IPv6 address looked up
 * with getifaddrs(), a route looked up in /proc/net/route and /proc/net/ipv6_route, a UDP datagram sent
 * from one address to another.
 */
#ifndef ZDTM_STATIC_NS_NET_H
#define ZDTM_STATIC_NS_NET_H

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "zdtmtst.h"

/* A shell command (ip ..., nft ...) that must succeed. */
static inline int net_run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st) {
		pr_err("`%s` failed (status %#x)\n", cmd, st);
		return -1;
	}
	return 0;
}

/*
 * Until the link `name` runs (IFF_RUNNING: its operstate is up): the kernel turns a veth's carrier on from a
 * work queue (linkwatch), and that work then resets the link's IPv6 settings that follow its MTU
 * (ipv6/conf/NAME/mtu). A no-op `ip link set` after it waits for that work to end (both hold the RTNL lock):
 * what is written after this stays. 0, or -1 after 10 s.
 */
static inline int net_link_settled(const char *name)
{
	struct ifreq ifr;
	int i, sk;

	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return pr_perror("socket");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	for (i = 0; i < 1000; i++) {
		if (ioctl(sk, SIOCGIFFLAGS, &ifr)) {
			close(sk);
			return pr_perror("SIOCGIFFLAGS %s", name);
		}
		if (ifr.ifr_flags & IFF_RUNNING) {
			close(sk);
			return net_run("ip link set %s up", name);
		}
		usleep(10000);
	}
	close(sk);
	pr_err("%s does not run after 10 s\n", name);
	return -1;
}

struct net_link {
	int index, flags, mtu, link, master, txqlen, type;
	unsigned char mac[32];
	int maclen;
	char kind[32];
};

/* The link named @name, by RTM_GETLINK; -1 (errno ENODEV) when there is none. */
static inline int net_link_get(const char *name, struct net_link *l)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
		char attrs[64];
	} req;
	static char buf[16384];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nlmsghdr *h;
	struct rtattr *rta, *info;
	int sk, n, len, ret = -1;

	memset(&req, 0, sizeof(req));
	memset(l, 0, sizeof(*l));
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.h.nlmsg_seq = 1;
	req.i.ifi_family = AF_UNSPEC;
	rta = (struct rtattr *)req.attrs;
	rta->rta_type = IFLA_IFNAME;
	rta->rta_len = RTA_LENGTH(strlen(name) + 1);
	strcpy(RTA_DATA(rta), name);
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.i)) + RTA_ALIGN(rta->rta_len);

	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (sk < 0)
		return pr_perror("socket(NETLINK_ROUTE)");
	if (sendto(sk, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		pr_perror("RTM_GETLINK %s", name);
		goto out;
	}
	n = recv(sk, buf, sizeof(buf), 0);
	if (n < 0) {
		pr_perror("recv RTM_GETLINK");
		goto out;
	}
	h = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(h, n))
		goto out;
	if (h->nlmsg_type == NLMSG_ERROR) {
		errno = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
		goto out;
	}
	l->index = ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
	l->flags = ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_flags;
	l->type = ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_type;
	len = IFLA_PAYLOAD(h);
	for (rta = IFLA_RTA(NLMSG_DATA(h)); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		switch (rta->rta_type) {
		case IFLA_MTU:
			l->mtu = *(int *)RTA_DATA(rta);
			break;
		case IFLA_LINK:
			l->link = *(int *)RTA_DATA(rta);
			break;
		case IFLA_MASTER:
			l->master = *(int *)RTA_DATA(rta);
			break;
		case IFLA_TXQLEN:
			l->txqlen = *(int *)RTA_DATA(rta);
			break;
		case IFLA_ADDRESS:
			l->maclen = RTA_PAYLOAD(rta) < sizeof(l->mac) ? RTA_PAYLOAD(rta) : sizeof(l->mac);
			memcpy(l->mac, RTA_DATA(rta), l->maclen);
			break;
		case IFLA_LINKINFO: {
			int ilen = RTA_PAYLOAD(rta);

			for (info = RTA_DATA(rta); RTA_OK(info, ilen); info = RTA_NEXT(info, ilen))
				if (info->rta_type == IFLA_INFO_KIND)
					snprintf(l->kind, sizeof(l->kind), "%s", (char *)RTA_DATA(info));
			break;
		}
		}
	}
	ret = 0;
out:
	close(sk);
	return ret;
}

static inline const char *net_mac_str(const unsigned char *mac, int len)
{
	static char s[3 * 32];
	int i;

	s[0] = 0;
	for (i = 0; i < len && i < 32; i++)
		sprintf(s + 3 * i, "%02x:", mac[i]);
	if (len)
		s[3 * len - 1] = 0;
	return s;
}

/* Whether the interface (or label) @ifname has @addr/@prefix (getifaddrs). */
static inline int net_has_addr(const char *ifname, int family, const char *addr, int prefix)
{
	struct ifaddrs *ifa, *a;
	char buf[INET6_ADDRSTRLEN];
	int found = 0;

	if (getifaddrs(&ifa))
		return pr_perror("getifaddrs");
	for (a = ifa; a; a = a->ifa_next) {
		int plen = 0;
		const unsigned char *m;
		size_t i, mlen;
		void *src;

		if (!a->ifa_addr || a->ifa_addr->sa_family != family || strcmp(a->ifa_name, ifname))
			continue;
		if (family == AF_INET) {
			src = &((struct sockaddr_in *)a->ifa_addr)->sin_addr;
			m = (unsigned char *)&((struct sockaddr_in *)a->ifa_netmask)->sin_addr;
			mlen = 4;
		} else {
			src = &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
			m = (unsigned char *)&((struct sockaddr_in6 *)a->ifa_netmask)->sin6_addr;
			mlen = 16;
		}
		for (i = 0; i < mlen; i++)
			plen += __builtin_popcount(m[i]);
		inet_ntop(family, src, buf, sizeof(buf));
		if (!strcmp(buf, addr) && plen == prefix)
			found = 1;
	}
	freeifaddrs(ifa);
	return found;
}

/* The flags (IFA_F_*) of an IPv6 address as /proc/net/if_inet6 shows them, or -1 if it is not there. */
static inline int net_inet6_flags(const char *ifname, const char *addr)
{
	char line[256], hex[33], dev[IFNAMSIZ + 1], want[33];
	unsigned idx, plen, scope, flags;
	struct in6_addr a;
	FILE *f;
	int i, ret = -1;

	if (inet_pton(AF_INET6, addr, &a) != 1)
		return -1;
	for (i = 0; i < 16; i++)
		sprintf(want + 2 * i, "%02x", a.s6_addr[i]);
	f = fopen("/proc/net/if_inet6", "r");
	if (!f)
		return pr_perror("/proc/net/if_inet6");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%32s %x %x %x %x %16s", hex, &idx, &plen, &scope, &flags, dev) == 6 &&
		    !strcmp(hex, want) && !strcmp(dev, ifname))
			ret = flags;
	fclose(f);
	return ret;
}

/*
 * Whether /proc/net/route has @dst/@mask via @gw (0.0.0.0: none) on @ifname with @metric (-1: any); all
 * in dotted form.
 */
static inline int net_has_route4(const char *ifname, const char *dst, const char *mask, const char *gw, int metric)
{
	char line[512], dev[IFNAMSIZ + 1];
	unsigned d, g, fl, ref, use, met, m;
	struct in_addr wd, wm, wg;
	int found = 0;
	FILE *f;

	inet_pton(AF_INET, dst, &wd);
	inet_pton(AF_INET, mask, &wm);
	inet_pton(AF_INET, gw, &wg);
	f = fopen("/proc/net/route", "r");
	if (!f)
		return pr_perror("/proc/net/route");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%16s %x %x %x %u %u %u %x", dev, &d, &g, &fl, &ref, &use, &met, &m) == 8 &&
		    !strcmp(dev, ifname) && d == wd.s_addr && m == wm.s_addr && g == wg.s_addr &&
		    (metric < 0 || (unsigned)metric == met))
			found = 1;
	fclose(f);
	return found;
}

/* Whether /proc/net/ipv6_route has @dst/@plen via @gw ("::": none) on @ifname. */
static inline int net_has_route6(const char *ifname, const char *dst, int plen, const char *gw)
{
	char line[512], d[33], s[33], g[33], dev[IFNAMSIZ + 1], wd[33], wg[33];
	unsigned dl, sl, met, ref, use, fl;
	struct in6_addr a;
	int i, found = 0;
	FILE *f;

	inet_pton(AF_INET6, dst, &a);
	for (i = 0; i < 16; i++)
		sprintf(wd + 2 * i, "%02x", a.s6_addr[i]);
	inet_pton(AF_INET6, gw, &a);
	for (i = 0; i < 16; i++)
		sprintf(wg + 2 * i, "%02x", a.s6_addr[i]);
	f = fopen("/proc/net/ipv6_route", "r");
	if (!f)
		return pr_perror("/proc/net/ipv6_route");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%32s %x %32s %x %32s %x %x %x %x %16s", d, &dl, s, &sl, g, &met, &ref, &use, &fl,
			   dev) == 10 &&
		    !strcmp(d, wd) && dl == (unsigned)plen && !strcmp(g, wg) && !strcmp(dev, ifname))
			found = 1;
	fclose(f);
	return found;
}

/*
 * A UDP datagram from @src to @dst:@port (IPv4 or IPv6 by the address's form): 1 if it arrived, 0 if it did
 * not within half a second, -1 on error.
 */
static inline int net_udp_ping(const char *src, const char *dst, int port)
{
	struct sockaddr_storage s = {}, d = {};
	int fam = strchr(dst, ':') ? AF_INET6 : AF_INET, rx, tx, ret = -1;
	socklen_t len = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	struct timeval tv = { .tv_usec = 500000 };
	char buf[16];

	if (fam == AF_INET) {
		((struct sockaddr_in *)&s)->sin_family = AF_INET;
		inet_pton(AF_INET, src, &((struct sockaddr_in *)&s)->sin_addr);
		((struct sockaddr_in *)&d)->sin_family = AF_INET;
		inet_pton(AF_INET, dst, &((struct sockaddr_in *)&d)->sin_addr);
		((struct sockaddr_in *)&d)->sin_port = htons(port);
	} else {
		((struct sockaddr_in6 *)&s)->sin6_family = AF_INET6;
		inet_pton(AF_INET6, src, &((struct sockaddr_in6 *)&s)->sin6_addr);
		((struct sockaddr_in6 *)&d)->sin6_family = AF_INET6;
		inet_pton(AF_INET6, dst, &((struct sockaddr_in6 *)&d)->sin6_addr);
		((struct sockaddr_in6 *)&d)->sin6_port = htons(port);
	}
	rx = socket(fam, SOCK_DGRAM, 0);
	tx = socket(fam, SOCK_DGRAM, 0);
	if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&d, len) || bind(tx, (struct sockaddr *)&s, len) ||
	    setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		pr_perror("UDP sockets %s -> %s:%d", src, dst, port);
		goto out;
	}
	if (sendto(tx, "ping", 4, 0, (struct sockaddr *)&d, len) != 4) {
		pr_perror("sendto %s:%d", dst, port);
		goto out;
	}
	ret = recv(rx, buf, sizeof(buf), 0) == 4 && !memcmp(buf, "ping", 4);
out:
	if (rx >= 0)
		close(rx);
	if (tx >= 0)
		close(tx);
	return ret;
}

#endif
