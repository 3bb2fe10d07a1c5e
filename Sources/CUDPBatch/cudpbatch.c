#define _GNU_SOURCE
#include "cudpbatch.h"
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct cudp_batch {
    unsigned slots, slot_size;
    uint8_t *memory;
    struct mmsghdr *in, *out;
    struct iovec *iov_in, *iov_out;
    struct sockaddr_storage *peers;
    unsigned *reply_len;
};

cudp_batch *cudp_batch_create(unsigned slots, unsigned slot_size) {
    cudp_batch *b = calloc(1, sizeof(*b));
    if (!b) return NULL;
    b->slots = slots;
    b->slot_size = slot_size;
    b->memory = calloc(slots, slot_size);
    b->in = calloc(slots, sizeof(struct mmsghdr));
    b->out = calloc(slots, sizeof(struct mmsghdr));
    b->iov_in = calloc(slots, sizeof(struct iovec));
    b->iov_out = calloc(slots, sizeof(struct iovec));
    b->peers = calloc(slots, sizeof(struct sockaddr_storage));
    b->reply_len = calloc(slots, sizeof(unsigned));
    if (!b->memory || !b->in || !b->out || !b->iov_in || !b->iov_out || !b->peers || !b->reply_len) {
        cudp_batch_destroy(b);
        return NULL;
    }
    return b;
}

void cudp_batch_destroy(cudp_batch *b) {
    if (!b) return;
    free(b->memory); free(b->in); free(b->out); free(b->iov_in); free(b->iov_out);
    free(b->peers); free(b->reply_len); free(b);
}

unsigned cudp_batch_slots(const cudp_batch *b) { return b->slots; }
unsigned cudp_batch_slot_size(const cudp_batch *b) { return b->slot_size; }

int cudp_batch_recv(cudp_batch *b, int fd) {
    for (unsigned i = 0; i < b->slots; i++) {
        b->iov_in[i].iov_base = b->memory + (size_t)i * b->slot_size;
        b->iov_in[i].iov_len = b->slot_size;
        memset(&b->in[i].msg_hdr, 0, sizeof(b->in[i].msg_hdr));
        b->in[i].msg_hdr.msg_iov = &b->iov_in[i];
        b->in[i].msg_hdr.msg_iovlen = 1;
        b->in[i].msg_hdr.msg_name = &b->peers[i];
        b->in[i].msg_hdr.msg_namelen = sizeof(b->peers[i]);
        b->reply_len[i] = 0;
    }
    /* Block for the first datagram, then take whatever else is queued. */
    int n = recvmmsg(fd, b->in, b->slots, MSG_WAITFORONE, NULL);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) {
        /* A datagram larger than the slot is truncated: report it as empty so it is dropped. */
        if (b->in[i].msg_hdr.msg_flags & MSG_TRUNC) b->in[i].msg_len = 0;
    }
    return n;
}

uint8_t *cudp_batch_buffer(cudp_batch *b, unsigned i) { return b->memory + (size_t)i * b->slot_size; }
unsigned cudp_batch_length(const cudp_batch *b, unsigned i) { return b->in[i].msg_len; }

int cudp_batch_peer(const cudp_batch *b, unsigned i, uint32_t *v4, uint8_t *v6, uint16_t *port) {
    const struct sockaddr_storage *ss = &b->peers[i];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        *v4 = ntohl(sin->sin_addr.s_addr);
        *port = ntohs(sin->sin_port);
        return 4;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        memcpy(v6, &sin6->sin6_addr, 16);
        *port = ntohs(sin6->sin6_port);
        return 6;
    }
    return 0;
}

void cudp_batch_set_reply(cudp_batch *b, unsigned i, unsigned length) { b->reply_len[i] = length; }

int cudp_batch_send(cudp_batch *b, int fd, unsigned received) {
    unsigned k = 0;
    for (unsigned i = 0; i < received; i++) {
        if (!b->reply_len[i]) continue;
        b->iov_out[k].iov_base = b->memory + (size_t)i * b->slot_size;
        b->iov_out[k].iov_len = b->reply_len[i];
        memset(&b->out[k].msg_hdr, 0, sizeof(b->out[k].msg_hdr));
        b->out[k].msg_hdr.msg_iov = &b->iov_out[k];
        b->out[k].msg_hdr.msg_iovlen = 1;
        b->out[k].msg_hdr.msg_name = &b->peers[i];
        b->out[k].msg_hdr.msg_namelen = b->in[i].msg_hdr.msg_namelen;
        k++;
    }
    unsigned sent = 0;
    while (sent < k) {
        int n = sendmmsg(fd, b->out + sent, k - sent, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            /* Skip the datagram that failed (e.g. unreachable peer) and go on with the rest. */
            if (errno == EAGAIN || errno == EWOULDBLOCK) return (int)sent;
            sent++;
            continue;
        }
        sent += (unsigned)n;
    }
    return (int)sent;
}

int cudp_open(const char *host, uint16_t port, int reuseport, int rcvtimeo_ms) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) return -EINVAL;
    int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) { int e = errno; freeaddrinfo(res); return -e; }
    int one = 1;
    if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (res->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    int bufsize = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
    if (rcvtimeo_ms > 0) {
        struct timeval tv = { rcvtimeo_ms / 1000, (rcvtimeo_ms % 1000) * 1000 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    if (res->ai_family == AF_INET) ((struct sockaddr_in *)res->ai_addr)->sin_port = htons(port);
    else ((struct sockaddr_in6 *)res->ai_addr)->sin6_port = htons(port);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
        int e = errno; close(fd); freeaddrinfo(res); return -e;
    }
    freeaddrinfo(res);
    return fd;
}

int cudp_bound_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -errno;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

void cudp_release_free_memory(void) { malloc_trim(0); }
