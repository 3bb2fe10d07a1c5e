#ifndef CUDPBATCH_H
#define CUDPBATCH_H
#include <stddef.h>
#include <stdint.h>

/// A preallocated batch of datagram slots for recvmmsg/sendmmsg. All memory is allocated once at
/// creation; the receive and send calls allocate nothing.
typedef struct cudp_batch cudp_batch;

cudp_batch *cudp_batch_create(unsigned slots, unsigned slot_size);
void cudp_batch_destroy(cudp_batch *b);
unsigned cudp_batch_slots(const cudp_batch *b);
unsigned cudp_batch_slot_size(const cudp_batch *b);
/// Receives up to `slots` datagrams (blocking for the first). Returns the count, or -errno.
int cudp_batch_recv(cudp_batch *b, int fd);
/// Buffer of slot i, its received length, and the peer address.
uint8_t *cudp_batch_buffer(cudp_batch *b, unsigned i);
unsigned cudp_batch_length(const cudp_batch *b, unsigned i);
/// Peer as an IPv4 (family 4, addr in host order in *v4) or IPv6 (family 6, 16 bytes to v6).
int cudp_batch_peer(const cudp_batch *b, unsigned i, uint32_t *v4, uint8_t *v6, uint16_t *port);
/// Marks slot i to be sent with `length` octets (0 = do not answer).
void cudp_batch_set_reply(cudp_batch *b, unsigned i, unsigned length);
/// Sends every marked reply of the last `received` slots. Returns the number sent or -errno.
int cudp_batch_send(cudp_batch *b, int fd, unsigned received);

/// Opens a UDP socket bound to host:port with SO_REUSEPORT (one per worker) and a receive
/// timeout so workers notice shutdown. Returns the fd or -errno. family: 4 or 6.
int cudp_open(const char *host, uint16_t port, int reuseport, int rcvtimeo_ms);
/// The port a socket is bound to (to report port 0 bindings).
int cudp_bound_port(int fd);
/// Returns freed heap memory to the system after a data load (glibc malloc_trim; malloc.h is
/// not in Swift's Glibc module, hence this shim).
void cudp_release_free_memory(void);
#endif
